"""Structured transitions against the float64 sequential reference (values and
gradients), for every solver each structure can use."""

import pytest
import torch
from _helpers import reference_states

from skwarp.core.operators import DenseOperator
from skwarp.core.scan import FINAL_STATE_METHODS, SCAN_METHODS
from skwarp.core.transitions import TRANSITIONS, make_transition

N_SERIES, N_CHANNELS = 3, 2
IDENTITY_STARTS = tuple(kind for kind in TRANSITIONS if kind != "lru")


def _transition(kind: str, n_state: int, seed: int = 0, scale: float = 0.3):
    """A transition of ``kind`` moved away from the identity, in float64, with
    spectral radius below about 1."""
    torch.manual_seed(seed)
    transition = make_transition(kind, n_state, rank=3, block_size=4).double()
    with torch.no_grad():
        for p in transition.parameters():
            p.add_(scale * torch.randn_like(p) / max(1, p.shape[-1]) ** 0.5)
        radius = torch.linalg.eigvals(transition.matrix()).abs().max()
        if kind in ("diagonal", "complex", "blockdiag", "dense"):
            for p in transition.parameters():
                p.mul_(0.97 / radius)
    return transition


def _problem(n_steps: int, n_state: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    B = torch.randn(n_state, N_CHANNELS, generator=g, dtype=torch.float64).requires_grad_()
    v = torch.randn(N_SERIES, n_steps, N_CHANNELS, generator=g,
                    dtype=torch.float64).requires_grad_()
    h0 = torch.randn(N_SERIES, n_state, generator=g, dtype=torch.float64).requires_grad_()
    return B, v, h0


def _check_grads(got, expected, inputs):
    weights = torch.linspace(-1, 1, got.numel(), dtype=got.dtype).reshape(got.shape)
    g_got = torch.autograd.grad((got * weights).sum(), inputs, retain_graph=True,
                                allow_unused=True)
    g_exp = torch.autograd.grad((expected * weights).sum(), inputs, retain_graph=True,
                                allow_unused=True)
    for a, b, x in zip(g_got, g_exp, inputs, strict=True):
        if x.numel():  # an empty tail block has no gradient to compare
            torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8)


def test_every_structure_preserves_itself_under_squaring():
    for kind in TRANSITIONS:
        for n_state in (7, 8):
            op = _transition(kind, n_state).operator()
            squared = op.square()
            # the structure, not only the value: a dense square would cost D^2
            assert type(squared) is type(op)
            assert squared.apply_cost == op.apply_cost
            torch.testing.assert_close(squared.matrix(), op.matrix() @ op.matrix())
            torch.testing.assert_close(squared.square().matrix(),
                                       torch.linalg.matrix_power(op.matrix(), 4))
            h = torch.randn(5, n_state, dtype=torch.float64)
            torch.testing.assert_close(op.apply(h), h @ op.matrix().T)


@pytest.mark.parametrize("kind", TRANSITIONS)
@pytest.mark.parametrize("n_state", [7, 12])
@pytest.mark.parametrize("n_steps", [1, 2, 37])
@pytest.mark.parametrize("method", FINAL_STATE_METHODS)
def test_final_state_matches_reference(kind, n_state, n_steps, method):
    transition = _transition(kind, n_state)
    B, v, h0 = _problem(n_steps, n_state)
    params = list(transition.parameters())
    expected = reference_states(transition.matrix(), B, v, h0)[:, -1]
    got = transition.final_state(B, v, h0, method=method)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    _check_grads(got, expected, params + [B, v, h0])


@pytest.mark.parametrize("kind", TRANSITIONS)
@pytest.mark.parametrize("method", FINAL_STATE_METHODS)
def test_final_state_unequal_lengths(kind, method):
    transition = _transition(kind, 10, seed=1)
    B, v, h0 = _problem(23, 10, seed=1)
    lengths = torch.tensor([23, 0, 9])
    states = reference_states(transition.matrix(), B, v, h0)
    expected = torch.stack([states[0, 22], h0[1], states[2, 8]])
    got = transition.final_state(B, v, h0, lengths, method=method)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    _check_grads(got, expected, list(transition.parameters()) + [B, v, h0])


