"""Strided recurrence: pooling, its lengths, and the classifier's ``stride``."""

import math

import numpy as np
import pytest
import torch

from skwarp import WarpClassifier
from skwarp.classification import AUTO_STRIDE_FULL, AUTO_STRIDE_STEPS, resolve_stride
from skwarp.core import WarpNetwork
from skwarp.core.embedding import mean_pool, mean_pool_last, pooled_lengths, pooled_steps


def _pool_by_loop(x: torch.Tensor, lengths: list[int], stride: int) -> torch.Tensor:
    n_windows = math.ceil(x.shape[1] / stride)
    out = torch.zeros(x.shape[0], n_windows, x.shape[2], dtype=x.dtype)
    for i, length in enumerate(lengths):
        for w in range(math.ceil(length / stride)):
            out[i, w] = x[i, w * stride:min((w + 1) * stride, length)].mean(0)
    return out


@pytest.mark.parametrize("stride", [1, 2, 3, 10, 11])
def test_mean_pool_matches_a_loop_and_ignores_padding(stride):
    torch.manual_seed(0)
    lengths = [10, 7, 1]
    x = torch.randn(3, 10, 2, dtype=torch.float64)
    for i, length in enumerate(lengths):
        x[i, length:] = float("nan")
    pooled = mean_pool(x, torch.tensor(lengths), stride)
    expected = _pool_by_loop(x, lengths, stride)
    steps = pooled_lengths(torch.tensor(lengths), stride)
    assert steps.tolist() == [math.ceil(n / stride) for n in lengths]
    assert [pooled_steps(n, stride) for n in lengths] == steps.tolist()
    for i, n in enumerate(steps.tolist()):  # past a series' end: anything finite or not
        torch.testing.assert_close(pooled[i, :n], expected[i, :n])
        if stride > 1:
            assert torch.isfinite(pooled[i]).all()


@pytest.mark.parametrize("n_steps", [9, 10, 12])
@pytest.mark.parametrize("stride", [1, 3, 4])
def test_mean_pool_without_lengths_is_every_step_valid(n_steps, stride):
    # the unmasked path (whole windows as a view, the last window alone) against the loop
    torch.manual_seed(0)
    x = torch.randn(2, n_steps, 3, dtype=torch.float64)
    expected = _pool_by_loop(x, [n_steps, n_steps], stride)
    torch.testing.assert_close(mean_pool(x, None, stride), expected)
    torch.testing.assert_close(mean_pool_last(x.transpose(1, 2), None, stride),
                               expected.transpose(1, 2))


@pytest.mark.parametrize("lengths", [[7, 4], None])
def test_mean_pool_gradient(lengths):
    x = torch.randn(2, 7, 2, dtype=torch.float64, requires_grad=True)
    lengths = None if lengths is None else torch.tensor(lengths)
    assert torch.autograd.gradcheck(lambda v: mean_pool(v, lengths, 3), (x,))


def _network(stride: int, reference_length: int, seed: int = 0) -> WarpNetwork:
    torch.manual_seed(seed)
    return WarpNetwork(2, 3, root_width=4, initial_state="learned", transition="lru",
                       embedding="conv", embedding_width=4, embedding_layers=2,
                       embedding_kernel=3, embedding_norm=True, drive="value",
                       stride=stride, reference_length=reference_length).double().eval()


def test_a_strided_network_is_the_plain_one_on_pooled_inputs():
    """Same weights: stride 4 on ``x`` equals stride 1 on ``mean_pool(x)``."""
    strided = _network(4, reference_length=23)
    plain = _network(1, reference_length=6, seed=1)  # ceil(23 / 4) steps
    plain.load_state_dict(strided.state_dict())
    x = torch.randn(3, 23, 2, dtype=torch.float64)
    lengths = torch.tensor([23, 9, 4])
    pooled, steps = mean_pool(x, lengths, 4), pooled_lengths(lengths, 4)
    torch.testing.assert_close(strided(x, lengths), plain(pooled, steps))
    torch.testing.assert_close(strided.states(x, lengths), plain.states(pooled, steps))
    assert strided.states(x, lengths).shape[1] == 6


