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


def test_nan_padding_changes_nothing():
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


@pytest.mark.parametrize("dilated", [False, True])
def test_batch_statistics_are_those_of_the_valid_steps_only(dilated):
    """Train mode, computed by hand with each series convolved alone: every
    layer normalises with the mean and biased variance of its valid steps
    only, and its running statistics move by ``momentum`` towards that mean
    and the unbiased variance. Padding steps would pull both (a convolution
    of zeros is its bias), so an unmasked BatchNorm fails here."""
    torch.manual_seed(0)
    lengths = [30, 12, 3]
    x = torch.randn(3, 30, 2, dtype=torch.float64)
    for i, n in enumerate(lengths):
        x[i, n:] = float("nan")
    embedding = ConvEmbedding(2, width=3, n_layers=2, kernel_size=3, dilated=dilated,
                              norm=True).double().train()
    with torch.no_grad():  # off the defaults, so that every term shows
        for norm in embedding.norms:
            norm.weight.uniform_(0.5, 2.0)
            norm.bias.normal_()
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
    start = [(norm.running_mean.clone(), norm.running_var.clone())
             for norm in embedding.norms]
    got = embedding(x, torch.tensor(lengths))

    series = [x[i, :n].T for i, n in enumerate(lengths)]  # each (channels, n)
    for conv, norm, (mean_0, var_0) in zip(embedding.convs, embedding.norms, start,
                                           strict=True):
        total = (conv.kernel_size[0] - 1) * conv.dilation[0]  # centred "same" padding
        with torch.no_grad():
            convolved = [conv(torch.nn.functional.pad(h, (total // 2, total - total // 2)))
                         for h in series]
        valid = torch.cat(convolved, dim=1)  # (width, sum of lengths): no padding
        assert valid.shape[1] == sum(lengths)
        mean, var = valid.mean(1), valid.var(1, correction=0)
        m = norm.momentum
        torch.testing.assert_close(norm.running_mean, (1 - m) * mean_0 + m * mean)
        torch.testing.assert_close(norm.running_var,
                                   (1 - m) * var_0 + m * valid.var(1, correction=1))
        scale = norm.weight / torch.sqrt(var + norm.eps)
        series = [torch.relu((h - mean[:, None]) * scale[:, None] + norm.bias[:, None])
                  for h in convolved]
    for i, n in enumerate(lengths):
        torch.testing.assert_close(got[i, :n], series[i].T.detach())
        assert (got[i, n:] == 0).all()


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


def test_the_paper_preset_starts_at_exactly_a_identity_and_b_zero():
    """The paper's model starts at A = I and B = 0 exactly, so every state is
    phi(x_0): the core's dense transition and network, and the preset's
    fitted network with lr = transition_lr = 0 (the weights as built)."""
    assert torch.equal(DenseTransition(7).A.detach(), torch.eye(7))
    torch.manual_seed(0)
    core = WarpNetwork(2, 3, root_width=4, transition="dense")
    assert torch.equal(core.A.detach(), torch.eye(core.n_params))
    assert torch.equal(core.B.detach(), torch.zeros(core.n_params, 2))
    X, y = _motions()
    frozen = WarpClassifier(**{**PAPER_PARAMS, "n_epochs": 1, "lr": 0.0, "transition_lr": 0.0,
                               "random_state": 0}).fit(X, y)
    network = frozen.network_
    assert isinstance(network.transition, DenseTransition)
    assert torch.equal(network.A.detach(), torch.eye(network.n_params))
    assert torch.equal(network.B.detach(), torch.zeros_like(network.B))
    trajectory = frozen.weight_trajectory(X[:4])
    assert trajectory.shape[1] == X.shape[2]
    np.testing.assert_array_equal(trajectory, np.repeat(trajectory[:, :1], X.shape[2], axis=1))


@pytest.mark.parametrize("radius", [(0.5,), (0.9, 1.0), (0.0, 0.5), "ab", None])
def test_bad_transition_radius_is_named(radius):
    X, y = _motions()
    with pytest.raises(ValueError, match="transition_radius"):
        WarpClassifier(n_epochs=1, transition_radius=radius).fit(X, y)


def _pointwise_network(drive: str, time_channel: bool) -> WarpNetwork:
    """A random ``B`` (the LRU start), so the drive reaches the state."""
    torch.manual_seed(0)
    return WarpNetwork(2, 4, root_width=4, time_scale=7.0, embedding="conv",
                       embedding_width=5, embedding_layers=2, embedding_kernel=1,
                       causal_embedding=True, drive=drive, transition="lru",
                       transition_radius=(0.5, 0.9), transition_phase=1.0,
                       reference_length=8, time_channel=time_channel).double()


@pytest.mark.parametrize("time_channel", [False, True])
@pytest.mark.parametrize("drive", ["difference", "value"])
def test_pointwise_embedding_steps_like_the_parallel_scan(drive, time_channel):
    """Recurrent mode embeds one step at a time: fed the truth throughout it
    gives the parallel outputs, and a rollout continues the scanned state."""
    net = _pointwise_network(drive, time_channel)
    assert net.drive_matrix().abs().min() > 0
    x = torch.randn(3, 8, 2, dtype=torch.float64)
    outputs, _ = net.teacher_forced(x, n_context=8, p_forcing=0.0,
                                    next_input=lambda y, x_t: y[..., :2])
    torch.testing.assert_close(outputs, net.forward_all(x)[:, :-1])
    # the context is one scan; the steps after it loop: forced to the truth
    # (p_forcing=1), the loop must give the scan's outputs too
    for n_context in (0, 1, 3, 7):
        outputs, fed = net.teacher_forced(x, n_context=n_context, p_forcing=1.0,
                                          next_input=lambda y, x_t: y[..., :2])
        torch.testing.assert_close(outputs, net.forward_all(x)[:, :-1])
        torch.testing.assert_close(fed, x[:, :-1])
    theta = net.final_state(x[:, :5])
    known = x[:, 5:]
    out, _ = net.rollout(theta, x[:, 4], 4, 3, lambda y, x_t: y[..., :0], known)
    torch.testing.assert_close(out, net.forward_all(x)[:, 4:7])
    # the embedding matters: another one changes the outputs
    with torch.no_grad():
        net.embedding.convs[0].weight.mul_(2.0)
    assert not torch.allclose(out, net.rollout(theta, x[:, 4], 4, 3,
                                               lambda y, x_t: y[..., :0], known)[0])


def test_recurrent_mode_refuses_an_embedding_that_needs_history():
    for kwargs in ({"embedding_kernel": 3}, {"embedding_kernel": 1, "embedding_norm": True}):
        net = WarpNetwork(2, 4, root_width=4, time_scale=7.0, embedding="conv", **kwargs)
        x = torch.randn(1, 4, 2)
        with pytest.raises(ValueError, match="pointwise"):
            net.teacher_forced(x, 2, 0.0, lambda y, x_t: y[..., :2])


@pytest.mark.parametrize("mode", ["parallel", "recurrent"])
def test_forecaster_with_a_pointwise_embedding(mode):
    from sktime.datasets import load_airline

    from skwarp import WarpForecaster

    y = load_airline()
    forecaster = WarpForecaster(embedding="conv", embedding_width=8, drive="value",
                                training_mode=mode, n_epochs=3, root_width=8,
                                random_state=0).fit(y[:-12])
    network = forecaster.network_
    assert network.embedding.kernel_size == 1 and network.embedding.norms is None
    forecast = forecaster.predict(fh=range(1, 13))
    assert np.isfinite(forecast.to_numpy()).all()
    again = WarpForecaster(**forecaster.get_params()).fit(y[:-12]).predict(fh=range(1, 13))
    np.testing.assert_array_equal(forecast.to_numpy(), again.to_numpy())
