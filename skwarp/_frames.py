"""pandas series, panels and hierarchies to padded arrays and back.

The forecaster's data plumbing: grouping a ``pd-multiindex`` or hierarchical
frame into its series, aligning exogenous ``X`` with ``y``, cutting the
future exogenous values of each series, and writing forecasts as frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skwarp._preprocessing import panel_to_padded

__all__ = ["forecast_frame", "frame_to_padded", "future_exogenous", "n_columns",
           "targets_and_exogenous"]


def _groups(frame: pd.DataFrame) -> tuple[list, list[pd.DataFrame]]:
    """Instance keys and their sub-frames (one ``None`` key for a plain frame)."""
    if not isinstance(frame.index, pd.MultiIndex):
        return [None], [frame]
    levels = list(range(frame.index.nlevels - 1))
    # one level by its number: a one-item list makes pandas 2 warn (keys become tuples)
    groups = list(frame.groupby(level=levels[0] if len(levels) == 1 else levels, sort=False))
    return [key for key, _ in groups], [part for _, part in groups]


def frame_to_padded(data: pd.Series | pd.DataFrame, name: str = "y"
                    ) -> tuple[np.ndarray, np.ndarray, list]:
    """Padded values (n_series, max_len, d), lengths and instance keys."""
    if isinstance(data, pd.Series):
        data = data.to_frame()
    non_numeric = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
    if non_numeric:
        raise TypeError(f"{name} must be numeric; columns {non_numeric} are not")
    keys, frames = _groups(data)
    values, lengths = panel_to_padded([f.to_numpy(dtype=float) for f in frames], name=name)
    return values, lengths, keys


def targets_and_exogenous(y, X) -> tuple[np.ndarray, np.ndarray, list]:
    """``y``'s channels, then ``X``'s (when given), as one padded panel."""
    values, lengths, keys = frame_to_padded(y)
    if X is None:
        return values, lengths, keys
    exog, exog_lengths, exog_keys = frame_to_padded(X, name="X")
    if exog_keys != keys or not np.array_equal(exog_lengths, lengths):
        raise ValueError("X must have the same series and time points as y")
    return np.concatenate((values, exog), axis=2), lengths, keys


def n_columns(data) -> int:
    return 1 if isinstance(data, pd.Series) else data.shape[1]


def future_exogenous(X: pd.DataFrame, keys: list, cutoff, n_steps: int) -> np.ndarray:
    """``X``'s first ``n_steps`` rows after ``cutoff`` for each series in
    ``keys``: (n_series, n_steps, n_exog)."""
    groups = dict(zip(*_groups(X), strict=True))
    future = []
    for key in keys:
        frame = groups.get(key)
        rows = None if frame is None else \
            frame[frame.index.get_level_values(-1) > cutoff].sort_index()
        if rows is None or len(rows) < n_steps:
            raise ValueError(f"X must cover every step up to the horizon ({n_steps} "
                             "steps after the cutoff) for every series")
        future.append(rows.to_numpy(dtype=float)[:n_steps])
    return np.stack(future)


def forecast_frame(per_series: np.ndarray, times: pd.Index, keys: list, columns,
                   index_names: list) -> pd.DataFrame:
    """Rows ``times`` (per instance for panels) from (n_series, len(times), n_cols)."""
    if keys == [None]:
        return pd.DataFrame(per_series[0], index=times, columns=columns)
    keys = [k if isinstance(k, tuple) else (k,) for k in keys]
    index = pd.MultiIndex.from_tuples([(*k, t) for k in keys for t in times],
                                      names=index_names)
    return pd.DataFrame(per_series.reshape(-1, per_series.shape[-1]), index=index,
                        columns=columns)
