"""``seasonal_period="auto"``: the period of every pandas frequency alias, read
from PeriodIndex and DatetimeIndex alike, and for an index with no frequency
the period estimated from the data (``skwarp._target_transform``), alone and
inside WarpForecaster."""

import warnings

import numpy as np
import pandas as pd
import pytest

from skwarp import WarpForecaster
from skwarp._target_transform import (
    estimate_panel_period,
    estimate_period,
    index_frequency,
    period_of_offset,
    seasonal_period_of,
)
from skwarp.exceptions import SeasonalPeriodWarning

# aliases pandas 2.2 deprecated and pandas 3 refuses: tested where accepted
DEPRECATED = {"Q", "BQ", "M", "BM", "SM", "H", "Y"}

QUARTERLY = ["Q", "QE", "QS", "BQ", "BQE", "BQS", "Q-JAN", "QE-JAN", "QE-NOV", "QS-FEB",
             "QS-DEC", "BQ-MAR", "BQE-MAR", "BQS-JUN"]
MONTHLY = ["M", "ME", "MS", "BM", "BME", "BMS", "CBME", "CBMS", "WOM-1MON"]
SEMI_MONTHLY = ["SM", "SME", "SMS", "SMS-10"]
WEEKLY = ["W", "W-SUN", "W-MON", "W-WED", "W-SAT"]
DATE_ALIASES = (
    [(a, 4) for a in QUARTERLY] + [(a, 12) for a in MONTHLY]
    + [(a, 24) for a in SEMI_MONTHLY] + [(a, 52) for a in WEEKLY]
    + [("D", 7), ("B", 5), ("C", 5), ("h", 24), ("H", 24)]
    + [("Y", None), ("YE", None), ("YS-JUL", None), ("min", None), ("s", None), ("bh", None)])
# what pandas accepts as a period frequency (business days are deprecated there)
PERIOD_ALIASES = [("Q", 4), ("Q-JAN", 4), ("Q-NOV", 4), ("M", 12), ("W", 52),
                  ("W-SUN", 52), ("W-MON", 52), ("D", 7), ("h", 24), ("H", 24),
                  ("Y", None), ("min", None)]
MULTIPLES = [("2h", 12), ("3h", 8), ("6h", 4), ("5h", None), ("24h", None), ("3ME", 4),
             ("2MS", 6), ("5ME", None), ("12ME", None), ("2QE", 2), ("4QE", None),
             ("2W", 26), ("3W", None), ("2D", None), ("7D", None), ("2SMS", 12)]
PERIOD_MULTIPLES = [("2h", 12), ("5h", None), ("3M", 4), ("5M", None), ("2Q", 2)]


def build(make, alias: str, periods: int = 40) -> pd.Index:
    """``make("2000-01-01", periods, alias)``; a deprecated alias this pandas
    refuses skips the test, any other refusal fails it."""
    base = alias.split("-")[0].lstrip("0123456789")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return make("2000-01-01", periods=periods, freq=alias)
    except ValueError:
        if base in DEPRECATED:
            pytest.skip(f"this pandas refuses the deprecated alias {alias!r}")
        raise


# -- the period of a frequency ------------------------------------------------ #
@pytest.mark.parametrize(("alias", "expected"), DATE_ALIASES + MULTIPLES)
def test_a_datetime_index_gives_its_frequency_s_period(alias, expected):
    index = build(pd.date_range, alias)
    assert seasonal_period_of(index) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert period_of_offset(alias) == expected


@pytest.mark.parametrize(("alias", "expected"), PERIOD_ALIASES + PERIOD_MULTIPLES)
def test_a_period_index_gives_its_frequency_s_period(alias, expected):
    assert seasonal_period_of(build(pd.period_range, alias)) == expected


@pytest.mark.parametrize(("alias", "expected"), [
    ("QE-DEC", 4), ("QS-JAN", 4), ("BQE-MAR", 4), ("ME", 12), ("MS", 12), ("BMS", 12),
    ("W-MON", 52), ("D", 7), ("B", 5), ("h", 24), ("2h", 12), ("3ME", 4), ("YE", None)])
def test_a_datetime_index_without_freq_gives_the_inferred_frequency_s_period(alias, expected):
    index = pd.DatetimeIndex(list(pd.date_range("2000-01-01", periods=40, freq=alias)))
    assert index.freq is None
    assert seasonal_period_of(index) == expected


@pytest.mark.parametrize(("times", "expected"), [
    (pd.date_range("2000-01-01", periods=20, freq="QE-DEC"), 4),
    (pd.date_range("2000-01-01", periods=20, freq="h"), 24),
    (pd.period_range("2000-01", periods=20, freq="M"), 12),
    (pd.RangeIndex(20), None),
])
def test_a_panel_gives_the_period_of_its_time_level(times, expected):
    index = pd.MultiIndex.from_product([["a", "b"], times])
    assert seasonal_period_of(index) == expected


def test_a_panel_whose_series_start_apart_reads_the_union_of_their_times():
    months = pd.date_range("2000-01-01", periods=30, freq="MS")
    index = pd.MultiIndex.from_tuples([("a", t) for t in months[:20]]
                                      + [("b", t) for t in months[10:]])
    assert seasonal_period_of(index) == 12


