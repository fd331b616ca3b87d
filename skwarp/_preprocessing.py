"""Panel conversion, validation and per-channel scaling shared by the estimators.

Everything here works on numpy; tensors are made by the training code.
"""

from __future__ import annotations

import numpy as np

SCALINGS = ("standard", "minmax", None)


def panel_to_padded(X, *, name: str = "X") -> tuple[np.ndarray, np.ndarray]:
    """Series of a panel as one padded float array and their lengths.

    Parameters
    ----------
    X : np.ndarray of shape (n_instances, n_channels, n_timepoints), or a list of
        pd.DataFrame / 2D arrays of shape (n_timepoints_i, n_channels)
        sktime's ``numpy3D`` or ``df-list`` mtypes.

    Returns
    -------
    values : np.ndarray of shape (n_instances, max_length, n_channels), float64
        Series left-aligned, zeros after each series' end.
    lengths : np.ndarray of shape (n_instances,), int64
    """
    if isinstance(X, np.ndarray):
        if X.ndim != 3:
            raise ValueError(f"{name} must be 3D (instances, channels, time points), "
                             f"got an array with {X.ndim} dimensions")
        series = [np.asarray(x).T for x in X]
    elif isinstance(X, (list, tuple)):
        series = [np.asarray(getattr(x, "values", x)) for x in X]
    else:
        raise TypeError(f"{name} must be a 3D numpy array or a list of DataFrames, "
                        f"got {type(X).__name__}")
    if len(series) == 0:
        raise ValueError(f"{name} holds no series")
    n_channels = {s.shape[1] if s.ndim == 2 else -1 for s in series}
    if len(n_channels) != 1 or -1 in n_channels:
        raise ValueError(f"every series in {name} must have the same number of channels")
    lengths = np.array([s.shape[0] for s in series], dtype=np.int64)
    if lengths.min() == 0:
        raise ValueError(f"{name} holds a series with zero time points")
    values = np.zeros((len(series), lengths.max(), n_channels.pop()), dtype=np.float64)
    for i, s in enumerate(series):
        values[i, : len(s)] = _as_float(s, name)
    _check_finite(values, name)
    return values, lengths


def _as_float(values: np.ndarray, name: str) -> np.ndarray:
    if values.dtype.kind not in "biuf":
        try:
            return values.astype(np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must hold numbers, got values of dtype "
                            f"{values.dtype}") from None
    return values


def _check_finite(values: np.ndarray, name: str) -> None:
    if np.isnan(values).any():
        raise ValueError(f"{name} contains NaN; missing values are not supported, "
                         "impute them first (e.g. with sktime's Imputer)")
    if np.isinf(values).any():
        raise ValueError(f"{name} contains infinite values")


class ChannelScaler:
    """Per-channel affine scaling learned on the valid steps of a padded panel.

    ``"standard"``: zero mean, unit variance; ``"minmax"``: range [-1, 1];
    ``None``: identity. Constant channels are centred and left unscaled.
    """

    def __init__(self, method: str | None = "standard") -> None:
        if method not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}, got {method!r}")
        self.method = method

    def fit(self, values: np.ndarray, lengths: np.ndarray) -> ChannelScaler:
        n_channels = values.shape[2]
        valid = values[np.arange(values.shape[1]) < lengths[:, None]]  # (steps, d)
        if self.method is None:
            self.offset_, self.scale_ = np.zeros(n_channels), np.ones(n_channels)
        elif self.method == "standard":
            self.offset_, self.scale_ = valid.mean(0), valid.std(0)
        else:
            low, high = valid.min(0), valid.max(0)
            self.offset_, self.scale_ = (high + low) / 2, (high - low) / 2
        constant = self.scale_ <= 1e-12 * np.maximum(np.abs(self.offset_), 1.0)
        self.scale_ = np.where(constant, 1.0, self.scale_)
        return self

    def transform(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        scaled = (values - self.offset_) / self.scale_
        scaled[np.arange(values.shape[1]) >= lengths[:, None]] = 0.0
        return scaled.astype(np.float32)
