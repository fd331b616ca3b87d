"""The forecaster's per-series target transforms: seasonal adjustment and logs,
alone (``skwarp._target_transform``) and inside WarpForecaster."""

import numpy as np
import pandas as pd
import pytest
from _helpers import TINY_FORECASTER

from skwarp import WarpForecaster
from skwarp._target_transform import (
    SeriesTransform,
    is_seasonal,
    seasonal_period_of,
    seasonal_profile,
)

PROFILE = np.array([0.8, 0.9, 1.0, 1.1, 1.3, 1.2, 1.0, 0.9, 0.85, 0.95, 1.05, 0.95])
PROFILE = PROFILE / PROFILE.mean()
AUTO = {"seasonal_period": "auto", "seasonality": "auto", "transform": "auto"}


def seasonal_series(n: int, rng, multiplicative: bool = True, noise: float = 0.01):
    t = np.arange(n)
    trend = 100 + 0.5 * t
    if multiplicative:
        return trend * PROFILE[t % 12] * np.exp(rng.normal(0, noise, n))
    return trend + 10 * (PROFILE[t % 12] - 1) + rng.normal(0, noise, n)


@pytest.mark.parametrize("multiplicative", [True, False])
def test_the_seasonal_profile_of_a_trend_times_a_season_is_that_season(multiplicative):
    x = seasonal_series(120, np.random.default_rng(0), multiplicative, noise=0.0)
    profile = seasonal_profile(x, 12, multiplicative)
    expected = PROFILE if multiplicative else 10 * (PROFILE - 1)
    np.testing.assert_allclose(profile, expected, atol=1e-2 if multiplicative else 1e-9)


def test_the_seasonal_profile_counts_phases_from_the_series_start():
    x = seasonal_series(125, np.random.default_rng(0), noise=0.0)
    np.testing.assert_allclose(seasonal_profile(x[5:], 12, True), np.roll(PROFILE, -5),
                               atol=1e-2)


def test_the_seasonality_test_finds_seasons_and_not_noise():
    rng = np.random.default_rng(1)
    assert is_seasonal(seasonal_series(96, rng), 12)
    assert not is_seasonal(rng.normal(size=96), 12)
    assert not is_seasonal(seasonal_series(30, rng), 12)  # shorter than 3 seasons
    assert not is_seasonal(np.ones(96), 12)


@pytest.mark.parametrize(("index", "expected"), [
    (pd.period_range("2000-01", periods=30, freq="M"), 12),
    (pd.date_range("2000-01-01", periods=30, freq="MS"), 12),
    (pd.period_range("2000Q1", periods=30, freq="Q"), 4),
    (pd.date_range("2000-01-01", periods=30, freq="D"), 7),
    (pd.date_range("2000-01-01", periods=30, freq="h"), 24),
    (pd.period_range("2000", periods=30, freq="Y"), None),
    (pd.RangeIndex(30), None),
])
def test_the_seasonal_period_comes_from_the_index_frequency(index, expected):
    assert seasonal_period_of(index) == expected


def test_transform_and_inverse_are_each_others_inverse_at_any_phase():
    rng = np.random.default_rng(2)
    x = np.stack([seasonal_series(60, rng), rng.normal(size=60)], axis=1)
    transform = SeriesTransform.fit(x, 12, "auto", "auto")
    assert transform.profiles[0] is not None and transform.logs == [True, False]
    assert transform.profiles[1] is None  # noise is not seasonal
    z = transform.forward(x[17:], first=17)
    np.testing.assert_allclose(z[:, 0], np.log(x[17:, 0] / PROFILE[np.arange(17, 60) % 12]),
                               rtol=0.05)
    np.testing.assert_allclose(transform.inverse(z, first=17), x[17:])


@pytest.mark.parametrize("multiplicative", [True, False])
def test_the_data_map_is_the_inverse_as_factor_times_h_plus_shift(multiplicative):
    rng = np.random.default_rng(4)
    x = np.stack([seasonal_series(60, rng, multiplicative), rng.normal(size=60)], axis=1)
    # "auto": the seasonal positive column multiplicatively, the noise not at all
    transform = SeriesTransform.fit(x, 12, "auto" if multiplicative else "additive", "auto")
    z = rng.normal(size=(3, 9, 2))
    logs, factor, shift = transform.data_map(np.arange(65, 74))
    assert logs.tolist() == [True, False]
    assert (factor[:, 1] == 1).all() and (shift[:, 1] != 0).any() == (not multiplicative)
    h = np.where(logs, np.exp(z), z)
    np.testing.assert_allclose(factor * h + shift, transform.inverse(z, first=65), rtol=1e-14)
    # steps need not be consecutive: each is read at its own phase
    steps = np.array([60, 71, 84])
    _, factor_at, shift_at = transform.data_map(steps)
    np.testing.assert_array_equal(factor_at, transform.data_map(np.arange(60, 85))[1][steps - 60])
    np.testing.assert_array_equal(shift_at, transform.data_map(np.arange(60, 85))[2][steps - 60])