@pytest.mark.parametrize("kind", TRANSITIONS)
@pytest.mark.parametrize("n_steps", [1, 5, 64])
@pytest.mark.parametrize("method", SCAN_METHODS)
def test_states_match_reference(kind, n_steps, method):
    transition = _transition(kind, 9, seed=2)
    B, v, h0 = _problem(n_steps, 9, seed=2)
    expected = reference_states(transition.matrix(), B, v, h0)
    got = transition.states(B, v, h0, method=method)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    _check_grads(got, expected, list(transition.parameters()) + [B, v, h0])


@pytest.mark.parametrize("kind", IDENTITY_STARTS)
def test_long_sequence_at_identity_matches_reference(kind):
    """T = 4096 at the initial A = I (radius exactly 1): values and gradients
    (transition parameters, B, v, h0) equal the float64 loop's."""
    transition = make_transition(kind, 16, rank=2, block_size=4).double()
    B, v, h0 = _problem(4096, 16, seed=3)
    inputs = list(transition.parameters()) + [B, v, h0]
    got = transition.final_state(B, v, h0, method="kernel")
    torch.testing.assert_close(got, h0 + v.sum(1) @ B.T, rtol=1e-9, atol=1e-9)
    expected = reference_states(transition.matrix(), B, v, h0)[:, -1]
    g_got = torch.autograd.grad(got.square().sum(), inputs)
    g_exp = torch.autograd.grad(expected.square().sum(), inputs)
    # B, v and h0 move the output (a low-rank A = I + U V^T with U = V = 0 has
    # zero gradients at the identity, in the loop as in the solver)
    assert all(g.abs().max() > 0 for g in g_exp[-3:])
    for a, b in zip(g_got, g_exp, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9 * max(1.0, b.abs().max().item()))


@pytest.mark.parametrize("kind", TRANSITIONS)
def test_parameter_counts(kind):
    n_state = 100
    counts = {"dense": 100 * 100, "diagonal": 100, "complex": 100,
              "blockdiag": 6 * 16 * 16 + 4 * 4, "lowrank": 2 * 100 * 8, "lru": 100}
    transition = make_transition(kind, n_state, rank=8, block_size=16)
    assert sum(p.numel() for p in transition.parameters()) == counts[kind]
    if kind in IDENTITY_STARTS:
        torch.testing.assert_close(transition.matrix(), torch.eye(n_state))


@pytest.mark.parametrize("n_state", [9, 10])
def test_lru_starts_on_its_time_scales(n_state):
    torch.manual_seed(0)
    transition = make_transition("lru", n_state, radius=(0.9, 0.999), max_phase=0.5)
    moduli = torch.linalg.eigvals(transition.matrix().detach().double()).abs()
    assert moduli.min() >= 0.9 - 1e-6 and moduli.max() <= 0.999 + 1e-6
    angles = torch.exp(transition.log_phase).detach()
    assert angles.max() <= 0.5 and angles.min() >= 0


def _lru_with(nu: torch.Tensor, log_phase: torch.Tensor, tail: float) -> torch.nn.Module:
    transition = make_transition("lru", 2 * len(nu) + 1)
    with torch.no_grad():
        transition.nu.copy_(nu)
        transition.log_phase.copy_(log_phase)
        transition.tail.fill_(tail)
    return transition


def _moduli(transition) -> torch.Tensor:
    """Eigenvalue moduli of the float32 ``A``: each 2x2 block is a scaled
    rotation (and the tail a 1x1 block), so a column's norm is its block's
    eigenvalue modulus; summed in float64, where the float32 squares are exact."""
    return transition.matrix().detach().double().norm(dim=0)


def test_lru_moduli_match_the_eigenvalues():
    torch.manual_seed(0)
    transition = _lru_with(torch.randn(4) * 3, torch.randn(4) * 3, 0.5)
    eigenvalues = torch.linalg.eigvals(transition.matrix().detach().double()).abs()
    torch.testing.assert_close(_moduli(transition).sort().values, eigenvalues.sort().values)


