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
step's phase); both are monotone, so quantiles map to quantiles. The period
comes from the time index's frequency (:func:`seasonal_period_of`), or, for an
index with none, from the data (:func:`estimate_period`). Everything but the
reading of pandas indices and offsets is numpy; the estimator decides which
series get which transform.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from skwarp._frames import frame_to_padded
from skwarp.exceptions import SeasonalPeriodWarning

__all__ = ["CANDIDATE_PERIODS", "SEASONALITIES", "TRANSFORMS", "SeriesTransform",
           "auto_seasonal_period", "estimate_panel_period", "estimate_period",
           "index_frequency", "is_seasonal", "period_of_offset", "seasonal_period_of",
           "seasonal_profile"]

SEASONALITIES = ("auto", "multiplicative", "additive", None)
TRANSFORMS = ("auto", "log", None)
CANDIDATE_PERIODS = (4, 5, 7, 12, 24, 52)

# the seasonal period of one step of each pandas offset class (subclasses
# included, e.g. CustomBusinessDay is a BusinessDay): a year for calendar
# steps of a quarter to a week, a week for days, a day for hours
_OFFSET_PERIODS = (
    ((pd.offsets.QuarterEnd, pd.offsets.QuarterBegin, pd.offsets.BQuarterEnd,
      pd.offsets.BQuarterBegin, pd.offsets.FY5253Quarter), 4),
    ((pd.offsets.MonthEnd, pd.offsets.MonthBegin, pd.offsets.BusinessMonthEnd,
      pd.offsets.BusinessMonthBegin, pd.offsets.CustomBusinessMonthEnd,
      pd.offsets.CustomBusinessMonthBegin, pd.offsets.WeekOfMonth,
      pd.offsets.LastWeekOfMonth), 12),
    ((pd.offsets.SemiMonthEnd, pd.offsets.SemiMonthBegin), 24),
    ((pd.offsets.Week,), 52),
    ((pd.offsets.BusinessDay,), 5),
    ((pd.offsets.Day,), 7),
    ((pd.offsets.Hour,), 24),
)
_TCRIT = 1.645  # the two-sided 90% normal quantile of the autocorrelation test


def period_of_offset(offset) -> int | None:
    """The seasonal period of a pandas frequency: an offset or an alias.

    Rules:

    - one step of a quarterly offset (``Q``, ``QE``, ``QS``, ``BQ``, ``BQE``,
      ``BQS``, any anchor such as ``-DEC`` or ``-JAN``) gives 4; of a monthly
      one (``M``, ``ME``, ``MS``, ``BM``, ``BME``, ``BMS``, ``CBME``,
      ``CBMS``, ``WOM-*``) 12; of a semi-monthly one (``SM``, ``SME``,
      ``SMS``) 24, two steps a month over a year; of a weekly one (``W``,
      ``W-SUN``, ``W-MON``, ...) 52; daily (``D``) 7; business daily (``B``,
      ``C``) 5; hourly (``h``, ``H``) 24.
    - ``n`` steps of such an offset give that period divided by ``n`` where
      ``n`` divides it (``2h``: 12, ``3ME``: 4), else None (``5h``).
    - A period below 2, and every other frequency (yearly, business hours,
      minutes and finer, ...), give None.

    Offsets are recognised by class, not by their string, so aliases read
    the same in every pandas version that accepts them.

    Parameters
    ----------
    offset : pandas.DateOffset or str
        The frequency, e.g. ``index.freq`` or ``"QE-JAN"``.

    Returns
    -------
    int or None
        Steps per season, or None where the frequency implies no season.
    """
    offset = to_offset(offset)
    base = next((period for classes, period in _OFFSET_PERIODS
                 if isinstance(offset, classes)), None)
    n = abs(offset.n)
    if base is None or n == 0 or base % n:
        return None
    period = base // n
    return period if period >= 2 else None


def index_frequency(index: pd.Index):
    """The frequency of a time index, or None where it has none.

    Rules: a MultiIndex (a panel) is read at its last level, as the sorted
    union of its time points; a ``PeriodIndex``, and a ``DatetimeIndex`` or
    ``TimedeltaIndex`` with ``freq`` set, give their ``freq``; one without
    ``freq`` gives the frequency pandas infers from at least three regular
    time points. Integer and irregular indices give None.

    Parameters
    ----------
    index : pandas.Index
        The time index of a series, or the index of a panel.

    Returns
    -------
    pandas.DateOffset or None
    """
    if isinstance(index, pd.MultiIndex):
        index = index.get_level_values(-1).unique().sort_values()
    freq = getattr(index, "freq", None)
    if freq is None and isinstance(index, pd.DatetimeIndex | pd.TimedeltaIndex) \
            and len(index) >= 3:
        freq = pd.infer_freq(index)
    return None if freq is None else to_offset(freq)