def test_the_variance_in_data_units_is_that_of_the_transformed_gaussian():
    rng = np.random.default_rng(3)
    x = seasonal_series(60, rng)[:, None]
    transform = SeriesTransform.fit(x, 12, "auto", "auto")
    mean, std = np.array([[4.6], [4.7]]), np.array([[0.1], [0.2]])
    draws = mean + std * rng.normal(size=(200_000, 2, 1))
    sampled = transform.inverse(draws, first=60).var(axis=0)
    np.testing.assert_allclose(transform.inverse_var(mean, std, first=60), sampled, rtol=0.02)


def test_log_and_multiplicative_adjustment_refuse_series_that_are_not_positive():
    x = np.linspace(-1, 1, 48)[:, None]
    with pytest.raises(ValueError, match="transform='log' needs positive"):
        SeriesTransform.fit(x, 12, None, "log")
    with pytest.raises(ValueError, match="multiplicative seasonal adjustment needs"):
        SeriesTransform.fit(x, 12, "multiplicative", None)
    assert SeriesTransform.fit(x, 12, "auto", "auto").logs == [False]


# -- inside the forecaster ---------------------------------------------------- #
def monthly(values, start="2000-01"):
    return pd.Series(values, index=pd.period_range(start, periods=len(values), freq="M"))


def test_the_forecaster_puts_the_season_back_on_its_forecasts():
    y = monthly(seasonal_series(96, np.random.default_rng(4)))
    forecaster = WarpForecaster(**{**TINY_FORECASTER, **AUTO}).fit(y)
    assert forecaster.seasonal_period_ == 12
    forecast = forecaster.predict(fh=np.arange(1, 13)).to_numpy()
    ratios = forecast / forecast.mean()
    phases = np.arange(96, 108) % 12
    # the forecast's shape over a year is the season's (the trend is small in a year)
    assert np.corrcoef(ratios, PROFILE[phases])[0, 1] > 0.9


def test_without_adjustment_a_tiny_network_misses_the_season():
    y = monthly(seasonal_series(96, np.random.default_rng(4)))
    forecast = WarpForecaster(**{**TINY_FORECASTER, "seasonality": None, "transform": None}
                              ).fit(y).predict(fh=np.arange(1, 13))
    ratios = forecast.to_numpy() / forecast.to_numpy().mean()
    assert np.corrcoef(ratios, PROFILE[np.arange(96, 108) % 12])[0, 1] < 0.9


@pytest.mark.parametrize("decoding", ["autoregressive", "direct"])
def test_log_forecasts_and_intervals_are_positive_and_ordered(decoding):
    y = monthly(np.exp(np.random.default_rng(5).normal(0, 1, 60)))
    forecaster = WarpForecaster(**{**TINY_FORECASTER, **AUTO, "decoding": decoding}).fit(y)
    quantiles = forecaster.predict_quantiles(fh=[1, 6], alpha=[0.1, 0.5, 0.9]).to_numpy()
    assert (quantiles > 0).all() and (np.diff(quantiles, axis=1) > 0).all()
    assert (forecaster.predict_var(fh=[1, 6]).to_numpy() > 0).all()


def test_update_advances_the_phase_of_the_season():
    y = monthly(seasonal_series(100, np.random.default_rng(6)))
    params = {**TINY_FORECASTER, **AUTO}
    whole = WarpForecaster(**params).fit(y)
    whole_context, whole_lengths = whole._scaled_contexts()
    updated = WarpForecaster(**params).fit(y[:90])
    # the same profile and scaling, so only the phases can differ
    updated._transforms, updated.scaler_ = whole._transforms, whole.scaler_
    updated.update(y[90:], update_params=False)
    context, lengths = updated._scaled_contexts()
    np.testing.assert_array_equal(lengths, whole_lengths)
    np.testing.assert_allclose(context, whole_context, rtol=1e-5)


def test_update_refuses_a_nonpositive_value_in_a_log_series():
    y = monthly(np.exp(np.random.default_rng(7).normal(0, 0.1, 40)))
    forecaster = WarpForecaster(**{**TINY_FORECASTER, **AUTO}).fit(y)
    new = pd.Series([1.0, -1.0], index=pd.period_range("2003-05", periods=2, freq="M"))
    with pytest.raises(ValueError, match="modelled in logs"):
        forecaster.update(new, update_params=False)


def test_a_physics_prior_refuses_explicit_transforms():
    from skwarp.core import MassSpringDamper

    for bad in ({"transform": "log"}, {"seasonality": "additive", "seasonal_period": 12}):
        forecaster = WarpForecaster(physics=MassSpringDamper(dt=0.1), scaling=None,
                                    window_norm=False, **bad)
        with pytest.raises(ValueError, match="physics prior works in the data's own units"):
            forecaster.fit(pd.DataFrame({"a": np.ones(30), "b": np.ones(30)}))