@pytest.mark.parametrize("tail", [-1e4, -20.0, 0.0, 100.0])
def test_lru_is_stable_in_float32_for_any_parameters(tail):
    """Every eigenvalue modulus is finite and below 1 for any nu and any angle,
    the extremes pinned: nu far below -17 (where exp(-exp(nu)) alone rounds to
    1 and the rounding of cos and sin would lift the modulus above it), nu
    past float32 overflow of exp (the modulus underflows to 0), log_phase past
    88.7 (where exp overflows and cos, sin would be NaN)."""
    nu = torch.cat((torch.linspace(-40.0, 5.0, 1000),
                    torch.tensor([-1e4, -20.0, -17.5, -1.0, 4.7, 88.0, 89.0, 1e4])))
    log_phase = torch.cat((torch.linspace(-30.0, 100.0, 1000),
                           torch.tensor([-1e4, 0.0, 1.0, 30.0, 88.0, 89.0, 1e4, 0.5])))
    for phases in (log_phase, log_phase.flip(0), log_phase.roll(333)):
        transition = _lru_with(nu, phases, tail)
        assert transition.matrix().dtype == torch.float32
        moduli = _moduli(transition)
        assert torch.isfinite(moduli).all()
        assert moduli.max() < 1, moduli.max().item() - 1


def test_lru_drive_gain_averages_a_constant_drive():
    """With the gain over L steps, a state driven by 1 for L steps from zero is 1."""
    torch.manual_seed(0)
    transition = make_transition("lru", 8, radius=(0.5, 0.9999), max_phase=0.0).double()
    with torch.no_grad():
        transition.log_phase.fill_(-60.0)  # angle e^-60: real decays
    gain = transition.drive_gain(300)
    B = torch.diag(gain)
    v = torch.ones(1, 300, 8, dtype=torch.float64)
    final = transition.final_state(B, v, torch.zeros(1, 8, dtype=torch.float64))
    torch.testing.assert_close(final, torch.ones(1, 8, dtype=torch.float64))
    # without a length the gain is 1 - r, r the modulus of each entry's eigenvalue
    moduli = torch.linalg.eigvals(transition.matrix().detach()).abs().sort().values
    torch.testing.assert_close(transition.drive_gain().detach().sort().values,
                               (1 - moduli).flip(0).sort().values)


def test_invalid_structures_are_rejected():
    with pytest.raises(ValueError, match="transition must be one of"):
        make_transition("sparse", 4)
    with pytest.raises(ValueError, match="rank"):
        make_transition("lowrank", 4, rank=0)
    with pytest.raises(ValueError, match="block_size"):
        make_transition("blockdiag", 4, block_size=0)
    with pytest.raises(ValueError, match="square"):
        DenseOperator(torch.zeros(2, 3))


def test_lru_closed_form_final_state_is_finite_and_matches_the_loop_in_float32():
    """The closed-form powers (``method="kernel"``, what "auto" picks) at the
    parameters' extremes: angles past float32 overflow of ``k * angle``, moduli
    rounding to 1 and underflowing to 0; it agrees with the sequential loop."""
    nu = torch.tensor([-40.0, -17.5, -5.0, 0.0, 4.7, 89.0])
    log_phase = torch.tensor([100.0, 88.0, 30.0, 0.5, -30.0, -1e4])
    transition = _lru_with(nu, log_phase, -20.0)
    g = torch.Generator().manual_seed(0)
    B = torch.randn(13, 3, generator=g)
    v = torch.randn(4, 3000, 3, generator=g)
    h0 = torch.randn(4, 13, generator=g)
    lengths = torch.tensor([3000, 1, 0, 1777])
    expected = transition.final_state(B, v, h0, lengths, method="sequential")
    got = transition.final_state(B, v, h0, lengths)
    assert torch.isfinite(got).all()
    # pairs 3-5 (states 6-11: moduli e^-1 and 0) agree closely; the first three
    # pairs carry angles of e^30 and more, whose float32 value is rounding
    # noise on both sides (bounded by the same moduli), and moduli at 1 sum
    # 3,000 steps of rounding
    torch.testing.assert_close(got[:, 6:12], expected[:, 6:12], rtol=1e-5, atol=1e-5)
    assert (got.abs().max() / expected.abs().max()).item() < 2