def seasonal_period_of(index: pd.Index) -> int | None:
    """The seasonal period a time index's frequency implies.

    The frequency as :func:`index_frequency` reads it, its period as
    :func:`period_of_offset` gives it: e.g. 12 for monthly, 4 for quarterly,
    7 for daily, 24 for hourly, 52 for weekly and 5 for business days; None
    for an index with no frequency (integer, irregular) or one that implies
    no season (yearly, or a multiple that does not divide the period).

    Parameters
    ----------
    index : pandas.Index
        The time index of a series, or the index of a panel.

    Returns
    -------
    int or None
    """
    offset = index_frequency(index)
    return None if offset is None else period_of_offset(offset)


def _autocorrelations(x: np.ndarray, max_lag: int) -> np.ndarray | None:
    """The sample autocorrelations of ``x`` at lags 0 to ``max_lag`` (the
    centred products summed over the overlap, over the sum of squares), or
    None for a constant ``x``."""
    centred = x - x.mean()
    denominator = float(centred @ centred)
    if denominator <= 0:
        return None
    spectrum = np.fft.rfft(centred, 2 * len(x))
    return np.fft.irfft(spectrum * spectrum.conj(), 2 * len(x))[:max_lag + 1] / denominator


def _acf_limit(acf: np.ndarray, n: int, sp: int, tcrit: float) -> float:
    """The test's bound on ``|acf[sp]|``: ``tcrit`` standard errors of
    Bartlett's formula for a series correlated up to lag ``sp - 1``."""
    return tcrit / np.sqrt(n) * np.sqrt(1 + 2 * np.sum(acf[1:sp] ** 2))


def is_seasonal(x: np.ndarray, sp: int) -> bool:
    """The 90% autocorrelation test at lag ``sp`` of the M4 benchmarks (as
    sktime's ``ConditionalDeseasonalizer``): False for series shorter than
    ``3 * sp`` or constant ones."""
    n = len(x)
    if sp < 2 or n < 3 * sp:
        return False
    acf = _autocorrelations(x, sp)
    return acf is not None and bool(abs(acf[sp]) > _acf_limit(acf, n, sp, _TCRIT))


def _moving_average(x: np.ndarray, sp: int) -> tuple[np.ndarray, int]:
    """The centred moving average of length ``sp`` (2 x ``sp`` for even
    ``sp``) of classical decomposition, and the step of ``x`` it starts at."""
    weights = np.full(sp + 1 - sp % 2, 1.0 / sp)
    if sp % 2 == 0:
        weights[[0, -1]] = 0.5 / sp
    return np.convolve(x, weights, mode="valid"), len(weights) // 2


def seasonal_profile(x: np.ndarray, sp: int, multiplicative: bool) -> np.ndarray:
    """The mean seasonal profile (sp,) of ``x`` by classical decomposition:
    a centred moving average of length ``sp`` as the trend, the mean
    detrended value at each phase (0 = the series' first step), normalised
    to mean 1 (multiplicative) or 0 (additive)."""
    trend, start = _moving_average(x, sp)
    part = x[start:start + len(trend)]
    detrended = part / trend if multiplicative else part - trend
    phases = (np.arange(len(detrended)) + start) % sp
    profile = np.array([detrended[phases == p].mean() for p in range(sp)])
    return profile / profile.mean() if multiplicative else profile - profile.mean()


def estimate_period(x: np.ndarray, candidates: Iterable[int] = CANDIDATE_PERIODS
                    ) -> int | None:
    """The seasonal period of a series, estimated from its values.

    Rules:

    - A candidate ``sp`` is tried on the series detrended by its centred
      moving average of length ``sp`` (the trend of classical decomposition,
      which also removes any season of period ``sp``): divided by it where
      the series is positive, less it otherwise, as :class:`SeriesTransform`
      adjusts. It is tried where that spans at least ``3 * sp`` steps, as
      :func:`is_seasonal` asks, and varies by more than rounding.
    - Each tried candidate takes :func:`is_seasonal`'s test on that
      detrended series, for positive autocorrelation only (a season repeats
      itself), with the bound for ``k`` tried candidates at the normal
      quantile ``1 - 0.05 / k`` (Bonferroni; 1.645 for one candidate, as
      :func:`is_seasonal`), so that a series with no season passes one of
      them no more often than :func:`is_seasonal`'s test at one lag does.
      The autocorrelation at ``sp`` must also exceed those at ``sp - 1``
      and ``sp + 1`` (a season peaks at its length; a smooth curve, whose
      autocorrelation falls with the lag, does not).
    - Of the candidates that pass, the one whose autocorrelation is the
      largest multiple of its bound is the period (the bound grows with the
      autocorrelation at shorter lags, so a season wins over its multiples);
      None where none passes.

    Parameters
    ----------
    x : numpy.ndarray
        One series, (n_timepoints,).
    candidates : iterable of int
        The periods to try, each at least 2.

    Returns
    -------
    int or None
    """
    x = np.asarray(x, dtype=np.float64)
    positive = bool((x > 0).all())
    # a residual at rounding level (of a straight line, or exponential growth
    # divided by its trend) has no season
    scale = 1.0 if positive else float(np.abs(x).max(initial=0.0))
    detrended = {}
    for sp in (sp for sp in candidates if 2 <= sp <= len(x)):
        trend, start = _moving_average(x, sp)
        part = x[start:start + len(trend)]
        z = part / trend - 1 if positive else part - trend
        if len(z) >= 3 * sp and np.std(z) > 1e-9 * scale:
            detrended[sp] = z
    tcrit = NormalDist().inv_cdf(1 - 0.05 / max(len(detrended), 1))
    best, best_ratio = None, 1.0  # a ratio above 1 passes the test
    for sp, z in detrended.items():
        acf = _autocorrelations(z, sp + 1)
        if acf is None or acf[sp] <= max(acf[sp - 1], acf[sp + 1]):
            continue
        ratio = acf[sp] / _acf_limit(acf, len(z), sp, tcrit)
        if ratio > best_ratio:
            best, best_ratio = sp, ratio
    return best


