"""WarpForecaster(decoding="direct"): the whole horizon decoded from the state
at the cutoff, exogenous X read through the context only; and epoch_size,
which bounds the cost of an epoch."""

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_FORECASTER, sine_series

from skwarp import WarpForecaster
from skwarp._training import Batch, Seeds, TrainingConfig, train_network

# in model units (no target transforms), so the intervals are Gaussian in the data's
DIRECT = {**TINY_FORECASTER, "decoding": "direct", "n_epochs": 3, "seasonality": None,
          "transform": None}


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(0)
    t = np.arange(60)
    frames = []
    for k in range(3):
        y = 10 + k + np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.1, len(t))
        index = pd.MultiIndex.from_arrays([[f"s{k}"] * len(t), t])
        frames.append(pd.DataFrame({"y": y}, index=index))
    return pd.concat(frames)


def test_direct_forecasts_stay_finite_far_past_the_training_windows(panel):
    forecaster = WarpForecaster(**DIRECT).fit(panel)
    window = DIRECT["context_length"] + DIRECT["horizon_length"]
    fh = list(range(1, 40 * window))
    assert np.isfinite(forecaster.predict(fh=fh).to_numpy()).all()
    assert np.isfinite(forecaster.predict_interval(fh=fh, coverage=0.9).to_numpy()).all()


@pytest.mark.parametrize(("loss", "half_width_over_std"), [
    ("nll", 1.2815515655446004),  # z(0.9)
    ("laplace", np.log(5) / np.sqrt(2)),  # b ln 5 over the std sqrt(2) b
])
def test_direct_intervals_are_the_loss_family_around_the_point_forecast(
        panel, loss, half_width_over_std):
    forecaster = WarpForecaster(**DIRECT, loss=loss).fit(panel)
    fh = [1, 2, 5]
    point = forecaster.predict(fh=fh).to_numpy().ravel()
    quantiles = forecaster.predict_quantiles(fh=fh, alpha=[0.1, 0.5, 0.9]).to_numpy()
    np.testing.assert_allclose(quantiles[:, 1], point)
    assert (quantiles[:, 0] < quantiles[:, 1]).all() and (quantiles[:, 1] < quantiles[:, 2]).all()
    # symmetric, and the 80% half-width is the family's multiple of the std
    np.testing.assert_allclose(quantiles[:, 2] - quantiles[:, 1], quantiles[:, 1] - quantiles[:, 0])
    var = forecaster.predict_var(fh=fh).to_numpy().ravel()
    np.testing.assert_allclose(np.sqrt(var) * half_width_over_std, quantiles[:, 2] - point,
                               rtol=1e-5)


def test_direct_decoding_is_not_the_autoregressive_model(panel):
    fh = [1, 2, 3]
    direct = WarpForecaster(**DIRECT).fit(panel).predict(fh=fh).to_numpy()
    rolled = WarpForecaster(**{**DIRECT, "decoding": "autoregressive"}).fit(panel).predict(
        fh=fh).to_numpy()
    assert not np.allclose(direct, rolled)


def test_direct_decoding_with_a_physics_prior_is_refused():
    from skwarp.core import MassSpringDamper

    with pytest.raises(ValueError, match="autoregressive"):
        WarpForecaster(decoding="direct", physics=MassSpringDamper(dt=0.1), scaling=None,
                       window_norm=False).fit(pd.Series(np.arange(30.0)))


def test_direct_decoding_reads_exogenous_X_through_the_context_only():
    # the bad-input cases of X at predict are autoregressive decoding's, which
    # reads X at every forecast step; direct decoding (the default) reads X in
    # the context only, so predict needs no future X and a future X changes
    # nothing, while update still needs X to extend the contexts
    X = pd.DataFrame({"x": np.cos(np.arange(70) / 3)})
    forecaster = WarpForecaster(**TINY_FORECASTER).fit(sine_series(), X=X.iloc[:60])
    assert forecaster.decoding == "direct"
    fh = [1, 2, 3]
    without = forecaster.predict(fh=fh)
    assert np.isfinite(without.to_numpy()).all()
    pd.testing.assert_series_equal(forecaster.predict(fh=fh, X=X.iloc[60:]), without)
    pd.testing.assert_frame_equal(
        forecaster.predict_quantiles(fh=fh, X=X.iloc[60:], alpha=[0.1, 0.9]),
        forecaster.predict_quantiles(fh=fh, alpha=[0.1, 0.9]))
    pd.testing.assert_frame_equal(forecaster.predict_var(fh=fh, X=X.iloc[60:]),
                                  forecaster.predict_var(fh=fh))
    with pytest.raises(ValueError, match="X has 2 columns"):  # a future X is still checked
        forecaster.predict(fh=fh, X=X.iloc[60:].assign(z=1.0))
    with pytest.raises(ValueError, match="fitted with exogenous X; update needs X"):
        copy.deepcopy(forecaster).update(sine_series(65).iloc[60:], update_params=False)
    # the X of the context informs the state: another history of X, another forecast
    y_new = sine_series(65).iloc[60:]
    other = X.iloc[60:65].assign(x=[0.0, 3.0, -1.0, 2.0, 0.5])
    forecasts = [copy.deepcopy(forecaster).update(y_new, X=x_new, update_params=False)
                 .predict(fh=fh).to_numpy() for x_new in (X.iloc[60:65], other)]
    assert not np.allclose(*forecasts)


