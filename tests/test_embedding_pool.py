"""``embedding_pool``: the first embedding layer sees every point, the later
layers and the recurrence one step per window of its features."""

import math

import numpy as np
import pytest
import torch

from skwarp import WarpClassifier
from skwarp.core import WarpNetwork
from skwarp.core.embedding import ConvEmbedding, mean_pool, pooled_lengths


def _reference_embedding(embedding: ConvEmbedding, x: torch.Tensor, length: int) -> torch.Tensor:
    """One series (T, d), unpadded, layer by layer: the first layer, its
    windows' means by a loop, then the later layers (eval mode)."""
    h = x[:length].T.unsqueeze(0)
    for layer, conv in enumerate(embedding.convs):
        h = conv(embedding._pad(h, embedding.dilations[layer]))
        if embedding.norms is not None:
            h = embedding.norms[layer](h)
        h = torch.relu(h)
        if layer == 0:
            windows = [h[..., start:start + embedding.pool].mean(-1)
                       for start in range(0, length, embedding.pool)]
            h = torch.stack(windows, -1)
    return h[0].T


@pytest.mark.parametrize("pool", [1, 2, 3, 7])
def test_pooled_embedding_matches_a_loop_and_ignores_padding(pool):
    torch.manual_seed(0)
    embedding = ConvEmbedding(2, width=5, n_layers=3, kernel_size=3, norm=True,
                              pool=pool).double().eval()
    lengths = [20, 13, 1]
    x = torch.randn(3, 20, 2, dtype=torch.float64)
    for i, n in enumerate(lengths):
        x[i, n:] = float("nan")
    with torch.no_grad():
        got = embedding(x, torch.tensor(lengths))
        assert got.shape == (3, math.ceil(20 / pool), 5)
        steps = embedding.output_lengths(torch.tensor(lengths))
        assert steps.tolist() == [math.ceil(n / pool) for n in lengths]
        for i, n in enumerate(lengths):
            expected = _reference_embedding(embedding, x[i], n)
            torch.testing.assert_close(got[i, :steps[i]], expected)
            assert (got[i, steps[i]:] == 0).all()


def _network(pool: int, seed: int = 0, **settings) -> WarpNetwork:
    torch.manual_seed(seed)
    return WarpNetwork(2, 3, root_width=4, transition="lru", embedding="conv",
                       embedding_width=4, embedding_layers=2, embedding_kernel=3,
                       embedding_norm=True, drive="value", embedding_pool=pool,
                       **settings).double().eval()


def test_a_series_alone_equals_the_series_in_a_padded_batch():
    network = _network(4, reference_length=23)
    x = torch.randn(3, 23, 2, dtype=torch.float64)
    lengths = torch.tensor([23, 9, 1])
    padded = x.clone()
    padded[1, 9:] = float("inf")
    with torch.no_grad():
        batch = network(padded, lengths)
        states = network.states(padded, lengths)
        steps = network.step_lengths(lengths)
        assert states.shape[1] == 6 == network.recurrence_steps(23)
        assert steps.tolist() == [6, 3, 1]
        for i, n in enumerate(lengths.tolist()):
            torch.testing.assert_close(network(x[i:i + 1, :n])[0], batch[i])
            torch.testing.assert_close(network.final_state(padded, lengths)[i],
                                       states[i, steps[i] - 1])


def test_stride_and_embedding_pool_compose():
    """stride 2 then pool 3: one recurrence step per 6 time points, and the
    same as pool 3 on the 2-point means of the series (theta_0 learned: phi
    would see the raw first point in one and a mean in the other)."""
    both = _network(3, stride=2, reference_length=25, initial_state="learned")
    pooled_only = _network(3, seed=1, reference_length=13, initial_state="learned")
    pooled_only.load_state_dict(both.state_dict())
    x = torch.randn(2, 25, 2, dtype=torch.float64)
    lengths = torch.tensor([25, 11])
    with torch.no_grad():
        torch.testing.assert_close(
            both(x, lengths), pooled_only(mean_pool(x, lengths, 2), pooled_lengths(lengths, 2)))
    assert both.recurrence_steps(25) == math.ceil(25 / 6)
    assert both.step_lengths(lengths).tolist() == [5, 2]


def test_the_drive_gain_counts_pooled_steps():
    network = _network(4, reference_length=100)
    gain = network.transition.drive_gain(25)
    torch.testing.assert_close(network.drive_matrix(), gain.unsqueeze(1) * network.B)


def test_embedding_pool_is_checked_and_refused_where_time_is_per_point():
    from skwarp.core import MassSpringDamper

    with pytest.raises(ValueError, match='embedding="conv"'):
        WarpNetwork(2, 2, embedding_pool=2)
    with pytest.raises(ValueError, match="embedding_pool=1"):
        WarpNetwork(2, 2, embedding="conv", embedding_pool=2, time_scale=10.0)
    with pytest.raises(ValueError, match="embedding_pool=1"):
        WarpNetwork(2, 2, embedding="conv", embedding_pool=2,
                    physics=MassSpringDamper(dt=0.1))
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="embedding_pool"):
            WarpNetwork(2, 2, embedding="conv", embedding_pool=bad)
    network = WarpNetwork(2, 2, embedding="conv", embedding_kernel=1, embedding_pool=2,
                          drive="value")
    with pytest.raises(ValueError, match="embedding_pool=1"):
        network._check_recurrent()


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", True])
def test_the_classifier_names_a_bad_embedding_pool(bad):
    with pytest.raises((ValueError, TypeError), match="embedding_pool"):
        WarpClassifier(embedding_pool=bad).fit(np.zeros((4, 1, 10)), [0, 1, 0, 1])