def test_strided_final_state_is_the_last_valid_state_and_padding_is_ignored():
    network = _network(3, reference_length=20)
    x = torch.randn(2, 20, 2, dtype=torch.float64)
    lengths = torch.tensor([20, 8])
    padded = x.clone()
    padded[1, 8:] = float("nan")
    final = network.final_state(padded, lengths)
    states = network.states(padded, lengths)
    steps = network.step_lengths(lengths)
    torch.testing.assert_close(final, states[torch.arange(2), steps - 1])
    torch.testing.assert_close(network(padded, lengths)[1], network(x[1:, :8])[0])


def test_phi_sees_the_raw_first_time_point_under_a_stride():
    """initial_state="mlp": theta_0 = phi(x_0) of the raw first time point, not
    of the first window's mean, in the states, the final state and the
    classifier's weight trajectory."""
    torch.manual_seed(0)
    x = torch.randn(3, 23, 2, dtype=torch.float64)
    lengths = torch.tensor([23, 9, 4])
    network = WarpNetwork(2, 3, root_width=4, initial_state="mlp", transition="lru",
                          drive="value", stride=4, reference_length=23).double()
    with torch.no_grad():
        raw = network.initial_state(x[:, 0])
        pooled = network.initial_state(mean_pool(x, lengths, 4)[:, 0])
        assert (raw - pooled).abs().amax(1).min() > 1e-3  # the two are told apart
        states = network.states(x, lengths)
        torch.testing.assert_close(states[:, 0], raw, rtol=0, atol=0)
        assert not torch.allclose(states[:, 1], raw)  # the drive moves the later states
        # A = I and B = 0 at the start of a dense network: the final state is theta_0
        torch.manual_seed(0)
        dense = WarpNetwork(2, 3, root_width=4, initial_state="mlp", transition="dense",
                            stride=4).double()
        torch.testing.assert_close(dense.final_state(x, lengths),
                                   dense.initial_state(x[:, 0]), rtol=0, atol=0)

    X = np.random.default_rng(3).standard_normal((6, 2, 23))
    clf = WarpClassifier(stride=4, initial_state="mlp", n_networks=1, n_epochs=2,
                         root_width=4, embedding_width=4, embedding_layers=1,
                         random_state=0).fit(X, np.arange(6) % 2)
    scaled = clf._network_input(X.transpose(0, 2, 1), np.full(6, 23))
    with torch.no_grad():
        expected = clf.network_.initial_state(torch.from_numpy(scaled[:, 0])).numpy()
    trajectory = clf.weight_trajectory(X)
    assert trajectory.shape[1] == 6  # ceil(23 / 4)
    np.testing.assert_allclose(trajectory[:, 0], expected, rtol=1e-6, atol=1e-7)


def test_stride_needs_no_physics_and_must_be_a_positive_integer():
    from skwarp.core import MassSpringDamper

    with pytest.raises(ValueError, match="stride=1"):
        WarpNetwork(2, 2, stride=2, physics=MassSpringDamper(dt=0.1))
    with pytest.raises(ValueError, match="stride=1"):
        WarpNetwork(2, 2, stride=2, time_scale=10.0)
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="stride"):
            WarpNetwork(2, 2, stride=bad)
    assert WarpNetwork(2, 2, stride=np.int64(3)).stride == 3


def test_auto_stride_keeps_every_step_up_to_the_threshold():
    assert resolve_stride("auto", 1) == 1
    assert resolve_stride("auto", AUTO_STRIDE_FULL) == 1
    above = AUTO_STRIDE_FULL + 1
    assert resolve_stride("auto", above) == math.ceil(above / AUTO_STRIDE_STEPS)
    assert math.ceil(above / resolve_stride("auto", above)) <= AUTO_STRIDE_STEPS
    assert resolve_stride("auto", 16_384) == 16_384 // AUTO_STRIDE_STEPS
    assert resolve_stride(5, 10) == 5


@pytest.mark.parametrize("bad", ["fast", 0, -2, 2.5, None, True])
def test_a_bad_stride_is_named(bad):
    X = np.zeros((4, 1, 10))
    with pytest.raises(ValueError, match="stride"):
        WarpClassifier(stride=bad).fit(X, [0, 1, 0, 1])