def test_lru_final_state_falls_back_to_squarings_past_its_table_size(monkeypatch):
    from skwarp.core import transitions

    transition = _transition("lru", 10, seed=3)
    B, v, h0 = _problem(40, 10, seed=3)
    closed = transition.final_state(B, v, h0)
    monkeypatch.setattr(transitions, "LRU_POWERS_MAX", 10 * 40 - 1)
    calls = []
    original = transitions.final_state
    monkeypatch.setattr(transitions, "final_state",
                        lambda *a, **k: calls.append(k) or original(*a, **k))
    squarings = transition.final_state(B, v, h0)
    assert calls and calls[0]["method"] == "auto"
    torch.testing.assert_close(squarings, closed, rtol=1e-9, atol=1e-9)


def _averaged_reference(transition, B, v, h0):
    """The running average from its definition, one step at a time in float64:
    ``A^s h0`` plus the drive's part of the recurrence from zero divided by
    the sum of the moduli's powers ``r^0 .. r^(s-1)``."""
    A = transition.matrix().detach().double()
    n_pairs = transition.nu.shape[0]
    # each entry's modulus: its 2 x 2 rotation-scaling block's, or its own in the tail
    moduli = torch.stack([torch.linalg.det(A[i - i % 2:i - i % 2 + 2, i - i % 2:i - i % 2 + 2])
                          .sqrt() if i < 2 * n_pairs else A[i, i].abs()
                          for i in range(A.shape[0])])
    r = torch.linalg.eigvals(A).abs()
    torch.testing.assert_close(moduli.sort().values, r.sort().values)
    driven, decayed, fill = torch.zeros_like(h0), h0, torch.zeros_like(moduli)
    out = []
    for s in range(v.shape[1]):
        driven = driven @ A.T + v[:, s] @ B.T
        decayed = decayed @ A.T
        fill = fill * moduli + 1
        out.append(decayed + driven / fill)
    return torch.stack(out, 1)


@pytest.mark.parametrize("n_state", [7, 8])
def test_lru_averaged_states_match_their_definition(n_state):
    transition = _transition("lru", n_state, seed=1)
    with torch.no_grad():
        transition.log_phase.add_(3.0)  # angles of about 1 rad: rotations matter
    B, v, h0 = _problem(23, n_state, seed=1)
    expected = _averaged_reference(transition, B, v, h0)
    for method in SCAN_METHODS:
        got = transition.averaged_states(B, v, h0, method=method)
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)
    got = transition.averaged_states(B, v, h0)
    _check_grads(got, expected, [B, v, h0])
    params = list(transition.parameters())
    weights = torch.linspace(-1, 1, got.numel(), dtype=got.dtype).reshape(got.shape)
    for g in torch.autograd.grad((got * weights).sum(), params):
        assert torch.isfinite(g).all() and g.abs().sum() > 0


def test_lru_averaged_final_state_is_the_averaged_state_at_each_length():
    transition = _transition("lru", 9, seed=2)
    B, v, h0 = _problem(30, 9, seed=2)
    lengths = torch.tensor([30, 0, 17])
    states = transition.averaged_states(B, v, h0)
    expected = torch.stack([h0[i] if n == 0 else states[i, n - 1]
                            for i, n in enumerate(lengths.tolist())])
    for method in FINAL_STATE_METHODS:
        got = transition.averaged_final_state(B, v, h0, lengths, method=method)
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(transition.averaged_final_state(B, v, h0), states[:, -1],
                               rtol=1e-10, atol=1e-10)


def test_lru_averaged_states_hold_a_constant_drive_at_every_step_in_float32():
    """The defining property: a drive held at ``c`` gives ``c`` from the first
    step on, for moduli from 0.5 to 1 - 1e-7 (where ``1 - r`` cancels in
    float32 and the fill must come from ``expm1``)."""
    torch.manual_seed(0)
    transition = make_transition("lru", 10, radius=(0.5, 1 - 1e-7), max_phase=0.0)
    with torch.no_grad():
        transition.log_phase.fill_(-60.0)  # angle e^-60: real decays
    v = torch.full((2, 500, 10), 3.0)
    got = transition.averaged_states(torch.eye(10), v, torch.zeros(2, 10))
    torch.testing.assert_close(got, torch.full_like(got, 3.0), rtol=1e-4, atol=1e-4)
