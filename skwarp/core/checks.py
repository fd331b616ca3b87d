"""Checks of settings, with errors that name the setting and the value.

Plain Python, shared by the core's :class:`~skwarp.core.spec.NetworkSpec`
and the estimators' hyper-parameters.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection
from dataclasses import dataclass

__all__ = ["Param", "bool_param", "check_bool", "check_choice", "check_int", "check_real",
           "choice_param", "int_param", "one_of", "real_param"]

Check = Callable[[str, object], None]


@dataclass(frozen=True)
class Param:
    """One setting: its type as documented, its check and its text."""

    kind: str
    check: Check
    doc: str = ""


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
    """``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_bool(name: str, value) -> bool:
    """True or False (or the integers 0 and 1)."""
    if not isinstance(value, (bool, numbers.Integral)) or value not in (0, 1):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def one_of(options: Collection) -> str:
    """The numpydoc type of a choice: ``{"a", "b", None}``."""
    return "{" + ", ".join(f'"{o}"' if isinstance(o, str) else repr(o) for o in options) + "}"


def choice_param(options: Collection, doc: str = "") -> Param:
    return Param(one_of(options), lambda name, value: check_choice(name, value, options), doc)


def int_param(minimum: int, doc: str = "") -> Param:
    return Param("int", lambda name, value: check_int(name, value, minimum), doc)


def bool_param(doc: str = "") -> Param:
    return Param("bool", check_bool, doc)


def real_param(doc: str = "", minimum: float = 0.0, **bounds) -> Param:
    kind = "float or None" if bounds.get("allow_none") else "float"
    return Param(kind, lambda name, value: check_real(name, value, minimum, **bounds), doc)