@pytest.mark.parametrize("decoding", ["last", "mean"])
def test_classifier_fits_and_predicts_strided(decoding):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 2, 30)).astype(np.float32)
    y = np.arange(12) % 2
    X[y == 1, 0, 5:12] += 3.0
    clf = WarpClassifier(stride=4, decoding=decoding, n_epochs=30, root_width=8,
                         embedding_width=8, embedding_layers=1, random_state=0).fit(X, y)
    assert clf.stride_ == 4
    assert clf.weight_trajectory(X[:2]).shape[1] == 8  # ceil(30 / 4)
    # by hand: every network on the scaled series, decoded at the last of its
    # 8 steps or averaged over them, then the mean of the softmaxes
    x = torch.from_numpy(clf._network_input(X.transpose(0, 2, 1), np.full(12, 30)))
    with torch.no_grad():
        logits = [network(x) if decoding == "last" else network.forward_all(x).mean(1)
                  for network in clf.networks_]
    expected = np.mean([torch.softmax(z.double(), dim=1).numpy() for z in logits], axis=0)
    np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-6, atol=1e-7)
    assert (clf.predict(X) == y).mean() >= 0.9


def test_the_paper_preset_never_pools():
    from skwarp import PAPER_PARAMS

    X = np.zeros((4, 1, AUTO_STRIDE_FULL + 1), dtype=np.float32)
    X[:, 0, ::2] = 1.0
    clf = WarpClassifier(**{**PAPER_PARAMS, "n_epochs": 1, "root_width": 2,
                            "random_state": 0}).fit(X, [0, 1, 0, 1])
    assert clf.stride_ == 1 and clf.network_.stride == 1


def test_auto_stride_is_resolved_on_the_training_series():
    X = np.zeros((4, 1, AUTO_STRIDE_FULL + 1), dtype=np.float32)
    X[:, 0, ::2] = 1.0
    clf = WarpClassifier(n_epochs=1, root_width=2, embedding_width=2,
                         embedding_layers=1, random_state=0).fit(X, [0, 1, 0, 1])
    assert clf.stride_ == resolve_stride("auto", AUTO_STRIDE_FULL + 1) > 1
    short = WarpClassifier(n_epochs=1, root_width=2, embedding_width=2,
                           embedding_layers=1, random_state=0).fit(X[:, :, :50], [0, 1, 0, 1])
    assert short.stride_ == 1


def test_mean_decoding_averages_the_valid_strided_steps():
    rng = np.random.default_rng(1)
    X = [rng.standard_normal((2, n)) for n in (30, 17, 30, 9)]  # unequal lengths
    import pandas as pd

    panel = pd.DataFrame({"dim_0": [pd.Series(x[0]) for x in X],
                          "dim_1": [pd.Series(x[1]) for x in X]})
    clf = WarpClassifier(stride=4, decoding="mean", n_epochs=2, root_width=4,
                         embedding_width=4, embedding_layers=1, n_networks=1,
                         random_state=0)
    clf.fit(panel, [0, 1, 0, 1])
    network = clf.network_.eval()
    for i, x in enumerate(X):
        scaled = clf._network_input(x.T[None], np.array([x.shape[1]]))
        xt = torch.tensor(scaled, dtype=torch.float32)
        with torch.no_grad():
            outputs = network.forward_all(xt)[0]
        assert outputs.shape[0] == math.ceil(x.shape[1] / 4)
        expected = torch.softmax(outputs.mean(0).double(), 0).numpy()
        np.testing.assert_allclose(clf.predict_proba(panel.iloc[[i]])[0], expected,
                                   rtol=1e-5, atol=1e-6)


def test_a_stride_longer_than_the_series_is_refused():
    X = np.zeros((4, 1, 10))
    X[:, 0, 0] = [0, 1, 0, 1]
    with pytest.raises(ValueError, match="single recurrence step"):
        WarpClassifier(stride=10, n_epochs=1).fit(X, [0, 1, 0, 1])


def test_auto_stride_on_short_series_is_the_per_time_point_model():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((8, 2, 40)).astype(np.float32)
    y = np.arange(8) % 2
    params = {"n_epochs": 2, "root_width": 4, "embedding_width": 4, "embedding_layers": 1,
              "random_state": 0}
    auto = WarpClassifier(**params).fit(X, y)
    every_point = WarpClassifier(stride=1, **params).fit(X, y)
    pooled = WarpClassifier(stride=2, **params).fit(X, y)
    np.testing.assert_array_equal(auto.predict_proba(X), every_point.predict_proba(X))
    assert not np.array_equal(auto.predict_proba(X), pooled.predict_proba(X))
