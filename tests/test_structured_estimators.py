"""Every transition structure through both estimators."""

import numpy as np
import pytest
import torch
from sktime.datasets import load_airline, load_japanese_vowels

from skwarp import WarpClassifier, WarpForecaster
from skwarp._training import TrainingConfig, make_optimizer
from skwarp.core import TRANSITIONS, WarpNetwork
from skwarp.core.transitions import LowRankTransition

FAST = {"n_epochs": 2, "root_width": 6, "n_frequencies": 1, "init_layers": 1,
        "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def vowels():
    """Unequal lengths, so padding meets every structure's solver."""
    X, y = load_japanese_vowels(split="train", return_type="nested_univ")
    return X.iloc[:60], y[:60]


@pytest.mark.parametrize("transition", TRANSITIONS)
@pytest.mark.parametrize("decoding", ["last", "mean"])
def test_classifier_trains_with_every_transition(vowels, transition, decoding):
    X, y = vowels
    clf = WarpClassifier(transition=transition, transition_rank=3, transition_block=5,
                         decoding=decoding, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    n_params = clf.network_.n_params
    assert clf.network_.A.shape == (n_params, n_params)
    # training moved the transition away from the identity start (lr > 0)
    assert not torch.equal(clf.network_.A, torch.eye(n_params))
    again = WarpClassifier(transition=transition, transition_rank=3, transition_block=5,
                           decoding=decoding, **FAST).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)


@pytest.mark.parametrize("transition", ["diagonal", "lowrank", "blockdiag"])
def test_forecaster_trains_with_structured_transitions(transition):
    y = load_airline()
    forecaster = WarpForecaster(transition=transition, context_length=6,
                                horizon_length=4, n_samples=10, **FAST).fit(y)
    assert np.isfinite(forecaster.predict(fh=[1, 2, 3, 4])).all()


def test_structured_state_parameters_scale_with_d():
    """D ~ 10,000 weights: a dense A would hold 10^8 entries, lowrank 2*D*r."""
    net = WarpNetwork(3, 2, root_width=1000, transition="lowrank", transition_rank=4,
                      initial_state="learned")
    assert isinstance(net.transition, LowRankTransition)
    n_transition = sum(p.numel() for p in net.transition.parameters())
    assert n_transition == 2 * net.n_params * 4


@pytest.mark.parametrize("bad, match", [
    ({"transition": "sparse"}, "transition must be one of"),
    ({"transition": "lowrank", "transition_rank": 0}, "transition_rank"),
    ({"transition": "blockdiag", "transition_block": 2.5}, "transition_block"),
])
def test_bad_transition_parameters(vowels, bad, match):
    X, y = vowels
    with pytest.raises(ValueError, match=match):
        WarpClassifier(**{**FAST, **bad}).fit(X, y)


@pytest.mark.parametrize("transition", TRANSITIONS)
def test_transition_parameters_get_the_transition_lr(transition):
    net = WarpNetwork(2, 2, root_width=4, transition=transition)
    config = TrainingConfig(n_epochs=1, batch_size=2, lr=1e-3, transition_lr=1e-6,
                            optimizer="adamw", weight_decay=0.1, grad_clip=1.0,
                            lr_schedule="constant", patience=1, verbose=False)
    groups = make_optimizer(net, config).param_groups
    slow = {id(p) for g in groups if g["lr"] == 1e-6 for p in g["params"]}
    assert slow == {id(p) for p in net.transition.parameters()}
    assert all(g["weight_decay"] == 0.0 for g in groups if g["lr"] == 1e-6)


def test_bf16_root_keeps_the_recurrence_in_float32():
    torch.manual_seed(0)
    full = WarpNetwork(3, 4, root_width=16)
    half = WarpNetwork(3, 4, root_width=16, root_precision="bfloat16")
    half.load_state_dict(full.state_dict())
    x = torch.randn(5, 40, 3)
    out = half(x)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, full(x), rtol=0.05, atol=0.05)
    assert not torch.equal(out, full(x))  # bf16 did round something
    out.square().sum().backward()
    assert half.transition.A.grad.dtype == torch.float32
    assert torch.isfinite(half.transition.A.grad).all()


def test_classifier_with_bf16_root(vowels):
    X, y = vowels
    clf = WarpClassifier(root_precision="bfloat16", **FAST).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    with pytest.raises(ValueError, match="root_precision"):
        WarpClassifier(root_precision="float8", **FAST).fit(X, y)


@pytest.mark.slow
def test_compiled_root_matches_eager_and_pickles():
    import pickle

    torch.manual_seed(0)
    net = WarpNetwork(3, 2, root_width=8, compile_root=True)
    x = torch.randn(4, 30, 3)
    compiled = net(x)
    net.compile_root = False
    torch.testing.assert_close(compiled, net(x))
    net.compile_root = True
    restored = pickle.loads(pickle.dumps(net))
    torch.testing.assert_close(restored(x), compiled)
