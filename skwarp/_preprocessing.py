"""Panel conversion, validation and per-channel scaling shared by the estimators.

Everything here works on numpy; tensors are made by the training code.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

__all__ = ["MAX_SCALED", "SCALINGS", "ChannelScaler", "SeriesStandardiser", "hold_last",
           "panel_to_padded", "sliding_windows", "window_split"]

SCALINGS = ("standard", "minmax", None)
# Largest magnitude of a scaled input. The network is built for inputs of order
# one; its outputs grow like the square of the inputs (the root network multiplies
# state entries), so at 1e6 they reach 1e12 and float32 losses and gradients soon
# after leave the range where they mean anything.
MAX_SCALED = 1e6


def panel_to_padded(X, *, name: str = "X", allow_missing: bool = False
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Series of a panel as one padded float array and their lengths.

    Parameters
    ----------
    X : np.ndarray of shape (n_instances, n_channels, n_timepoints), or a list of
        pd.DataFrame / 2D arrays of shape (n_timepoints_i, n_channels)
        sktime's ``numpy3D`` or ``df-list`` mtypes.
    name : str, default="X"
        Name of the input in error messages.
    allow_missing : bool, default=False
        Keep NaN (and None) as NaN instead of raising. Trailing steps where
        every channel is missing are padding: the series ends before them, so a
        NaN-padded panel means the same as its unequal-length form.

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
        series = [np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x) for x in X]
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
    if np.isinf(values).any():
        raise ValueError(f"{name} contains infinite values")
    if np.isnan(values).any():
        if not allow_missing:
            raise ValueError(f"{name} contains NaN; missing values are not supported, "
                             "impute them first (e.g. with sktime's Imputer)")
        lengths = _observed_lengths(values, lengths, name)
    return values, lengths


def _as_float(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as float64; booleans and integers are numbers, strings are not
    (even numeric-looking ones), None and pd.NA in object arrays are NaN."""
    kind = values.dtype.kind
    if kind in "biuf":
        return values.astype(np.float64, copy=False)
    if kind == "O":
        flat = values.ravel()
        bad = [v for v in flat if not (isinstance(v, numbers.Real) or v is None
                                       or v is pd.NA)]
        if not bad:
            return np.array([np.nan if v is None or v is pd.NA else float(v) for v in flat],
                            dtype=np.float64).reshape(values.shape)
        kind = f"{type(bad[0]).__name__} values"
    else:
        kind = {"U": "strings", "S": "bytes", "c": "complex numbers", "M": "datetimes",
                "m": "time deltas"}.get(kind, f"values of dtype {values.dtype}")
    raise TypeError(f"{name} must hold real numbers, got {kind}")


def _observed_lengths(values: np.ndarray, lengths: np.ndarray, name: str) -> np.ndarray:
    """Each series' length without its trailing all-missing steps."""
    steps = np.arange(values.shape[1])
    observed = ~np.isnan(values).all(axis=2) & (steps < lengths[:, None])
    empty = np.flatnonzero(~observed.any(axis=1))
    if len(empty):
        raise ValueError(f"series {empty[:5].tolist()} of {name} have no observed value "
                         "(every value is missing)")
    last = values.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    values[steps >= last[:, None] + 1] = 0.0  # now padding
    return (last + 1).astype(np.int64)