@pytest.mark.parametrize(("epoch_size", "expected"), [(None, 5), (10, 3), (8, 2), (40, 10)])
def test_epoch_size_sets_the_batches_of_an_epoch(epoch_size, expected):
    calls = []
    network = torch.nn.Linear(2, 1)

    def loss_fn(network, batch):
        calls.append(len(batch))
        loss = network(batch.x[:, 0]).square().mean()
        return loss, loss.detach()

    n = 17
    train = Batch.from_numpy(np.random.default_rng(0).normal(size=(n, 3, 2)).astype(np.float32),
                             np.full(n, 3), np.zeros(n), torch.device("cpu"))
    config = TrainingConfig(n_epochs=2, batch_size=4, epoch_size=epoch_size, lr=1e-3,
                            transition_lr=1e-3, optimizer="adamw", weight_decay=0.0,
                            grad_clip=None, lr_schedule="cosine", patience=1, verbose=False)
    train_network(network, loss_fn, train, None, config, Seeds.from_random_state(0))
    # two epochs of `expected` batches, then one pass over everything at the end
    assert len(calls) == 2 * expected + 5
    assert sum(calls[:expected]) == (epoch_size or n)


def test_an_epoch_longer_than_the_data_goes_through_every_sample_in_turn():
    from skwarp._training import _epoch_order

    order = _epoch_order(5, 12, torch.Generator().manual_seed(0)).tolist()
    assert len(order) == 12
    assert sorted(order[:5]) == sorted(order[5:10]) == list(range(5))
    assert len(set(order[10:])) == 2  # the third pass is cut short, without repeats


@pytest.mark.parametrize("decoding", ["direct", "autoregressive"])
def test_a_forecaster_ensemble_is_the_mixture_of_its_networks(panel, decoding):
    params = {**DIRECT, "decoding": decoding, "n_networks": 3}
    ensemble = WarpForecaster(**params).fit(panel)
    assert len(ensemble.networks_) == 3 and ensemble.network_ is ensemble.networks_[0]
    assert len(ensemble.histories_) == 3
    fh = [1, 2, 3]
    singles, cdfs = [], []
    point = ensemble.predict(fh=fh)
    for network in ensemble.networks_:  # each network alone, as a one-network model
        single = WarpForecaster(**{**params, "n_networks": 1}).fit(panel)
        single.networks_, single.network_ = [network], network
        singles.append(single.predict(fh=fh).to_numpy())
        if decoding == "direct":
            cdfs.append(single.predict_proba(fh=fh).cdf(point).to_numpy())
    if decoding == "direct":  # the median of the networks' equal mixture
        np.testing.assert_allclose(np.mean(cdfs, axis=0), 0.5, atol=1e-10)
        assert not np.allclose(point.to_numpy(), np.mean(singles, axis=0), rtol=1e-6)
    else:  # the mean of the networks' mean rollouts
        np.testing.assert_allclose(point.to_numpy(), np.mean(singles, axis=0), rtol=1e-10)
    first = WarpForecaster(**{**params, "n_networks": 1}).fit(panel)
    np.testing.assert_array_equal(first.predict(fh=fh).to_numpy(), singles[0])


def test_forecasts_past_the_training_horizon_continue_block_by_block():
    from sktime.datasets import load_airline

    y = load_airline()[:-24]
    forecaster = WarpForecaster(horizon_length=6, context_length=12, n_epochs=3,
                                epoch_size=256, root_width=8, random_state=0).fit(y)
    far = forecaster.predict(np.arange(1, 31)).to_numpy().ravel()
    near = forecaster.predict(np.arange(1, 7)).to_numpy().ravel()
    assert np.isfinite(far).all() and np.allclose(far[:6], near)
    # the root network is never decoded past its trained tau: step 7 comes from
    # a new state, whose context ends with the first six forecasts
    bounds = forecaster.predict_interval(np.arange(1, 31), coverage=0.8).to_numpy()
    width = bounds[:, 1] - bounds[:, 0]
    assert np.isfinite(bounds).all()
    assert width[6:12].mean() > width[:6].mean()  # the uncertainty carries over