@pytest.mark.parametrize("index", [
    pd.RangeIndex(40),
    pd.Index(np.arange(5, 45)),
    pd.DatetimeIndex(["2000-01-01", "2000-01-02", "2000-01-05", "2000-01-11"]),
])
def test_an_integer_or_irregular_index_has_no_frequency(index):
    assert index_frequency(index) is None
    assert seasonal_period_of(index) is None


# -- the period from the data ------------------------------------------------- #
def seasonal(n: int, period: int, seed: int, noise: float = 0.3) -> np.ndarray:
    """A sine of ``period`` steps, a linear trend and Gaussian noise."""
    t = np.arange(n)
    return (np.sin(2 * np.pi * t / period) + 0.05 * t
            + np.random.default_rng(seed).normal(0, noise, n))


@pytest.mark.parametrize("period", [4, 7, 12])
@pytest.mark.parametrize("seed", [0, 1])
def test_the_period_of_a_seasonal_series_is_estimated_from_its_values(period, seed):
    assert estimate_period(seasonal(120, period, seed)) == period


def test_a_multiplicative_season_on_exponential_growth_is_found():
    t = np.arange(120)
    x = np.exp(t / 40) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    x *= np.exp(np.random.default_rng(0).normal(0, 0.02, 120))
    assert estimate_period(x) == 12


@pytest.mark.parametrize("seed", range(5))
def test_white_noise_and_random_walks_have_no_period(seed):
    rng = np.random.default_rng(seed)
    assert estimate_period(rng.normal(size=120)) is None
    assert estimate_period(np.cumsum(rng.normal(size=120))) is None


@pytest.mark.parametrize("x", [
    np.arange(120.0), 1e10 + np.arange(120.0), np.exp(np.arange(120) / 20), np.ones(120),
    # smooth: the autocorrelation falls with the lag and peaks at no candidate
    np.sin(np.arange(120) / 6) + 0.01 * np.arange(120),
])
def test_a_line_exponential_growth_smooth_curve_or_constant_has_no_period(x):
    assert estimate_period(x) is None


@pytest.mark.parametrize("seed", [0, 1, 4])
def test_a_noisy_season_wins_over_its_multiple(seed):
    # 24 passes too and, for these draws, has the higher autocorrelation
    assert estimate_period(seasonal(400, 12, seed, noise=1.0)) == 12


def test_only_the_candidates_given_and_that_fit_the_series_are_tried():
    x = seasonal(120, 12, 0)
    assert estimate_period(x, candidates=(12,)) == 12
    assert estimate_period(x, candidates=(4, 5, 7)) is None
    assert estimate_period(x[:40]) is None  # too short for three seasons of 12
    assert estimate_period(np.array([1.0, 3.0, 2.0])) is None  # shorter than every candidate


def test_a_panel_takes_the_period_at_least_half_of_its_series_give():
    rng = np.random.default_rng(0)
    noise = [rng.normal(size=120) for _ in range(3)]
    assert estimate_panel_period([seasonal(120, 12, s) for s in range(3)] + noise[:1]) == 12
    assert estimate_panel_period([seasonal(120, 12, 0), seasonal(100, 12, 1)] + noise[:2]) == 12
    assert estimate_panel_period([seasonal(120, 12, 0)] + noise) is None
    assert estimate_panel_period(noise) is None


# -- inside the forecaster ---------------------------------------------------- #
FAST = {"n_epochs": 1, "epoch_size": 32, "root_width": 4, "device": "cpu", "random_state": 0}


def test_an_integer_indexed_seasonal_series_gets_the_estimated_period():
    y = pd.Series(100 + seasonal(120, 12, 0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeasonalPeriodWarning)
        forecaster = WarpForecaster(**FAST).fit(y)
    assert forecaster.seasonal_period_ == estimate_period(y.to_numpy()) == 12


def test_an_integer_indexed_panel_gets_the_period_its_series_share():
    index = pd.MultiIndex.from_product([["a", "b"], pd.RangeIndex(120)])
    y = pd.DataFrame({"y": np.concatenate([100 + seasonal(120, 4, s) for s in (0, 1)])},
                     index=index)
    assert WarpForecaster(**FAST).fit(y).seasonal_period_ == 4


def test_white_noise_on_an_integer_index_warns_that_nothing_is_adjusted():
    y = pd.Series(np.random.default_rng(0).normal(size=120))
    with pytest.warns(SeasonalPeriodWarning, match="no seasonal adjustment.*seasonal_period="):
        forecaster = WarpForecaster(**FAST).fit(y)
    assert forecaster.seasonal_period_ is None
    assert all(p is None for p in forecaster._transforms[None].profiles)


@pytest.mark.parametrize(("index", "params"), [
    (pd.period_range("1900", periods=120, freq="Y"), {}),  # a frequency with no season
    (pd.RangeIndex(120), {"seasonal_period": None}),
    (pd.RangeIndex(120), {"seasonal_period": 12}),
    (pd.RangeIndex(120), {"seasonality": None}),
])
def test_no_warning_where_the_index_or_the_user_settles_the_period(index, params):
    y = pd.Series(np.random.default_rng(0).normal(size=120), index=index)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SeasonalPeriodWarning)
        forecaster = WarpForecaster(**FAST, **params).fit(y)
    expected = params.get("seasonal_period") if params.get("seasonality", "auto") else None
    assert forecaster.seasonal_period_ == expected
