"""Hyper-parameter checks with errors that name the parameter."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection


def check_int(name: str, value, minimum: int) -> int:
    """An integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_real(name: str, value, minimum: float = 0.0, *, strict: bool = False,
               below: float | None = None, allow_none: bool = False) -> float | None:
    """A finite real number (not a bool) >= ``minimum`` (> when ``strict``),
    and < ``below`` when given; ``None`` passes when ``allow_none``."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and math.isfinite(value) and (value > minimum if strict else value >= minimum) \
        and (below is None or value < below)
    if not ok:
        bound = f"{'>' if strict else '>='} {minimum}"
        if below is not None:
            bound += f" and < {below}"
        none = "None or " if allow_none else ""
        raise ValueError(f"{name} must be {none}a finite number {bound}, got {value!r}")
    return float(value)


def check_choice(name: str, value, choices: Collection) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, numbers.Integral)) or value not in (0, 1):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)
