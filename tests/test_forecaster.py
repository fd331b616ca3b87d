"""WarpForecaster: sktime contract, tools, accuracy on airline, update, bad input."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_FORECASTER
from sktime.datasets import load_airline
from sktime.forecasting.base import ForecastingHorizon
from sktime.forecasting.model_evaluation import evaluate
from sktime.forecasting.model_selection import ForecastingGridSearchCV
from sktime.forecasting.naive import NaiveForecaster
from sktime.performance_metrics.forecasting import (
    MeanAbsolutePercentageError,
    mean_absolute_percentage_error,
)
from sktime.split import ExpandingWindowSplitter
from sktime.utils.estimator_checks import check_estimator

from skwarp import WarpForecaster

# the paper's network (dense A, differences, no embedding), for the tests of
# autoregressive rollouts that perturb or rely on it
PAPER_NETWORK = {"transition": "dense", "drive": "difference", "embedding": None,
                 "initial_state": "mlp"}
FAST = {**TINY_FORECASTER, "context_length": 6, "horizon_length": 4, "n_epochs": 3,
        "root_width": 8, "n_samples": 20}


@pytest.fixture(scope="module")
def airline():
    y = load_airline()
    return y[:-12], y[-12:]


def _panel(n_series=3, n_timepoints=40, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n_timepoints)
    frames = []
    for i in range(n_series):
        values = np.sin(2 * np.pi * t / 12 + i) + 0.1 * rng.standard_normal(n_timepoints)
        index = pd.MultiIndex.from_product([[f"s{i}"], pd.RangeIndex(n_timepoints)],
                                           names=["series", "time"])
        frames.append(pd.DataFrame({"value": values}, index=index))
    return pd.concat(frames)


def test_sktime_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        results = check_estimator(WarpForecaster, raise_exceptions=False, verbose=False)
    failures = {name: result for name, result in results.items() if result != "PASSED"}
    assert len(results) > 100
    assert failures == {}


def test_airline_defaults_beat_seasonal_naive_with_calibrated_interval(airline,
                                                                       airline_defaults):
    _, y_test = airline
    fh = ForecastingHorizon(np.arange(1, 13))
    forecaster = airline_defaults
    mape = mean_absolute_percentage_error(y_test, forecaster.predict(fh))
    assert mape <= 0.0999  # seasonal naive on this split
    interval = forecaster.predict_interval(fh, coverage=0.9)
    lower, upper = interval.iloc[:, 0].to_numpy(), interval.iloc[:, 1].to_numpy()
    covered = int(((y_test.to_numpy() >= lower) & (y_test.to_numpy() <= upper)).sum())
    assert 8 <= covered <= 12


def test_uncertainty_grows_with_the_horizon(airline):
    y_train, _ = airline
    # Monte Carlo rollouts compound the uncertainty step by step
    forecaster = WarpForecaster(**{**FAST, "n_samples": 200, "decoding": "autoregressive"}
                                ).fit(y_train)
    variance = forecaster.predict_var(fh=np.arange(1, 13)).to_numpy().ravel()
    assert (variance > 0).all()
    assert variance[-3:].mean() > variance[:3].mean()
    quantiles = forecaster.predict_quantiles(fh=[1, 6], alpha=[0.05, 0.5, 0.95])
    assert (np.diff(quantiles.to_numpy(), axis=1) >= 0).all()


def test_update_without_params_keeps_the_weights_and_changes_the_forecast():
    """(Its cost against fit is measured in benchmarks/update.py, not asserted.)"""
    index = pd.period_range("1900-01", periods=1132, freq="M")
    t = np.arange(1132)
    y = pd.Series(100 + 10 * np.sin(2 * np.pi * t / 12) + 0.2 * t, index=index)
    forecaster = WarpForecaster(**FAST).fit(y[:132])
    before = {k: v.clone() for k, v in forecaster.network_.state_dict().items()}
    forecast_before = forecaster.predict(fh=[1, 2, 3])
    forecaster.update(y[132:], update_params=False)
    after = forecaster.network_.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    forecast_after = forecaster.predict(fh=[1, 2, 3])
    assert forecast_after.index[0] == index[-1] + 1
    assert not np.allclose(forecast_before.to_numpy(), forecast_after.to_numpy())


def test_update_with_params_fine_tunes(airline):
    y_train, y_test = airline
    forecaster = WarpForecaster(**FAST).fit(y_train[:-12])
    before = {k: v.clone() for k, v in forecaster.network_.state_dict().items()}
    forecaster.update(y_train[-12:], update_params=True)
    after = forecaster.network_.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_panel_is_one_global_model():
    panel = _panel()
    forecaster = WarpForecaster(**FAST).fit(panel)
    prediction = forecaster.predict(fh=[1, 2])
    assert isinstance(prediction.index, pd.MultiIndex)
    assert len(prediction) == 3 * 2
    assert set(prediction.index.get_level_values(0)) == {"s0", "s1", "s2"}
    # one network, not one per series (sktime would otherwise vectorise)
    assert hasattr(forecaster, "network_")
    assert not hasattr(forecaster, "forecasters_")


def test_recurrent_mode_and_multivariate():
    rng = np.random.default_rng(0)
    y = pd.DataFrame(rng.standard_normal((60, 2)).cumsum(axis=0), columns=["a", "b"])
    forecaster = WarpForecaster(**{**FAST, "training_mode": "recurrent",
                                   "reparametrise": True}).fit(y)
    prediction = forecaster.predict(fh=[1, 2, 3])
    assert list(prediction.columns) == ["a", "b"] and prediction.shape == (3, 2)
    assert np.isfinite(prediction.to_numpy()).all()


def test_same_random_state_same_forecast(airline):
    y_train, _ = airline
    first = WarpForecaster(**FAST).fit(y_train).predict_interval(fh=[1, 5])
    second = WarpForecaster(**FAST).fit(y_train).predict_interval(fh=[1, 5])
    pd.testing.assert_frame_equal(first, second)


def test_forecasting_grid_search_and_evaluate(airline):
    y_train, _ = airline
    cv = ExpandingWindowSplitter(initial_window=96, step_length=12, fh=[1, 2, 3])
    grid = ForecastingGridSearchCV(WarpForecaster(**FAST), cv=cv, error_score="raise",
                                   param_grid={"root_width": [4, 8]})
    grid.fit(y_train)
    scores = grid.cv_results_.filter(like="mean_test").iloc[:, 0].to_numpy()
    assert [candidate["root_width"] for candidate in grid.cv_results_["params"]] == [4, 8]
    assert np.isfinite(scores).all() and scores[0] != scores[1]
    assert grid.best_params_ == grid.cv_results_["params"][int(np.argmin(scores))]
    best = grid.best_forecaster_
    assert best.get_params()["root_width"] == grid.best_params_["root_width"]
    assert best.network_.root.width == grid.best_params_["root_width"]
    # MAPE on these folds: seasonal naive (last year's value) 0.074, a
    # last-value repeat 0.064, these 3-epoch fits about 0.06
    seasonal = evaluate(NaiveForecaster(strategy="last", sp=12), cv=cv, y=y_train)
    seasonal_mape = seasonal.filter(like="test_").iloc[:, 0].mean()
    assert scores.min() < seasonal_mape
    results = evaluate(WarpForecaster(**FAST), cv=cv, y=y_train, error_score="raise")
    assert len(results) == 3
    assert results.filter(like="test_").iloc[:, 0].mean() < seasonal_mape


def test_forecasting_benchmark(tmp_path):
    from sktime.benchmarking.forecasting import ForecastingBenchmark

    benchmark = ForecastingBenchmark()
    benchmark.add_estimator(WarpForecaster(**FAST), estimator_id="warp")
    cv = ExpandingWindowSplitter(initial_window=120, step_length=6, fh=[1, 2])
    benchmark.add_task(load_airline, cv, [MeanAbsolutePercentageError()],
                       task_id="airline")
    results = benchmark.run(str(tmp_path / "results.csv"))
    assert len(results) == 1
    assert np.isfinite(results.filter(like="mean").select_dtypes("number").to_numpy()).all()


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #
def test_nan_in_y_rejected(airline):
    y_train, _ = airline
    y = y_train.copy()
    y.iloc[5] = np.nan
    with pytest.raises(ValueError, match="NaN|missing"):
        WarpForecaster(**FAST).fit(y)


def test_non_numeric_y_rejected():
    y = pd.Series(["a"] * 30)
    with pytest.raises((TypeError, ValueError)):
        WarpForecaster(**FAST).fit(y)


def test_series_shorter_than_context_rejected():
    y = pd.Series(np.arange(5.0))
    with pytest.raises(ValueError, match="at least 7"):
        WarpForecaster(**{**FAST, "decoding": "autoregressive"}).fit(y)
    # direct decoding pads short contexts, but a window needs a context of a
    # third of context_length and the horizon after it
    with pytest.raises(ValueError, match="no series of 6 time points"):
        WarpForecaster(**FAST).fit(y)
    with pytest.raises(ValueError, match="at least 2"):
        WarpForecaster(**FAST).fit(pd.DataFrame({"y": [1.0] + [2.0] * 9},
                                                index=pd.MultiIndex.from_arrays(
                                                    [["a"] + ["b"] * 9, range(10)])))


def test_in_sample_horizon_rejected(airline):
    y_train, _ = airline
    forecaster = WarpForecaster(**FAST).fit(y_train)
    with pytest.raises(ValueError, match="in-sample"):
        forecaster.predict(fh=[-1, 0, 1])


@pytest.mark.parametrize("params, match", [
    ({"context_length": 0}, "context_length"), ({"training_mode": "fast"}, "training_mode"),
    ({"p_forcing": 1.5}, "p_forcing"), ({"loss": "mae"}, "loss"),
    ({"min_std": 0.0}, "min_std"), ({"n_samples": 1}, "n_samples"),
])
def test_invalid_hyperparameters_named(airline, params, match):
    y_train, _ = airline
    with pytest.raises(ValueError, match=match):
        WarpForecaster(**{**FAST, **params}).fit(y_train)


def test_update_adds_new_series_to_the_global_model():
    forecaster = WarpForecaster(**FAST).fit(_panel(3, 40))
    new = _panel(4, 40, seed=1).loc[["s3"]]
    forecaster.update(new, update_params=False)
    prediction = forecaster.predict(fh=[1, 2])
    assert set(prediction.index.get_level_values(0)) == {"s0", "s1", "s2", "s3"}
    with pytest.raises(ValueError, match="fewer than"):
        forecaster.update(_panel(5, 40, seed=2).loc[["s4"]].iloc[:1], update_params=False)


def test_exogenous_inputs_are_used_and_required():
    rng = np.random.default_rng(0)
    n = 200
    driver = rng.standard_normal(n)
    X = pd.DataFrame({"driver": driver})
    # X_t enters the recurrence with y_t, so it drives y from the next step on
    lagged = np.concatenate(([0.0], driver[:-1]))
    y = pd.DataFrame({"target": 2.0 * lagged + 0.05 * rng.standard_normal(n)})
    train, test = slice(0, 180), slice(180, 190)
    # autoregressive decoding reads X at every forecast step
    params = {**FAST, **PAPER_NETWORK, "n_epochs": 40, "context_length": 8,
              "decoding": "autoregressive", "batch_size": 32, "loss": "nll",
              "transition_lr": 1e-5}
    with_x = WarpForecaster(**params).fit(y.iloc[train], X=X.iloc[train])
    without_x = WarpForecaster(**params).fit(y.iloc[train])
    fh = np.arange(1, 11)
    truth = y.iloc[test].to_numpy().ravel()
    err_with = np.mean((with_x.predict(fh, X=X.iloc[test]).to_numpy().ravel() - truth) ** 2)
    err_without = np.mean((without_x.predict(fh).to_numpy().ravel() - truth) ** 2)
    assert err_with < 0.5 * err_without
    with pytest.raises(ValueError, match="exogenous"):
        with_x.predict(fh)
    with pytest.raises(ValueError, match="cover every step"):
        with_x.predict(fh, X=X.iloc[180:185])


def test_diverging_rollout_raises_instead_of_returning_nan(airline):
    y_train, _ = airline
    forecaster = WarpForecaster(**{**FAST, **PAPER_NETWORK, "decoding": "autoregressive"}
                                ).fit(y_train)
    with torch.no_grad():  # an unstable transition: the state grows 10x per step
        forecaster.network_.transition.A.mul_(10.0)
        forecaster.network_.B.normal_()
    with pytest.raises(FloatingPointError, match="diverged"):
        forecaster.predict(fh=np.arange(1, 200))


def test_hierarchy_is_one_global_model():
    from sktime.utils._testing.hierarchical import _make_hierarchical

    y = _make_hierarchical(hierarchy_levels=(2, 2), min_timepoints=30, max_timepoints=30,
                           random_state=0)
    forecaster = WarpForecaster(**FAST).fit(y)
    prediction = forecaster.predict(fh=[1, 2])
    assert prediction.index.nlevels == 3 and len(prediction) == 4 * 2
    assert np.isfinite(prediction.to_numpy()).all()


@pytest.mark.parametrize(("loss", "mean_abs"), [("laplace", 1.0), ("nll", np.sqrt(2 / np.pi))])
def test_reparametrised_feedback_draws_the_law_the_loss_fits(loss, mean_abs):
    """Recurrent training with ``reparametrise`` feeds back ``m + s * eps``:
    eps standard Laplace under the Laplace loss (E|eps| = 1), standard Normal
    under the Gaussian one (E|eps| = sqrt(2 / pi))."""
    forecaster = WarpForecaster(loss=loss, residual=False)
    outputs = torch.zeros(200_000, 2)  # one target: location 0, a constant scale
    generator = torch.Generator().manual_seed(0)
    draws = forecaster._next_input(outputs, torch.zeros(200_000, 1), 1, True, generator)
    scale = forecaster._next_input(outputs, torch.zeros(1, 1), 1, False)  # the location: 0
    assert float(scale.abs().max()) == 0.0
    from skwarp.core.heads import gaussian_head

    _, std = gaussian_head(outputs[:1], 1, forecaster.min_std, None)
    assert float((draws / std).abs().mean()) == pytest.approx(mean_abs, rel=0.01)