def test_the_classifier_fits_and_predicts_pooled_series_of_unequal_length():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 2, 30))
    X[::3, :, 17:] = np.nan  # shorter series
    y = np.arange(12) % 2
    clf = WarpClassifier(embedding_pool=4, n_networks=2, n_epochs=2, root_width=4,
                         embedding_width=4, random_state=0).fit(X, y)
    assert clf.predict_proba(X).shape == (12, 2)
    assert clf.weight_trajectory(X).shape[1] == math.ceil(30 / 4)
    again = WarpClassifier(**clf.get_params()).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_auto_pool_keeps_every_step_of_short_series_and_needs_an_embedding():
    from skwarp.classification import AUTO_POOL, AUTO_POOL_FROM, resolve_embedding_pool

    assert resolve_embedding_pool("auto", AUTO_POOL_FROM - 1) == 1
    assert resolve_embedding_pool("auto", AUTO_POOL_FROM) == AUTO_POOL
    assert resolve_embedding_pool("auto", 10_000, embedding=None) == 1
    assert resolve_embedding_pool(3, 5) == 3
    rng = np.random.default_rng(1)
    small = dict(n_networks=1, n_epochs=1, root_width=4, embedding_width=4, random_state=0)
    short = WarpClassifier(**small).fit(rng.standard_normal((6, 1, AUTO_POOL_FROM - 1)),
                                        np.arange(6) % 2)
    long = WarpClassifier(**small).fit(rng.standard_normal((6, 1, AUTO_POOL_FROM)),
                                       np.arange(6) % 2)
    assert (short.embedding_pool_, long.embedding_pool_) == (1, AUTO_POOL)
    assert long.network_.embedding.pool == AUTO_POOL
    # "auto" counts the steps after the stride
    strided = WarpClassifier(stride=2, **small).fit(
        rng.standard_normal((6, 1, AUTO_POOL_FROM)), np.arange(6) % 2)
    assert strided.embedding_pool_ == 1
    paper = WarpClassifier(embedding=None, **small).fit(
        rng.standard_normal((6, 1, 100)), np.arange(6) % 2)
    assert paper.embedding_pool_ == 1
    with pytest.raises(ValueError, match="embedding_pool"):
        WarpClassifier(embedding=None, embedding_pool=2, **small).fit(
            rng.standard_normal((6, 1, 100)), np.arange(6) % 2)


def test_auto_epoch_size_is_every_series_held_between_its_bounds():
    from skwarp.classification import AUTO_EPOCH_MAX, AUTO_EPOCH_MIN, resolve_epoch_size

    assert resolve_epoch_size("auto", 3) == AUTO_EPOCH_MIN
    assert resolve_epoch_size("auto", AUTO_EPOCH_MIN + 5) == AUTO_EPOCH_MIN + 5
    assert resolve_epoch_size("auto", 10 * AUTO_EPOCH_MAX) == AUTO_EPOCH_MAX
    assert resolve_epoch_size(None, 7) is None and resolve_epoch_size(12, 7) == 12
    X, y = np.random.default_rng(0).standard_normal((10, 1, 12)), np.arange(10) % 2
    small = dict(n_networks=1, n_epochs=1, root_width=4, embedding_width=4, random_state=0)
    assert WarpClassifier(**small).fit(X, y).epoch_size_ == AUTO_EPOCH_MIN
    # the validation series are not training series
    held = WarpClassifier(epoch_size=None, validation_fraction=0.4, **small).fit(X, y)
    assert held.epoch_size_ is None


@pytest.mark.parametrize("bad", ["all", 0, 2.5, True])
def test_a_bad_epoch_size_is_named(bad):
    with pytest.raises((ValueError, TypeError), match="epoch_size"):
        WarpClassifier(epoch_size=bad).fit(np.zeros((4, 1, 10)), [0, 1, 0, 1])


def test_auto_pool_is_coarser_from_a_thousand_steps():
    from skwarp.classification import (
        AUTO_POOL,
        AUTO_POOL_LONG,
        AUTO_POOL_LONG_FROM,
        resolve_embedding_pool,
    )

    assert resolve_embedding_pool("auto", AUTO_POOL_LONG_FROM - 1) == AUTO_POOL
    assert resolve_embedding_pool("auto", AUTO_POOL_LONG_FROM) == AUTO_POOL_LONG


@pytest.mark.parametrize("decoding", ["last", "mean"])
def test_logits_without_lengths_equal_those_of_full_lengths(decoding):
    """The training loop drops the lengths of a batch its series fill
    (``_training._fills``): the logits must be those of the masked path."""
    from skwarp._training import Batch, _fills
    from skwarp.classification import class_logits

    network = _network(4, reference_length=23).train()
    x = torch.randn(3, 23, 2, dtype=torch.float64)
    lengths = torch.full((3,), 23)
    full = Batch(x, lengths, torch.zeros(3, dtype=torch.long), lengths)
    assert _fills(full)
    assert not _fills(Batch(x, lengths - 1, full.y, lengths - 1))
    masked = class_logits(network, full, decoding, "auto")
    unmasked = class_logits(network, Batch(x, None, full.y, lengths), decoding, "auto")
    torch.testing.assert_close(unmasked, masked)
