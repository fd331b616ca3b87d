"""``running_average``: an "lru" network whose states average the drive seen
so far, checked at the network's level (the transition's maths is checked
against its definition in test_transitions.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER

from skwarp import WarpClassifier, WarpForecaster
from skwarp.core import NetworkSpec, WarpNetwork
from skwarp.core.scan import FINAL_STATE_METHODS


def _network(**settings) -> WarpNetwork:
    torch.manual_seed(0)
    return WarpNetwork(2, 3, root_width=4, embedding="conv", embedding_width=5,
                       embedding_layers=2, drive="value", transition="lru",
                       transition_radius=(0.5, 0.999), transition_phase=1.0,
                       running_average=True, **settings).double()


def test_final_state_is_the_last_state_of_each_series():
    net = _network()
    x = torch.randn(3, 12, 2, dtype=torch.float64)
    lengths = torch.tensor([12, 1, 7])
    states = net.states(x, lengths)
    expected = states[torch.arange(3), lengths - 1]
    for method in FINAL_STATE_METHODS:
        torch.testing.assert_close(net.final_state(x, lengths, method), expected)
    # a series alone equals the same series padded in a batch
    torch.testing.assert_close(net.final_state(x[2:, :7]), expected[2:])


def test_a_state_has_one_scale_for_series_of_every_length():
    """With B = I on a constant drive (no embedding), every state's drive part
    is that constant whatever the length; over ``reference_length`` it is not."""
    settings = dict(transition="lru", drive="value", transition_radius=(0.9, 0.9999),
                    root_width=1, root_depth=1, n_frequencies=0)
    x = torch.full((1, 64, 2), 2.0, dtype=torch.float64)
    finals = {}
    for running in (False, True):
        torch.manual_seed(0)
        net = WarpNetwork(2, 1, running_average=running, reference_length=64,
                          **settings).double()
        with torch.no_grad():
            net.B.copy_(torch.ones_like(net.B) / 2)  # drive part: (2 + 2) / 2 per state
            net.transition.log_phase.fill_(-60.0)  # real decays
        theta0 = net.initial_state(x[:, 0])
        finals[running] = torch.stack([net.final_state(x[:, :n]) - net.transition.decay(
            theta0, torch.tensor([n - 1.0], dtype=torch.float64)) for n in (2, 16, 64)])
    torch.testing.assert_close(finals[True], torch.full_like(finals[True], 2.0))
    assert (finals[False][0] < 0.5).all()  # one step of 64 at the reference's gain


def test_the_gradient_reaches_every_parameter():
    net = _network()
    x = torch.randn(3, 9, 2, dtype=torch.float64)
    net.forward_all(x).square().sum().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert net.B.grad.abs().sum() > 0 and net.transition.nu.grad.abs().sum() > 0


@pytest.mark.parametrize("transition", ["dense", "diagonal", "lowrank"])
def test_the_other_transitions_ignore_it(transition):
    """They start at the identity with B = 0 (the paper); the setting is the
    lru's, like ``transition_radius``."""
    x = torch.randn(3, 9, 2)
    outputs = []
    for running in (False, True):
        torch.manual_seed(0)
        net = WarpNetwork(2, 3, transition=transition, running_average=running)
        with torch.no_grad():
            net.B.normal_(generator=torch.Generator().manual_seed(1))
        outputs.append(net(x))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def test_a_clipped_lru_state_needs_it_off():
    with pytest.raises(ValueError, match="running_average=False"):
        NetworkSpec(transition="lru", running_average=True, state_clip=3.0)
    NetworkSpec(transition="dense", running_average=True, state_clip=3.0)
    NetworkSpec(transition="lru", running_average=False, state_clip=3.0)


def test_recurrent_mode_refuses_it():
    net = WarpNetwork(2, 2, transition="lru", drive="value", running_average=True,
                      time_scale=5.0)
    x = torch.randn(2, 6, 2)
    with pytest.raises(ValueError, match="running_average"):
        net.teacher_forced(x, n_context=3, p_forcing=0.5,
                           next_input=lambda y, x_t: y[..., :2])


def test_estimators_take_it_and_check_it():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 1, 20))
    X[:6] += np.sin(np.linspace(0, 6, 20))
    X[::3, :, 12:] = np.nan  # unequal lengths: the batches carry lengths
    y = np.array([0] * 6 + [1] * 6)
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(X, y)  # the classifier's default
    assert clf.networks_[0].running_average
    proba = clf.predict_proba(X)
    assert proba.shape == (12, 2) and np.isfinite(proba).all()
    with pytest.raises(ValueError, match="running_average"):
        WarpClassifier(**{**TINY_CLASSIFIER, "state_clip": 2.0}).fit(X, y)
    y_series = np.sin(np.arange(40.0))
    # autoregressive decoding rolls out one step at a time: it refuses the setting
    with pytest.raises(ValueError, match="running_average"):
        WarpForecaster(transition="lru", running_average=True, n_epochs=1,
                       decoding="autoregressive").fit(y_series, fh=[1, 2])
    # decoding="direct" never rolls out: it takes the setting
    forecaster = WarpForecaster(**{**TINY_FORECASTER, "transition": "lru",
                                   "running_average": True, "decoding": "direct"})
    forecaster.fit(y_series, fh=[1, 2])
    assert forecaster.network_.running_average
    assert np.isfinite(np.asarray(forecaster.predict(), dtype=float)).all()
    assert np.isfinite(np.asarray(forecaster.predict_interval(coverage=0.8), dtype=float)).all()
