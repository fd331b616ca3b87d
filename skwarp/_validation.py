"""Checks of hyper-parameters and labels, with errors that name the problem."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection

import numpy as np
import pandas as pd

from skwarp.exceptions import NonFiniteOutputError  # noqa: F401 - imported from here too


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


def check_labels(y):
    """Class labels ``y`` with one type and no missing values.

    Lists and tuples become numpy arrays (sktime wants arrays or pandas
    objects); numpy arrays, ``pd.Series`` and ``pd.DataFrame`` pass unchanged.

    Raises
    ------
    TypeError
        If the labels mix numbers and strings, or are neither.
    ValueError
        If a label is missing (None, NaN) or an infinite number.
    """
    if isinstance(y, (list, tuple)):
        _check_label_values(np.asarray(y, dtype=object).ravel())
        return np.asarray(y)
    if hasattr(y, "to_numpy"):  # pd.Series, pd.DataFrame
        values = y.to_numpy()
    elif isinstance(y, np.ndarray):
        values = y
    else:
        return y  # sktime names unsupported containers
    if values.ndim == 2:
        for column in values.T:
            _check_label_values(column)
    else:
        _check_label_values(values.ravel())
    return y


def _check_label_values(values: np.ndarray) -> None:
    if values.dtype.kind in "biu":
        return
    if values.dtype.kind == "f":
        if np.isnan(values).any():
            raise ValueError("y contains missing labels (NaN)")
        if np.isinf(values).any():
            raise ValueError("y contains infinite labels")
        return
    if values.dtype.kind in "US":
        return
    kinds = set()
    for value in values:
        kinds.add(_label_kind(value))
    if "missing" in kinds:
        raise ValueError("y contains missing labels (None or NaN)")
    if "other" in kinds:
        others = sorted({type(v).__name__ for v in values if _label_kind(v) == "other"})
        raise TypeError(f"class labels must be numbers or strings, got {others}")
    if len(kinds) > 1:
        raise TypeError("y mixes numbers and strings as class labels; use labels of "
                        "one type (for example all strings)")
    if kinds == {"number"} and not np.isfinite(values.astype(float)).all():
        raise ValueError("y contains infinite labels")


def _label_kind(value) -> str:
    if value is None or value is pd.NA:
        return "missing"
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, numbers.Real):  # includes bool and numpy numbers
        return "missing" if value != value else "number"  # NaN != NaN
    return "other"
