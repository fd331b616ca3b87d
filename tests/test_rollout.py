"""Autoregressive rollouts of WarpForecaster stay finite far past the training
windows: what a rollout feeds back is held within the training range, widened."""

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_FORECASTER

from skwarp import WarpForecaster


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(0)
    frames = []
    for k in range(3):
        t = np.arange(60)
        y = (10 + k) * (1 + 0.2 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.05, 60))
        index = pd.MultiIndex.from_arrays(
            [[f"s{k}"] * 60, pd.period_range("2000-01", periods=60, freq="M")])
        frames.append(pd.DataFrame({"y": y}, index=index))
    return pd.concat(frames)


def test_rollouts_and_their_intervals_stay_finite_far_past_the_training_windows(panel):
    forecaster = WarpForecaster(**TINY_FORECASTER).fit(panel)
    window = TINY_FORECASTER["context_length"] + TINY_FORECASTER["horizon_length"]
    fh = list(range(1, 40 * window))
    assert np.isfinite(forecaster.predict(fh=fh).to_numpy()).all()
    assert np.isfinite(forecaster.predict_interval(fh=fh, coverage=0.9).to_numpy()).all()


def test_a_rollout_that_would_diverge_is_held_within_the_widened_training_range(panel):
    params = {**TINY_FORECASTER, "seasonality": None, "transform": None, "scaling": None,
              "decoding": "autoregressive", "transition": "dense", "drive": "difference",
              "embedding": None, "initial_state": "mlp"}  # the paper's network, whose B
    # scales each fed value
    forecaster = WarpForecaster(**params).fit(panel)
    with torch.no_grad():  # each fed value moves the state ten times as far:
        forecaster.network_.B.mul_(10.0)  # unbounded, this rollout overflows
    paths = forecaster._rollout(200, forecaster.n_samples)
    assert np.isfinite(paths).all()
    # in each window's units: the context's mean and std (here the data's own
    # units, scaling=None), the fed values within the widened range
    low, high = forecaster._fed_bounds.numpy()[:, 0]
    context = np.stack([v[-TINY_FORECASTER["context_length"]:, 0]
                        for v in forecaster._recent.values()])
    mean = context.mean(axis=1)
    std = np.maximum(context.std(axis=1), 1e-2)
    normalised = (paths[..., 0] - mean[:, None, None]) / std[:, None, None]
    assert normalised.min() >= low - 1e-3 and normalised.max() <= high + 1e-3
    assert np.isclose(normalised, high, atol=1e-3).any()  # the bound was reached


def test_without_the_bounds_the_same_rollout_diverges(panel):
    from skwarp.exceptions import NonFiniteOutputError

    params = {**TINY_FORECASTER, "seasonality": None, "transform": None, "scaling": None,
              "decoding": "autoregressive", "transition": "dense", "drive": "difference",
              "embedding": None, "initial_state": "mlp"}  # the paper's network, whose B
    # scales each fed value
    forecaster = WarpForecaster(**params).fit(panel)
    with torch.no_grad():
        forecaster.network_.B.mul_(10.0)
    forecaster._fed_bounds = torch.tensor([[-1e30], [1e30]])
    with pytest.raises(NonFiniteOutputError):
        forecaster._rollout(200, forecaster.n_samples)
