"""The input embedding, the drive choice and the paper preset."""

import numpy as np
import pytest
import torch

from skwarp import PAPER_PARAMS, WarpClassifier
from skwarp.core import WarpNetwork
from skwarp.core.embedding import ConvEmbedding
from skwarp.core.transitions import DenseTransition, LRUTransition


@pytest.mark.parametrize("dilated", [False, True])
def test_causal_embedding_never_sees_the_future(dilated):
    torch.manual_seed(0)
    embedding = ConvEmbedding(2, width=4, n_layers=3, kernel_size=5, causal=True,
                              dilated=dilated).eval()
    x = torch.randn(1, 40, 2)
    changed = x.clone()
    changed[:, 25:] += 10.0
    a, b = embedding(x), embedding(changed)
    torch.testing.assert_close(a[:, :25], b[:, :25])
    assert not torch.allclose(a[:, 25:], b[:, 25:])


def test_centred_embedding_sees_both_sides():
    torch.manual_seed(0)
    embedding = ConvEmbedding(1, width=4, n_layers=1, kernel_size=5).eval()
    x = torch.randn(1, 20, 1)
    changed = x.clone()
    changed[:, 10] += 10.0
    moved = (embedding(x) - embedding(changed)).abs().sum(-1)[0]
    assert moved[8:13].min() > 0 and moved[:8].max() == 0 and moved[13:].max() == 0


def test_padding_never_reaches_the_embedding_nor_its_batch_statistics():
    """Garbage (NaN) past each series' end changes neither the training-mode
    outputs on the valid steps nor the running statistics."""
    torch.manual_seed(0)
    lengths = torch.tensor([30, 12, 1])
    x = torch.randn(3, 30, 2)
    garbage = x.clone()
    for i, n in enumerate(lengths):
        garbage[i, n:] = float("nan")
    clean = x.clone()
    for i, n in enumerate(lengths):
        clean[i, n:] = 0.0
    outputs = []
    for inputs in (clean, garbage):
        torch.manual_seed(1)
        embedding = ConvEmbedding(2, width=3, n_layers=2, kernel_size=3, norm=True).train()
        outputs.append((embedding(inputs, lengths), embedding.norms[0].running_mean.clone()))
    valid = (torch.arange(30) < lengths[:, None]).unsqueeze(-1)
    torch.testing.assert_close(torch.where(valid, outputs[0][0], 0),
                               torch.where(valid, outputs[1][0], 0))
    assert torch.isfinite(outputs[1][0]).all()
    torch.testing.assert_close(outputs[0][1], outputs[1][1])


def test_series_alone_equals_series_in_a_padded_batch():
    torch.manual_seed(0)
    net = WarpNetwork(3, 4, transition="lru", embedding="conv", drive="value",
                      embedding_norm=True, embedding_layers=3, embedding_dilated=True,
                      reference_length=50)
    with torch.no_grad():  # move the running statistics off their start
        net.train()
        net(torch.randn(8, 50, 3) * 2 + 1)
    net.eval()
    x = torch.randn(4, 50, 3)
    lengths = torch.tensor([50, 31, 2, 1])
    with torch.no_grad():
        batch = net(x, lengths)
        for i, n in enumerate(lengths):
            torch.testing.assert_close(net(x[i:i + 1, :n])[0], batch[i])


@pytest.mark.parametrize("drive", ["value", "difference"])
def test_drive_with_identity_transition_sums_the_drive(drive):
    """A = I: the final state is theta_0 + B sum_t v_t, where v_t is e_t
    (value) or e_t - e_{t-1} (difference) for t >= 1."""
    torch.manual_seed(0)
    net = WarpNetwork(2, 3, drive=drive).double()
    with torch.no_grad():
        net.B.normal_()
    x = torch.randn(2, 15, 2, dtype=torch.float64)
    theta0 = net.initial_state(x[:, 0])
    v = x[:, 1:] if drive == "value" else x[:, 1:] - x[:, :-1]
    expected = theta0 + v.sum(1) @ net.B.T
    torch.testing.assert_close(net.final_state(x), expected)


def test_recurrent_mode_refuses_an_embedding():
    net = WarpNetwork(1, 2, embedding="conv", time_scale=10.0)
    with pytest.raises(ValueError, match="embedding"):
        net._step(torch.zeros(1, net.n_params), torch.zeros(1, 1), torch.zeros(1, 1))


def test_bad_choices_are_named():
    with pytest.raises(ValueError, match="embedding must be"):
        WarpNetwork(1, 2, embedding="lstm")
    with pytest.raises(ValueError, match="drive must be"):
        WarpNetwork(1, 2, drive="sum")


def _motions(n=12):
    rng = np.random.default_rng(0)
    y = np.arange(n) % 2
    t = np.linspace(0, 1, 30)
    X = rng.normal(size=(n, 2, 30)) * 0.1 + np.sin(2 * np.pi * (1 + y[:, None, None]) * t)
    return X, y


def test_defaults_and_paper_preset_build_what_they_say():
    X, y = _motions()
    default = WarpClassifier(n_epochs=1, random_state=0).fit(X, y)
    assert isinstance(default.network_.transition, LRUTransition)
    assert isinstance(default.network_.embedding, ConvEmbedding)
    assert default.network_.drive == "value"
    assert default.network_.reference_length == 30
    paper = WarpClassifier(n_epochs=1, random_state=0, **PAPER_PARAMS).fit(X, y)
    assert isinstance(paper.network_.transition, DenseTransition)
    assert paper.network_.embedding is None and paper.network_.drive == "difference"
    torch.testing.assert_close(paper.network_.A, torch.eye(paper.network_.n_params),
                               atol=0.1, rtol=0)


@pytest.mark.parametrize("radius", [(0.5,), (0.9, 1.0), (0.0, 0.5), "ab", None])
def test_bad_transition_radius_is_named(radius):
    X, y = _motions()
    with pytest.raises(ValueError, match="transition_radius"):
        WarpClassifier(n_epochs=1, transition_radius=radius).fit(X, y)
