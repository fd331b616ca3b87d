"""Every solver against the float64 sequential reference: values and gradients."""

import pytest
import torch
from _helpers import identity_reference

from skwarp.core.scan import (
    FINAL_STATE_METHODS,
    final_state,
    linear_scan,
    scan_sequential,
)

N_SERIES, N_STATE, N_CHANNELS = 3, 6, 2


def _transition(spectral_radius: float, generator: torch.Generator) -> torch.Tensor:
    A = torch.randn(N_STATE, N_STATE, generator=generator, dtype=torch.float64)
    return A * spectral_radius / torch.linalg.eigvals(A).abs().max()


def _problem(n_timepoints: int, spectral_radius: float, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    A = _transition(spectral_radius, g).requires_grad_()
    B = torch.randn(N_STATE, N_CHANNELS, generator=g, dtype=torch.float64).requires_grad_()
    h0 = torch.randn(N_SERIES, N_STATE, generator=g, dtype=torch.float64).requires_grad_()
    x = torch.randn(N_SERIES, n_timepoints, N_CHANNELS, generator=g,
                    dtype=torch.float64).requires_grad_()
    return A, B, h0, x


def _reference_final(A, B, h0, x, lengths=None):
    """Plain loop over time, one series at a time."""
    finals = []
    for i in range(x.shape[0]):
        n_steps = x.shape[1] if lengths is None else int(lengths[i])
        h = h0[i]
        for t in range(1, n_steps):
            h = A @ h + B @ (x[i, t] - x[i, t - 1])
        finals.append(h)
    return torch.stack(finals)


def _grads(output, inputs):
    weights = torch.linspace(-1, 1, output.numel(), dtype=output.dtype).reshape(output.shape)
    grads = torch.autograd.grad((output * weights).sum(), inputs, allow_unused=True,
                                retain_graph=True)
    return [torch.zeros_like(i) if g is None else g for g, i in zip(grads, inputs, strict=True)]


@pytest.mark.parametrize("n_timepoints", [1, 2, 3, 17, 1000])
@pytest.mark.parametrize("spectral_radius", [0.9, 0.97, 1.0])
@pytest.mark.parametrize("method", [m for m in FINAL_STATE_METHODS if m != "auto"] + ["auto"])
def test_final_state_matches_reference(n_timepoints, spectral_radius, method):
    A, B, h0, x = _problem(n_timepoints, spectral_radius)
    expected = _reference_final(A, B, h0, x)
    got = final_state(A, B, x[:, 1:] - x[:, :-1], h0, method=method, chunk=8)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    for g_got, g_exp in zip(_grads(got, (A, B, h0, x)), _grads(expected, (A, B, h0, x)),
                            strict=True):
        torch.testing.assert_close(g_got, g_exp, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("n_timepoints", [2, 3, 17, 1000])
@pytest.mark.parametrize("method", ["sequential", "parallel", "auto"])
def test_linear_scan_matches_reference(n_timepoints, method):
    A, B, h0, x = _problem(n_timepoints, 0.99, seed=1)
    u = (x[:, 1:] - x[:, :-1]) @ B.T
    expected = []
    for i in range(N_SERIES):
        h, states = h0[i], []
        for t in range(u.shape[1]):
            h = A @ h + u[i, t]
            states.append(h)
        expected.append(torch.stack(states))
    expected = torch.stack(expected)
    got = linear_scan(A, u, h0, method=method)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    for g_got, g_exp in zip(_grads(got, (A, B, h0, x)), _grads(expected, (A, B, h0, x)),
                            strict=True):
        torch.testing.assert_close(g_got, g_exp, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("method", ["sequential", "parallel", "kernel"])
@pytest.mark.parametrize("chunk", [1, 4, 64])
def test_final_state_unequal_lengths(method, chunk):
    A, B, h0, x = _problem(40, 0.95, seed=2)
    lengths = torch.tensor([40, 1, 23])
    expected = _reference_final(A, B, h0, x, lengths)
    # garbage after each series' end must not matter
    x_padded = x.detach().clone()
    for i, n in enumerate(lengths):
        x_padded[i, n:] = 1e3
    x_padded.requires_grad_()
    got = final_state(A, B, x_padded[:, 1:] - x_padded[:, :-1], h0,
                      lengths=(lengths - 1).clamp(min=0), method=method, chunk=chunk)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
    g_got = _grads(got, (A, B, h0))
    g_exp = _grads(expected, (A, B, h0))
    for a, b in zip(g_got, g_exp, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("method", ["sequential", "parallel", "kernel"])
def test_identity_transition_matches_reference_with_gradients(method):
    """A = I is WARP's initialisation, where an eigendecomposition would fail:
    values and gradients (A, B, h0, x) equal the float64 loop's."""
    _, B, h0, x = _problem(300, 1.0)
    A = torch.eye(N_STATE, dtype=torch.float64, requires_grad=True)
    out = final_state(A, B, x[:, 1:] - x[:, :-1], h0, method=method)
    expected = _reference_final(A, B, h0, x)
    torch.testing.assert_close(out, h0 + (x[:, -1] - x[:, 0]) @ B.T)
    torch.testing.assert_close(out, expected, rtol=1e-9, atol=1e-9)
    for g_got, g_exp in zip(_grads(out, (A, B, h0, x)), _grads(expected, (A, B, h0, x)),
                            strict=True):
        assert g_exp.abs().max() > 0  # every input moves the output
        torch.testing.assert_close(g_got, g_exp, rtol=1e-8, atol=1e-8)


def test_closed_form_identity_reference_equals_the_loop():
    """The closed form test_cuda uses at T = 16,384, checked here at T = 300."""
    _, B, h0, x = _problem(300, 1.0, seed=4)
    v = (x[:, 1:] - x[:, :-1]).detach().requires_grad_()
    A = torch.eye(N_STATE, dtype=torch.float64, requires_grad=True)
    h, weights = h0, torch.linspace(-1, 1, N_SERIES * N_STATE, dtype=torch.float64)
    for s in range(v.shape[1]):
        h = h @ A.T + v[:, s] @ B.T
    weights = weights.view_as(h)
    value, grads = identity_reference(B, v, h0, weights)
    torch.testing.assert_close(h, value)
    for got, expected in zip(torch.autograd.grad((h * weights).sum(), (A, B, v, h0)), grads,
                             strict=True):
        torch.testing.assert_close(got, expected)


@pytest.mark.parametrize("method", ["kernel", "parallel"])
def test_float32_solvers_as_accurate_as_the_float32_loop(method):
    """At radius 1 over 2,000 steps float32 rounding accumulates: the float32
    loop itself is 3.5e-4 (absolute, states up to 27) off the float64 loop.
    The solvers measured 4.7e-4: within 2x the loop's error, and 1e-3."""
    A, B, h0, x = _problem(2000, 1.0, seed=3)
    expected = _reference_final(A, B, h0, x).detach()
    args = (A.detach().float(), B.detach().float(), (x[:, 1:] - x[:, :-1]).detach().float(),
            h0.detach().float())
    loop_error = (final_state(*args, method="sequential").double() - expected).abs().max()
    got = final_state(*args, method=method).double()
    assert (got - expected).abs().max() <= 2 * loop_error
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-3)


def test_sequential_scan_without_initial_state_starts_from_zero():
    A, B, _, x = _problem(5, 0.9)
    u = x.detach()[:, :, :1].expand(-1, -1, N_STATE)
    states = scan_sequential(A.detach(), u)
    torch.testing.assert_close(states[:, 0], u[:, 0])


def test_unknown_method_is_rejected():
    A, B, h0, x = _problem(3, 0.9)
    with pytest.raises(ValueError, match="method must be one of"):
        final_state(A, B, x, h0, method="fft")
    with pytest.raises(ValueError, match="method must be one of"):
        linear_scan(A, x @ B.T, h0, method="kernel")


def test_auto_final_state_prefers_the_loop_only_where_it_is_cheaper():
    from skwarp.core.operators import as_operator
    from skwarp.core.scan import _choose_final_state_method

    dense = as_operator(torch.eye(452))
    # a CPU runs the short loop (N*S below D*log2(S)), a GPU pays launches per step
    assert _choose_final_state_method(dense, 8, 100, "cpu") == "sequential"
    assert _choose_final_state_method(dense, 8, 100, "cuda") == "kernel"
    assert _choose_final_state_method(dense, 8, 16384, "cpu") == "kernel"
    # a huge dense A: squaring it costs more than the launches of a short loop
    assert _choose_final_state_method(as_operator(torch.eye(4096)), 8, 64, "cuda") \
        == "sequential"


def test_dense_loop_with_gradients_runs_as_its_own_autograd_function():
    """The reference tests above go through DenseFinalState (not autograd of
    the loop) for a dense A; it passes gradcheck, with and without lengths."""
    from skwarp.core.scan import DenseFinalState, final_state_sequential

    A, B, h0, x = _problem(9, 0.97, seed=4)
    v = x[:, 1:] - x[:, :-1]
    out = final_state_sequential(A, B, v, h0)
    assert type(out.grad_fn).__name__ == "DenseFinalStateBackward"
    with torch.no_grad():  # no states kept without gradients: the plain loop
        torch.testing.assert_close(final_state_sequential(A, B, v, h0), out.detach())
    B, v = B.detach().requires_grad_(), v.detach().requires_grad_()
    for lengths in (None, torch.tensor([8, 0, 3])):
        assert torch.autograd.gradcheck(
            lambda A, B, v, h0, lengths=lengths: DenseFinalState.apply(A, B, v, h0, lengths),
            (A, B, v, h0))