def estimate_panel_period(series: Iterable[np.ndarray],
                          candidates: Iterable[int] = CANDIDATE_PERIODS) -> int | None:
    """The seasonal period of a panel, by a vote of its series.

    Rules: each series gets :func:`estimate_period`'s estimate (None
    included); the period is the estimate most series give if at least half
    of all the series give it (the shorter period on a tie), else None. For
    one series this is that series' estimate.

    Parameters
    ----------
    series : iterable of numpy.ndarray
        The series, each (n_timepoints,), of any lengths.
    candidates : iterable of int
        The periods to try, each at least 2.

    Returns
    -------
    int or None
    """
    candidates = tuple(candidates)
    votes = [estimate_period(x, candidates) for x in series]
    counts = Counter(v for v in votes if v is not None)
    if not counts:
        return None
    period, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return period if 2 * count >= len(votes) else None


def auto_seasonal_period(y: pd.Series | pd.DataFrame) -> int | None:
    """The seasonal period ``seasonal_period="auto"`` gives ``y``.

    Rules: where ``y``'s time index has a frequency (:func:`index_frequency`),
    the period it implies (:func:`period_of_offset`; None for one that implies
    no season, such as yearly); where it has none (an integer or irregular
    index), the period :func:`estimate_panel_period` finds in the values of
    every target column of every series. Where that finds none, a
    :class:`~skwarp.exceptions.SeasonalPeriodWarning` says that no seasonal
    adjustment is used.

    Parameters
    ----------
    y : pandas.Series or pandas.DataFrame
        A series, or a panel with a MultiIndex whose last level is time.

    Returns
    -------
    int or None
    """
    offset = index_frequency(y.index)
    if offset is not None:
        return period_of_offset(offset)
    values, lengths, _ = frame_to_padded(y)
    period = estimate_panel_period(
        values[i, :n, c] for i, n in enumerate(lengths) for c in range(values.shape[2]))
    if period is None:
        warnings.warn(
            "seasonal_period='auto': the time index has no frequency, and the "
            "autocorrelation test finds none of the periods "
            f"{', '.join(map(str, CANDIDATE_PERIODS))} in y's values (for a panel: in "
            "at least half of its series), so no seasonal adjustment is used. Pass "
            "seasonal_period=<steps per season> to adjust, or seasonal_period=None to "
            "silence this warning.",
            SeasonalPeriodWarning, stacklevel=2)
    return period


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

    def data_map(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The monotone map :meth:`inverse` applies at ``steps``, as arrays.

        :meth:`inverse` takes logs back first, then the seasonal profile, so a
        model-unit value ``z`` of column ``c`` at step ``t`` becomes
        ``factor[t, c] * h(z) + shift[t, c]``, with ``h = exp`` where
        ``logs[c]``, else the identity; ``factor`` is the multiplicative
        seasonal factor (1 where there is none) and ``shift`` the additive
        seasonal term (0 where there is none). ``factor > 0``, so the map is
        increasing.

        Parameters
        ----------
        steps : numpy.ndarray of int, shape (n,)
            Steps of the series (0 is its first), e.g. ``n_seen + fh - 1``.

        Returns
        -------
        logs : numpy.ndarray of bool, shape (n_targets,)
        factor : numpy.ndarray, shape (n, n_targets)
        shift : numpy.ndarray, shape (n, n_targets)
        """
        steps = np.asarray(steps, dtype=np.int64)
        n_targets = len(self.logs)
        factor = np.ones((len(steps), n_targets))
        shift = np.zeros((len(steps), n_targets))
        for c, profile in enumerate(self.profiles):
            if profile is None:
                continue
            season = profile[steps % len(profile)]
            if self.multiplicative[c]:
                factor[:, c] = season
            else:
                shift[:, c] = season
        return np.array(self.logs, dtype=bool), factor, shift

    def _season(self, column: int, first: int, n: int) -> np.ndarray:
        profile = self.profiles[column]
        return profile[(first + np.arange(n)) % len(profile)]
