"""WarpForecaster.pretrain: a global network trained once, then ``fit`` on any
series without a gradient step; sktime's pretrain states, clone and reset;
the weights file that outlives a release."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_FORECASTER
from sktime.exceptions import NotFittedError

from skwarp import WarpForecaster, _pretrained

PARAMS = {**TINY_FORECASTER, "decoding": "direct", "n_epochs": 3, "epoch_size": 64,
          "seasonality": None}
FH = [1, 2, 3, 4, 5]


def _series(k: int, n: int = 48, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(k)
    t = np.arange(n)
    values = scale * (10 + k + np.sin(2 * np.pi * t / 12 + k) + rng.normal(0, 0.2, n))
    return pd.DataFrame({"y": values}, index=pd.period_range("2000-01", periods=n, freq="M"))


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return pd.concat({f"s{k}": _series(k) for k in range(4)}, names=["series", "time"])


@pytest.fixture(scope="module")
def pretrained(panel) -> WarpForecaster:
    return WarpForecaster(**PARAMS).pretrain(panel)


def _weights(network) -> list[torch.Tensor]:
    return [t.detach().clone() for t in network.state_dict().values()]


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_pretrain_leaves_a_pretrained_state_that_cannot_predict(pretrained):
    assert pretrained.state == "pretrained"
    assert list(pretrained.get_pretrained_params()) == ["pretrained_"]
    with pytest.raises(NotFittedError):
        pretrained.predict(fh=FH)


def test_pretrain_refuses_a_single_series():
    with pytest.raises(TypeError, match="Panel or Hierarchical"):
        WarpForecaster(**PARAMS).pretrain(_series(0))


def test_fit_after_pretrain_takes_no_gradient_step(pretrained):
    before = _weights(pretrained.pretrained_.networks[0])
    forecaster = pretrained.clone().fit(_series(7))
    assert forecaster.state == "fitted"
    assert forecaster.networks_[0] is not forecaster.pretrained_.networks[0]
    assert _same(_weights(forecaster.networks_[0]), before)
    assert np.isfinite(forecaster.predict(fh=FH).to_numpy()).all()


def test_fit_after_pretrain_forecasts_as_the_global_fit_does(panel, pretrained):
    """The same network and transforms: a series of the pretraining panel,
    fitted alone after pretrain, gets the forecast the global fit gives it."""
    global_fit = WarpForecaster(**PARAMS).fit(panel).predict(fh=FH).loc["s2"]
    alone = pretrained.clone().fit(panel.loc["s2"]).predict(fh=FH)
    np.testing.assert_allclose(alone.to_numpy(), global_fit.to_numpy(), rtol=1e-6)


def test_fit_reads_each_new_series_context(pretrained):
    """No gradient step, yet the forecast follows the series: a series ten
    times larger gets a forecast ten times larger (logs and window
    normalisation make the network scale-free)."""
    small = pretrained.clone().fit(_series(9)).predict(fh=FH).to_numpy()
    large = pretrained.clone().fit(_series(9, scale=10.0)).predict(fh=FH).to_numpy()
    np.testing.assert_allclose(large, 10 * small, rtol=1e-4)


def test_finetuning_trains_a_copy_and_the_next_fit_starts_from_the_pretrained(panel):
    forecaster = WarpForecaster(**PARAMS, finetune_epochs=2).pretrain(panel)
    before = _weights(forecaster.pretrained_.networks[0])
    first = forecaster.fit(_series(5)).predict(fh=FH).to_numpy()
    assert not _same(_weights(forecaster.networks_[0]), before)
    assert _same(_weights(forecaster.pretrained_.networks[0]), before)
    again = forecaster.fit(_series(5)).predict(fh=FH).to_numpy()
    np.testing.assert_array_equal(first, again)
    assert forecaster.state == "fitted" and hasattr(forecaster, "pretrained_")


def test_update_with_params_leaves_the_pretrained_network(pretrained):
    before = _weights(pretrained.pretrained_.networks[0])
    forecaster = pretrained.clone()
    series = _series(3, n=60)
    first = forecaster.fit(series.iloc[:48]).predict(fh=FH).to_numpy()
    forecaster.update(series.iloc[48:], update_params=True)
    assert not _same(_weights(forecaster.networks_[0]), before)
    assert _same(_weights(forecaster.pretrained_.networks[0]), before)
    refit = forecaster.fit(series.iloc[:48]).predict(fh=FH).to_numpy()
    np.testing.assert_array_equal(first, refit)


def test_clone_keeps_and_reset_drops_the_pretrained_network(pretrained):
    copy = pretrained.clone()
    assert copy.state == "pretrained"
    assert copy.pretrained_ is not pretrained.pretrained_
    assert _same(_weights(copy.pretrained_.networks[0]),
                 _weights(pretrained.pretrained_.networks[0]))
    copy.fit(_series(1))
    copy.reset()
    assert copy.state == "new" and not hasattr(copy, "pretrained_")


def test_pretrain_again_continues_training(panel, pretrained):
    forecaster = pretrained.clone()
    before = _weights(forecaster.pretrained_.networks[0])
    forecaster.pretrain(pd.concat({f"t{k}": _series(10 + k) for k in range(3)},
                                  names=["series", "time"]))
    assert forecaster.state == "pretrained"
    assert not _same(_weights(forecaster.pretrained_.networks[0]), before)
    history = forecaster.pretrained_.histories[0]["train_loss"]
    assert len(history) == 2 * PARAMS["n_epochs"]


def test_fit_checks_the_columns_the_network_was_pretrained_on(pretrained):
    two = pd.concat([_series(1), _series(2).rename(columns={"y": "z"})], axis=1)
    with pytest.raises(ValueError, match="y with 2 columns.*pretrained on 1"):
        pretrained.clone().fit(two)
    X = pd.DataFrame({"x": np.arange(48.0)}, index=_series(1).index)
    with pytest.raises(ValueError, match="1 exogenous columns.*pretrained with 0"):
        pretrained.clone().fit(_series(1), X=X)


def test_fit_checks_the_transform_domain():
    logs = pd.concat({f"s{k}": _series(k) for k in range(3)}, names=["series", "time"])
    forecaster = WarpForecaster(**{**PARAMS, "transform": "log"}).pretrain(logs)
    with pytest.raises(ValueError, match="positive"):
        forecaster.fit(_series(1) - 20)


@pytest.mark.parametrize("after_fit", [False, True])
def test_pretrained_and_fitted_models_pickle(pretrained, after_fit):
    forecaster = pretrained.clone()
    if after_fit:
        forecaster.fit(_series(4))
    loaded = pickle.loads(pickle.dumps(forecaster))
    assert loaded.state == forecaster.state
    if after_fit:
        pd.testing.assert_frame_equal(loaded.predict(fh=FH), forecaster.predict(fh=FH))
    else:
        expected = forecaster.fit(_series(4)).predict(fh=FH)
        pd.testing.assert_frame_equal(loaded.fit(_series(4)).predict(fh=FH), expected)


def test_saved_weights_load_and_forecast_alike(pretrained, tmp_path):
    path = pretrained.save_pretrained(tmp_path / "network")
    assert path.suffix == ".npz"
    loaded = WarpForecaster.from_pretrained(path, n_samples=20)
    assert loaded.state == "pretrained" and loaded.n_samples == 20
    assert loaded.get_params()["root_width"] == PARAMS["root_width"]
    expected = pretrained.clone().fit(_series(6)).predict_interval(fh=FH, coverage=0.8)
    actual = loaded.fit(_series(6)).predict_interval(fh=FH, coverage=0.8)
    pd.testing.assert_frame_equal(actual, expected)


def test_a_plain_fit_can_be_saved(panel, tmp_path):
    forecaster = WarpForecaster(**PARAMS).fit(panel)
    path = forecaster.save_pretrained(tmp_path / "fitted.npz")
    loaded = WarpForecaster.from_pretrained(path).fit(panel)
    pd.testing.assert_frame_equal(loaded.predict(fh=FH), forecaster.predict(fh=FH))


def test_loading_refuses_a_change_to_the_network(pretrained, tmp_path):
    path = pretrained.save_pretrained(tmp_path / "network")
    with pytest.raises(ValueError, match="root_width"):
        WarpForecaster.from_pretrained(path, root_width=8)


def test_loading_refuses_other_formats_and_files(pretrained, tmp_path):
    path = pretrained.save_pretrained(tmp_path / "network")
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(str(arrays["header"]))
    arrays["header"] = np.array(json.dumps({**header, "format": _pretrained.FORMAT + 1}))
    future = tmp_path / "future.npz"
    np.savez(future, **arrays)
    with pytest.raises(ValueError, match=f"format {_pretrained.FORMAT + 1}.*reads formats"):
        WarpForecaster.from_pretrained(future)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="not written by save_pretrained"):
        WarpForecaster.from_pretrained(other)
    text = tmp_path / "text.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match="not a pretrained skwarp model"):
        WarpForecaster.from_pretrained(text)
    with pytest.raises(FileNotFoundError):
        WarpForecaster.from_pretrained(tmp_path / "missing.npz")


def test_nothing_to_save_before_pretrain_or_fit(tmp_path):
    with pytest.raises(NotFittedError, match="pretrain or fit"):
        WarpForecaster(**PARAMS).save_pretrained(tmp_path / "x")
