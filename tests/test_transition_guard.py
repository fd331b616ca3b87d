"""The transition guard (``skwarp.core.stability``) on its own: it bounds the
spectral norm of a transition matrix by its cap, measuring the norm only when
the matrix has changed by more than the last measurement certifies (so steps
that cancel cost nothing and small steps are not measured again), leaves a
matrix under the cap untouched, caps every structured transition (diagonal,
complex, block-diagonal, low-rank) as it does a dense one, and leaves a
diverged (NaN) matrix to the training loop's fallback. ``transition_cap``
turns a bound on the growth over a series into a cap per step. The guard in
training is checked in ``test_divergence.py``."""

import pytest
import torch

from skwarp.core.stability import TransitionGuard, transition_cap
from skwarp.core.transitions import DenseTransition, make_transition


def test_transition_guard_bounds_the_whole_change_so_cancelling_steps_are_free():
    network = torch.nn.Module()
    network.transition = DenseTransition(20)
    A = network.transition.A
    guard = TransitionGuard(cap=1.05)
    guard(network)  # first call: measured (norm 1)
    step = torch.full((20, 20), 0.002)  # Frobenius norm 0.04 each way
    with torch.no_grad():
        for sign in (1, -1) * 5:  # ten steps that sum to nothing
            A.add_(sign * step)
            guard(network)
    # summed step by step the bound would pass the cap (1 + 10 * 0.04); as one
    # change it never leaves 1 + 0.04
    assert guard.n_measurements == 1
    assert torch.allclose(A.detach(), torch.eye(20))


def test_transition_guard_caps_a_dense_transition():
    g = torch.Generator().manual_seed(0)
    network = torch.nn.Module()
    network.transition = DenseTransition(20)
    A = network.transition.A
    with torch.no_grad():
        A.add_(0.5 * torch.randn(20, 20, generator=g))
    guard = TransitionGuard(cap=1.01)
    guard(network)
    assert torch.linalg.matrix_norm(A.detach(), 2) <= 1.01 * (1 + 1e-5)
    assert guard.n_measurements == 1
    with torch.no_grad():
        A.copy_(0.5 * torch.eye(20))
    guard(network)  # the change is large: measured again, norm 0.5, left alone
    assert guard.n_measurements == 2
    assert torch.equal(A.detach(), 0.5 * torch.eye(20))
    with torch.no_grad():  # small steps are certified without measuring again
        for _ in range(5):
            A.add_(0.01 * torch.randn(20, 20, generator=g) / 20)
            guard(network)
    assert guard.n_measurements == 2
    with torch.no_grad():
        A.add_(torch.eye(20))
    guard(network)
    assert guard.n_measurements == 3
    assert torch.linalg.matrix_norm(A.detach(), 2) <= 1.01 * (1 + 1e-5)
    TransitionGuard(cap=1.0)(torch.nn.Linear(2, 2))  # no transition: nothing to do
    assert transition_cap(1e3, 16383) == pytest.approx(1e3 ** (1 / 16383))


@pytest.mark.parametrize("kind", ["diagonal", "complex", "blockdiag", "lowrank"])
def test_transition_guard_caps_structured_transitions(kind):
    torch.manual_seed(0)
    network = torch.nn.Module()
    network.transition = make_transition(kind, 23, rank=3, block_size=5)
    with torch.no_grad():
        for p in network.transition.parameters():
            p.add_(0.8 * torch.randn_like(p))
    norm = torch.linalg.matrix_norm(network.transition.matrix(), 2)
    assert norm > 1.05  # the test starts above the cap
    TransitionGuard(cap=1.05)(network)
    capped = network.transition.matrix()
    assert torch.linalg.matrix_norm(capped, 2) <= 1.05 * (1 + 1e-5)
    before = capped.clone()
    TransitionGuard(cap=2 * float(norm))(network)  # under the cap: untouched
    assert torch.equal(network.transition.matrix(), before)
    with torch.no_grad():  # a diverged step: left to the training loop's fallback
        next(network.transition.parameters()).view(-1)[0] = float("nan")
    TransitionGuard(cap=1.05)(network)
