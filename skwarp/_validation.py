"""Checks of class labels, with errors that name the problem; the checks of
settings (:mod:`skwarp.core.checks`) are re-exported from here."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from skwarp.core.checks import check_bool, check_choice, check_int, check_real

__all__ = ["check_bool", "check_choice", "check_int", "check_labels", "check_real"]


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