def hold_last(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Fill NaN inside each series in place: with the last observed value of
    its channel, before the first observation with the first one, and with 0
    where a channel of a series is never observed.

    Held values repeat, so the input differences that drive the recurrence
    are zero over a gap. ``values`` (N, T, d) has padding after ``lengths``.
    """
    missing = np.isnan(values)
    if not missing.any():
        return values
    steps = np.arange(values.shape[1])[None, :, None]
    seen = np.where(missing, -1, steps)
    last_seen = np.maximum.accumulate(seen, axis=1)
    first_seen = np.where(missing, values.shape[1], steps)
    first_seen = np.minimum.accumulate(first_seen[:, ::-1], axis=1)[:, ::-1]
    source = np.where(last_seen >= 0, last_seen, first_seen)
    never = source >= values.shape[1]
    filled = np.take_along_axis(values, np.where(never, 0, source), axis=1)
    values[:] = np.where(never, 0.0, filled)
    values[np.arange(values.shape[1])[None, :] >= lengths[:, None]] = 0.0
    return values


class ChannelScaler:
    """Per-channel affine scaling learned on the valid steps of a padded panel.

    ``"standard"``: zero mean, unit variance; ``"minmax"``: range [-1, 1];
    ``None``: identity. Constant channels are centred and left unscaled.
    Missing values (NaN) are ignored when fitting and held over by
    :meth:`transform`. Statistics are computed in units of each channel's
    largest magnitude, so values up to the float64 limit do not overflow.
    """

    def __init__(self, method: str | None = "standard") -> None:
        self.method = method

    def fit(self, values: np.ndarray, lengths: np.ndarray, name: str = "X") -> ChannelScaler:
        n_channels = values.shape[2]
        valid = values[np.arange(values.shape[1]) < lengths[:, None]]  # (steps, d)
        unobserved = np.flatnonzero(np.isnan(valid).all(axis=0))
        if len(unobserved):
            raise ValueError(f"channels {unobserved.tolist()} of {name} have no observed "
                             "value in the training series")
        if self.method is None:
            self.offset_, self.scale_ = np.zeros(n_channels), np.ones(n_channels)
        elif self.method == "standard":
            unit = np.nanmax(np.abs(valid), axis=0)
            unit = np.where(unit > 0, unit, 1.0)
            self.offset_ = np.nanmean(valid / unit, axis=0) * unit
            self.scale_ = np.nanstd(valid / unit, axis=0) * unit
        else:
            low, high = np.nanmin(valid, axis=0), np.nanmax(valid, axis=0)
            self.offset_, self.scale_ = high / 2 + low / 2, high / 2 - low / 2
        constant = self.scale_ <= 1e-12 * np.maximum(np.abs(self.offset_), 1.0)
        self.scale_ = np.where(constant, 1.0, self.scale_)
        return self

    def extended(self, n_channels: int) -> ChannelScaler:
        """This scaler with ``n_channels`` more channels, passed unscaled."""
        self.offset_ = np.concatenate((self.offset_, np.zeros(n_channels)))
        self.scale_ = np.concatenate((self.scale_, np.ones(n_channels)))
        return self

    def transform(self, values: np.ndarray, lengths: np.ndarray, name: str = "X"
                  ) -> np.ndarray:
        """Scaled float32 values, padding zero and gaps filled by :func:`hold_last`.

        Raises a ValueError for values more than ``MAX_SCALED`` scaled units
        from the centre: the network works in float32 and such inputs (raw
        values with ``scaling=None``, or far outside the training range) would
        overflow it.
        """
        scaled = (values - self.offset_) / self.scale_
        scaled[np.arange(values.shape[1]) >= lengths[:, None]] = 0.0
        hold_last(scaled, lengths)
        largest = float(np.abs(scaled).max(initial=0.0))
        if largest > MAX_SCALED:
            advice = ("scale the data or use scaling='standard'" if self.method is None
                      else "these inputs lie far outside the range seen in fit")
            raise ValueError(f"{name} reaches {largest:.3g} after scaling (limit "
                             f"{MAX_SCALED:.0e}); {advice}")
        return scaled.astype(np.float32)


class SeriesStandardiser:
    """Each series standardised on its own, with its level and spread kept as
    extra channels.

    :meth:`transform` maps a padded panel (N, T, d) to (N, T, 3d): channel by
    channel, the series minus its mean over its observed steps, divided by its
    standard deviation there; then, constant over time, ``log(std / unit +
    LOG_FLOOR)`` and ``mean / unit`` minus their means over the training
    series (``centre_``), where ``unit`` is the channel's standard deviation
    over the training series. A constant series is 0 in its first block.
    Gaps are held (:func:`hold_last`) before the statistics are taken; a
    channel a series never observes is NaN, for :class:`ChannelScaler` to
    fill.

    The last 2d channels are in their own units and must not be rescaled to
    unit variance: where every series has nearly the same spread (data
    z-normalised per series), that would blow rounding noise up into a random
    constant per series, which a network memorises.

    Why: a network whose inputs share one scale sees a series of small
    amplitude as nearly constant when other series (other classes) are large;
    standardising each series shows every shape at the same scale, and the
    extra channels still tell the network the amplitude (in logs, so a 1,000x
    range is a few units).
    """

    LOG_FLOOR = 1e-3  # log spread of a constant series: log(1e-3), not -inf

    def fit(self, values: np.ndarray, lengths: np.ndarray) -> SeriesStandardiser:
        valid = values[np.arange(values.shape[1]) < lengths[:, None]]  # (steps, d)
        largest = np.nanmax(np.abs(valid), axis=0)
        largest = np.where(largest > 0, largest, 1.0)
        unit = np.nanstd(valid / largest, axis=0) * largest  # in units: no overflow
        self.unit_ = np.where(unit > 0, unit, largest)
        self.centre_ = np.zeros(2 * values.shape[2])
        statistics = self.transform(values, lengths)[:, 0, values.shape[2]:]
        self.centre_ = np.nanmean(statistics, axis=0)
        return self

    def transform(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        x = values / self.unit_
        inside = (np.arange(values.shape[1]) < lengths[:, None])[:, :, None]
        never = ~(inside & ~np.isnan(x)).any(axis=1)  # (N, d): NaN below, held later
        # statistics of the series as the network sees it, its gaps held: a
        # series with gaps means the same as the one with the values held
        x = hold_last(x.copy(), lengths)
        count = inside.sum(axis=1)
        mean = np.where(inside, x, 0.0).sum(axis=1) / count
        spread = np.sqrt((np.where(inside, x - mean[:, None], 0.0) ** 2).sum(axis=1) / count)
        mean, spread = np.where(never, np.nan, mean), np.where(never, np.nan, spread)
        z = (x - mean[:, None]) / np.where(spread > 1e-12, spread, 1.0)[:, None]
        statistics = np.concatenate((np.log(spread + self.LOG_FLOOR), mean), axis=1)
        statistics = (statistics - self.centre_)[:, None]
        return np.concatenate((z, np.broadcast_to(statistics, z.shape[:2] + (2 * z.shape[2],))),
                              axis=2)


def window_split(lengths: np.ndarray, window: int, validation_fraction: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Which windows of :func:`sliding_windows` validate: the last
    ``validation_fraction`` of each series' windows. Returns the indices of the
    training and (or None) validation windows, and how many leading steps of
    each series the training windows cover (what scaling may be learned on)."""
    is_val, covered = [], []
    for length in lengths:
        n_windows = int(length) - window + 1
        n_val = int(round(validation_fraction * n_windows))
        is_val.append(np.arange(n_windows) >= n_windows - n_val)
        covered.append(0 if n_val == n_windows else n_windows - n_val - 1 + window)
    is_val = np.concatenate(is_val)
    if is_val.all():
        raise ValueError("validation_fraction leaves no training window")
    val_idx = np.flatnonzero(is_val) if is_val.any() else None
    return np.flatnonzero(~is_val), val_idx, np.array(covered)


def sliding_windows(values: np.ndarray, lengths: np.ndarray, window: int) -> np.ndarray:
    """Every window of ``window`` consecutive steps of each series, series by
    series: (n_windows, window, d)."""
    views = [np.lib.stride_tricks.sliding_window_view(series[:length], window, axis=0)
             for series, length in zip(values, lengths, strict=True)]
    return np.concatenate(views).transpose(0, 2, 1)


def context_windows(values: np.ndarray, lengths: np.ndarray, context: int, horizon: int,
                    min_context: int, validation_fraction: float = 0.0,
                    recent: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Training windows of up to ``context`` steps followed by ``horizon``
    targets, one per cut point of each series, for a model that decodes the
    horizon from the context's last state.

    A cut point ``c`` (the first target step) runs from ``min_context`` to
    ``length - horizon``; its context is the ``min(c, context)`` steps before
    it, so series shorter than ``context + horizon`` still give windows, with
    shorter contexts (N-BEATS pads the same way). Each window is laid out as
    ``(context + horizon, d)``: the context left-aligned in the first
    ``context`` rows, its last value repeated over the rows it leaves empty
    (masked by the context lengths: never a state's input), then the
    targets. ``recent``: only each series' last ``recent`` cut points. The
    last ``validation_fraction`` of each series' cut points validate.

    Returns
    -------
    windows : ndarray (n_windows, context + horizon, d)
    context_lengths : ndarray (n_windows,) of int64
    train_idx, val_idx : index arrays of the training and (or None)
        validation windows.
    """
    d = values.shape[2]
    chunks, context_lengths, is_val = [], [], []
    for series, length in zip(values, lengths, strict=True):
        cuts = np.arange(min_context, int(length) - horizon + 1)
        if recent is not None:
            cuts = cuts[-recent:]
        if len(cuts) == 0:
            continue
        n_val = int(round(validation_fraction * len(cuts)))
        is_val.append(np.arange(len(cuts)) >= len(cuts) - n_val)
        n_context = np.minimum(cuts, context)
        starts = cuts - n_context
        # row r of a window: step start + min(r, n - 1) of the context, then targets
        rows = np.minimum(np.arange(context)[None, :], n_context[:, None] - 1)
        steps = np.concatenate((starts[:, None] + rows,
                                cuts[:, None] + np.arange(horizon)[None, :]), axis=1)
        chunks.append(series[steps])
        context_lengths.append(n_context)
    if not chunks:
        return (np.zeros((0, context + horizon, d), values.dtype), np.zeros(0, np.int64),
                np.zeros(0, np.int64), None)
    is_val = np.concatenate(is_val)
    val_idx = np.flatnonzero(is_val) if is_val.any() else None
    return (np.concatenate(chunks), np.concatenate(context_lengths).astype(np.int64),
            np.flatnonzero(~is_val), val_idx)
