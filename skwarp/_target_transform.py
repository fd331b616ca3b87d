"""Per-series target transforms of the forecaster: seasonal adjustment and logs.

A global model sees many series at once; what makes them alike is taken out
series by series before scaling and put back on the forecasts:

1. **Seasonal adjustment** (classical decomposition): where a series is
   seasonal at period ``sp`` (the autocorrelation test of the M4
   competition's benchmarks, at 90%), it is divided by (multiplicative, for
   positive series) or has subtracted (additive) the mean seasonal profile
   of its detrended values, so the network models trend and noise only.
2. **Logs**: positive series are modelled in logs, so that growth is
   additive and the spread scales with the level.

Forecasts invert both (``exp``, then the seasonal profile at each future
step's phase); both are monotone, so quantiles map to quantiles. Everything
here is numpy; the estimator decides which series get which transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SEASONALITIES", "TRANSFORMS", "SeriesTransform", "is_seasonal",
           "seasonal_period_of", "seasonal_profile"]

SEASONALITIES = ("auto", "multiplicative", "additive", None)
TRANSFORMS = ("auto", "log", None)

# seasonal periods of pandas frequencies (the prefix of the frequency string)
_PERIODS = {"Q": 4, "BQ": 4, "QS": 4, "BQS": 4, "M": 12, "MS": 12, "ME": 12, "BM": 12,
            "BMS": 12, "BME": 12, "W": 52, "D": 7, "B": 5, "H": 24, "h": 24}
_TCRIT = 1.645  # the two-sided 90% normal quantile of the autocorrelation test


def seasonal_period_of(index: pd.Index) -> int | None:
    """The seasonal period a time index implies (12 for monthly, 4 for
    quarterly, 7 for daily, 24 for hourly, 52 for weekly, 5 for business
    days), or None where it implies none (yearly, integer or irregular)."""
    if isinstance(index, pd.MultiIndex):
        index = index.get_level_values(-1)
    freq = getattr(index, "freqstr", None)
    if freq is None and isinstance(index, pd.DatetimeIndex) and len(index) >= 3:
        freq = pd.infer_freq(index)
    if freq is None:
        return None
    prefix = freq.split("-")[0].lstrip("0123456789")
    return _PERIODS.get(prefix)


def is_seasonal(x: np.ndarray, sp: int) -> bool:
    """The 90% autocorrelation test at lag ``sp`` of the M4 benchmarks (as
    sktime's ``ConditionalDeseasonalizer``): False for series shorter than
    ``3 * sp`` or constant ones."""
    n = len(x)
    if sp < 2 or n < 3 * sp:
        return False
    centred = x - x.mean()
    denominator = float(centred @ centred)
    if denominator <= 0:
        return False
    acf = np.array([centred[:n - k] @ centred[k:] for k in range(sp + 1)]) / denominator
    limit = _TCRIT / np.sqrt(n) * np.sqrt(1 + 2 * np.sum(acf[1:sp] ** 2))
    return bool(abs(acf[sp]) > limit)


def seasonal_profile(x: np.ndarray, sp: int, multiplicative: bool) -> np.ndarray:
    """The mean seasonal profile (sp,) of ``x`` by classical decomposition:
    a centred moving average of length ``sp`` as the trend, the mean
    detrended value at each phase (0 = the series' first step), normalised
    to mean 1 (multiplicative) or 0 (additive)."""
    weights = np.full(sp + 1 - sp % 2, 1.0 / sp)
    if sp % 2 == 0:
        weights[[0, -1]] = 0.5 / sp
    trend = np.convolve(x, weights, mode="valid")
    start = len(weights) // 2
    part = x[start:start + len(trend)]
    detrended = part / trend if multiplicative else part - trend
    phases = (np.arange(len(detrended)) + start) % sp
    profile = np.array([detrended[phases == p].mean() for p in range(sp)])
    return profile / profile.mean() if multiplicative else profile - profile.mean()


@dataclass
class SeriesTransform:
    """The transform of one series: per target column, a seasonal profile
    (``None`` if not adjusted), whether it is multiplicative, and whether the
    column is modelled in logs. Phases count from the series' first step."""

    profiles: list[np.ndarray | None]
    multiplicative: list[bool]
    logs: list[bool]

    @classmethod
    def fit(cls, x: np.ndarray, sp: int | None, seasonality: str | None,
            transform: str | None) -> SeriesTransform:
        """Choose the transform of ``x`` (n_timepoints, n_targets)."""
        profiles, multiplicative, logs = [], [], []
        for column in x.T:
            positive = bool((column > 0).all())
            mult = seasonality == "multiplicative" or (seasonality == "auto" and positive)
            adjust = sp is not None and sp >= 2 and len(column) >= 2 * sp + 1 and (
                seasonality in ("multiplicative", "additive")
                or (seasonality == "auto" and is_seasonal(column, sp)))
            profile = seasonal_profile(column, sp, mult) if adjust else None
            if profile is not None and mult and not (positive and (profile > 0).all()):
                raise ValueError("multiplicative seasonal adjustment needs positive "
                                 "series; use seasonality='additive' or 'auto'")
            profiles.append(profile)
            multiplicative.append(mult)
            logs.append(transform == "log" or (transform == "auto" and positive))
        if transform == "log" and not all(bool((c > 0).all()) for c in x.T):
            raise ValueError("transform='log' needs positive series; use "
                             "transform='auto' (logs where a series is positive) or None")
        return cls(profiles, multiplicative, logs)

    def forward(self, x: np.ndarray, first: int) -> np.ndarray:
        """``x`` (n, n_targets), whose first row is step ``first`` of the
        series, in the model's units."""
        out = np.array(x, dtype=np.float64, copy=True)
        for c in range(out.shape[1]):
            column = out[:, c]
            if self.profiles[c] is not None:
                season = self._season(c, first, len(column))
                column = column / season if self.multiplicative[c] else column - season
            if self.logs[c]:
                if (column <= 0).any():
                    raise ValueError("a series modelled in logs (positive in fit) has a "
                                     "value <= 0; fit with transform=None for such data")
                column = np.log(column)
            out[:, c] = column
        return out

    def inverse(self, z: np.ndarray, first: int) -> np.ndarray:
        """Model units back to the data's: ``z`` (..., n, n_targets), whose
        step axis starts at step ``first`` of the series."""
        out = np.array(z, dtype=np.float64, copy=True)
        for c in range(out.shape[-1]):
            column = out[..., c]
            if self.logs[c]:
                # far outside the data's range exp overflows to inf, which the
                # estimator reports; within it, the largest float is no bound
                with np.errstate(over="ignore"):
                    column = np.exp(column)
            if self.profiles[c] is not None:
                season = self._season(c, first, column.shape[-1])
                column = column * season if self.multiplicative[c] else column + season
            out[..., c] = column
        return out

    def inverse_var(self, mean: np.ndarray, std: np.ndarray, first: int) -> np.ndarray:
        """Variance in the data's units of Gaussians ``mean``, ``std`` (n,
        n_targets) in model units whose step axis starts at step ``first``:
        log-normal where a column is in logs, times the squared seasonal
        factor where it is adjusted multiplicatively."""
        variance = np.array(std, dtype=np.float64) ** 2
        for c in range(variance.shape[-1]):
            if self.logs[c]:
                with np.errstate(over="ignore"):
                    variance[:, c] = np.expm1(variance[:, c]) * np.exp(
                        2 * mean[:, c] + variance[:, c])
            if self.profiles[c] is not None and self.multiplicative[c]:
                variance[:, c] *= self._season(c, first, len(variance)) ** 2
        return variance

    def _season(self, column: int, first: int, n: int) -> np.ndarray:
        profile = self.profiles[column]
        return profile[(first + np.arange(n)) % len(profile)]
