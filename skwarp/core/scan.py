"""Solvers for the linear recurrence ``h_s = A h_{s-1} + u_s``.

Plain torch, no sklearn/sktime. Row-vector convention: states have shape
``(N, S, D)`` and one step is ``h @ A.T + u``. ``A`` is a ``(D, D)`` tensor or
any structured operator from :mod:`skwarp.core.operators` (diagonal,
block-diagonal, low-rank...): the solvers only apply and square it.

Two families:

* all states (:func:`linear_scan`): a sequential reference loop, and an
  odd-even (cyclic) reduction that is log-depth in ``S`` and does about twice
  the matmul work of the loop, in a few large matrix products per level;
* final state only (:func:`final_state`), where the inputs are ``u_s = B v_s``
  with ``v`` low-dimensional: the chunked kernel path contracts ``v`` with the
  kernel ``K_j = A^j B`` chunk by chunk and reduces the chunk sums with a
  log-depth tree, so neither ``u`` nor the trajectory is ever materialised.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from skwarp.core.operators import DenseOperator, LinearOperator, as_operator

__all__ = ["DEFAULT_CHUNK", "FINAL_STATE_METHODS", "GPU_STEP_OVERHEAD",
           "PARALLEL_SCAN_MAX_STEP_COST_ON_CPU", "SCAN_METHODS", "DenseFinalState",
           "check_lengths", "final_state", "final_state_kernel", "final_state_sequential",
           "linear_scan", "scan_parallel", "scan_sequential", "valid_mask"]

SCAN_METHODS = ("auto", "sequential", "parallel")
FINAL_STATE_METHODS = ("auto", "sequential", "parallel", "kernel")
DEFAULT_CHUNK = 64
# per-row cost of one step (D^2 for a dense D = 128) below which the parallel
# scan beats the loop on a CPU
PARALLEL_SCAN_MAX_STEP_COST_ON_CPU = 128**2
# On a GPU each loop step is a handful of kernel launches (forward and
# backward), each costing about what 2^27 multiply-adds take on the card: a
# short loop is bound by launches, not arithmetic (benchmarks.scan measures it).
GPU_STEP_OVERHEAD = 2**27


def _check_method(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")


# --------------------------------------------------------------------------- #
# all states
# --------------------------------------------------------------------------- #
def scan_sequential(A: Tensor | LinearOperator, u: Tensor, h0: Tensor | None = None,
                    clip: float | None = None) -> Tensor:
    """Reference loop: every state of ``h_s = A h_{s-1} + u_s``, ``h_{-1} = h0``.

    ``clip`` clamps every state to ``[-clip, clip]`` (a nonlinear variant that
    only this loop solves).
    """
    A = as_operator(A)
    steps = u.unbind(1)  # unbind, not u[:, s]: slicing makes backward O(S^2)
    h = torch.zeros_like(u[:, 0]) if h0 is None else h0
    states = []
    for u_s in steps:
        h = _clamp(A.apply(h) + u_s, clip)
        states.append(h)
    return torch.stack(states, dim=1)


def _clamp(h: Tensor, clip: float | None) -> Tensor:
    return h if clip is None else h.clamp(-clip, clip)


def _odd_even_scan(A: LinearOperator, u: Tensor) -> Tensor:
    """All states of the zero-initialised recurrence by odd-even reduction.

    Pairs of steps are fused (``w_i = A u_{2i} + u_{2i+1}``), the half-length
    problem with ``A^2`` gives the odd states, and one product fills in the
    even ones. Depth ``log2(S)``; total work about ``2 S`` state products.
    """
    n_steps = u.shape[1]
    if n_steps == 1:
        return u
    if n_steps % 2:
        u = torch.nn.functional.pad(u, (0, 0, 0, 1))
    even, odd = u[:, 0::2], u[:, 1::2]
    odd_states = _odd_even_scan(A.square(), odd + A.apply(even))
    carried = A.apply(odd_states[:, :-1])
    even_states = even + torch.nn.functional.pad(carried, (0, 0, 1, 0))
    states = torch.stack((even_states, odd_states), dim=2).flatten(1, 2)
    return states[:, :n_steps]


def scan_parallel(A: Tensor | LinearOperator, u: Tensor,
                  h0: Tensor | None = None) -> Tensor:
    """Log-depth equivalent of :func:`scan_sequential`."""
    A = as_operator(A)
    if h0 is not None:
        first = u[:, :1] + A.apply(h0).unsqueeze(1)
        u = torch.cat((first, u[:, 1:]), dim=1)
    return _odd_even_scan(A, u)


def linear_scan(
    A: Tensor | LinearOperator, u: Tensor, h0: Tensor | None = None,
    method: str = "auto",
) -> Tensor:
    """Every state of ``h_s = A h_{s-1} + u_s`` for ``s = 0 .. S-1``.

    Parameters
    ----------
    A : Tensor of shape (D, D) or LinearOperator
    u : Tensor of shape (N, S, D), S >= 1
    h0 : Tensor of shape (N, D), optional
        State before the first input; zeros when omitted.
    method : {"auto", "sequential", "parallel"}
        "auto" uses the parallel scan on GPUs, and on CPUs when one step is
        cheap (a dense ``D <= 128``, a diagonal of any size). On a CPU both are
        bound by the same products and the parallel scan does about twice the
        work, so for costlier steps the loop is faster there.

    Returns
    -------
    Tensor of shape (N, S, D)
    """
    _check_method(method, SCAN_METHODS)
    if u.shape[1] == 0:
        raise ValueError("linear_scan needs at least one input step")
    A = as_operator(A)
    if method == "auto":
        cheap_step = A.apply_cost <= PARALLEL_SCAN_MAX_STEP_COST_ON_CPU
        method = "parallel" if u.device.type != "cpu" or cheap_step else "sequential"
    if method == "sequential":
        return scan_sequential(A, u, h0)
    return scan_parallel(A, u, h0)


# --------------------------------------------------------------------------- #
# final state
# --------------------------------------------------------------------------- #
def valid_mask(lengths: Tensor, n_steps: int) -> Tensor:
    """Boolean (N, n_steps): True on each row's first ``lengths[i]`` steps."""
    return torch.arange(n_steps, device=lengths.device) < lengths[:, None]


def _right_align(v: Tensor, lengths: Tensor) -> Tensor:
    """Move each row's first ``lengths[i]`` steps to the end, zeros in front."""
    n_steps = v.shape[1]
    v = torch.where(valid_mask(lengths, n_steps).unsqueeze(-1), v, torch.zeros_like(v))
    shift = (n_steps - lengths)[:, None]
    index = (torch.arange(n_steps, device=v.device) - shift) % n_steps
    return torch.gather(v, 1, index.unsqueeze(-1).expand_as(v))


def _matrix_powers(A: LinearOperator, n_powers: int) -> list[LinearOperator]:
    """``[A, A^2, A^4, ..., A^(2^(n_powers-1))]`` by repeated squaring."""
    powers = [A]
    for _ in range(n_powers - 1):
        powers.append(powers[-1].square())
    return powers


def _apply_power(h: Tensor, powers: list[LinearOperator], exponents: Tensor) -> Tensor:
    """Row ``i`` of the result is ``A^exponents[i] h_i`` (binary exponentiation).

    ``powers`` holds ``A^(2^k)`` for every bit ``k`` of the largest exponent.
    """
    for bit, power in enumerate(powers):
        use = ((exponents >> bit) & 1).bool().unsqueeze(-1)
        h = torch.where(use, power.apply(h), h)
    return h


def _chunk_kernel(B: Tensor, powers: list[LinearOperator], log_chunk: int) -> Tensor:
    """Kernel ``K_j^T = (A^j B)^T`` for ``j < 2^log_chunk``, by doubling."""
    kernel = B.T.unsqueeze(0)
    for power in powers[:log_chunk]:
        kernel = torch.cat((kernel, power.apply(kernel)), dim=0)
    return kernel


def _tree_reduce(powers: list[LinearOperator], c: Tensor) -> Tensor:
    """``sum_k M^(K-1-k) c_k`` over ``c`` (N, K, D) in log depth.

    ``powers`` is ``[M, M^2, M^4, ...]`` with at least ``log2(K)`` entries.
    """
    level = 0
    while c.shape[1] > 1:
        if c.shape[1] % 2:  # a zero term in front contributes nothing
            c = torch.nn.functional.pad(c, (0, 0, 1, 0))
        c = c[:, 1::2] + powers[level].apply(c[:, 0::2])
        level += 1
    return c[:, 0]


def final_state_kernel(
    A: Tensor | LinearOperator,
    B: Tensor,
    v: Tensor,
    h0: Tensor,
    lengths: Tensor | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> Tensor:
    """Final state by chunked kernel contraction; see :func:`final_state`."""
    A = as_operator(A)
    n, n_steps, n_in = v.shape
    if lengths is None:
        exponents = torch.full((n,), n_steps, device=v.device)
    else:
        v = _right_align(v, lengths)
        exponents = lengths
    # one list of squarings A^(2^k) serves the kernel, the tree and h0's power
    powers = _matrix_powers(A, max(n_steps, 1).bit_length())
    result = _apply_power(h0, powers, exponents)
    if n_steps == 0:
        return result
    log_chunk = max(1, min(chunk, n_steps)).bit_length() - 1  # power-of-two chunk
    chunk = 1 << log_chunk
    n_chunks = -(-n_steps // chunk)
    pad = n_chunks * chunk - n_steps  # zeros in front contribute nothing
    v = torch.nn.functional.pad(v, (0, 0, pad, 0))
    kernel = _chunk_kernel(B, powers, log_chunk)
    # row i*n_in + e of the flat kernel is column e of K_{chunk-1-i}
    flat_kernel = kernel.flip(0).reshape(chunk * n_in, -1)
    chunk_sums = v.reshape(n, n_chunks, chunk * n_in) @ flat_kernel
    return result + _tree_reduce(powers[log_chunk:], chunk_sums)


def final_state(
    A: Tensor | LinearOperator,
    B: Tensor,
    v: Tensor,
    h0: Tensor,
    lengths: Tensor | None = None,
    method: str = "auto",
    chunk: int = DEFAULT_CHUNK,
) -> Tensor:
    """Final state of ``h_s = A h_{s-1} + B v_s`` started from ``h0``.

    Parameters
    ----------
    A : Tensor of shape (D, D) or LinearOperator
    B : Tensor of shape (D, d)
    v : Tensor of shape (N, S, d)
        Inputs, left-aligned; S may be 0 (the result is then ``h0``).
    h0 : Tensor of shape (N, D)
    lengths : LongTensor of shape (N,), optional
        Number of valid steps of each row; steps past it are ignored and the
        row's own last state is returned.
    method : {"auto", "sequential", "parallel", "kernel"}
        "auto" picks the kernel path, which never materialises ``B v`` nor the
        trajectory, unless the sequence is so short that the loop is cheaper
        than the kernel's ``log2(S)`` squarings of ``A`` (on a GPU, where a
        loop step costs its kernel launches, only for very short sequences).
    chunk : int
        Chunk length of the kernel path, rounded down to a power of two
        (memory ``chunk * D * d``).

    Returns
    -------
    Tensor of shape (N, D)
    """
    _check_method(method, FINAL_STATE_METHODS)
    A = as_operator(A)
    if lengths is not None:
        lengths = check_lengths(lengths, v.shape[1], v.device, minimum=0)
    if method == "auto":
        method = _choose_final_state_method(A, v.shape[0], v.shape[1], v.device.type)
    if method == "kernel":
        return final_state_kernel(A, B, v, h0, lengths, chunk)
    if method == "sequential":
        return final_state_sequential(A, B, v, h0, lengths)
    if v.shape[1] == 0:
        return h0
    states = scan_parallel(A, v @ B.T, h0)
    return _gather_last(states, h0, lengths)


def _choose_final_state_method(A: LinearOperator, n_series: int, n_steps: int,
                               device_type: str = "cpu") -> str:
    # loop: n_steps applications of A to n_series rows; kernel: about
    # log2(n_steps) squarings. For a dense A on a CPU this is N*S >= D*log2(S),
    # where the loop's S products of N rows cost what the kernel's squarings
    # do; on a GPU every loop step also pays its launches.
    squarings = max(n_steps, 1).bit_length()
    loop_cost = n_series * n_steps * A.apply_cost
    if device_type != "cpu":
        loop_cost += n_steps * GPU_STEP_OVERHEAD
    return "kernel" if loop_cost >= squarings * A.square_cost else "sequential"


def final_state_sequential(A: Tensor | LinearOperator, B: Tensor, v: Tensor, h0: Tensor,
                           lengths: Tensor | None = None,
                           clip: float | None = None) -> Tensor:
    """Loop version of :func:`final_state`; ``clip`` as in :func:`scan_sequential`.

    For a dense ``A`` with gradients, the loop runs as :class:`DenseFinalState`,
    whose backward is a reverse loop of products plus one product each for
    the gradients of ``A`` and ``B``.
    """
    A = as_operator(A)
    if isinstance(A, DenseOperator) and clip is None and _plain_gradients(A.A, B, v, h0):
        return DenseFinalState.apply(A.A, B, v, h0, lengths)
    h = h0
    for s, v_s in enumerate(v.unbind(1)):
        new = _clamp(A.apply(h) + v_s @ B.T, clip)
        h = new if lengths is None else torch.where((s < lengths)[:, None], new, h)
    return h


def check_lengths(lengths, n_steps: int, device: torch.device, minimum: int = 1) -> Tensor:
    """``lengths`` as an int64 tensor on ``device``, each in [minimum, n_steps]."""
    lengths = torch.as_tensor(lengths, device=device)
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.ndim != 1:
        raise ValueError("lengths must be a 1D integer tensor")
    if lengths.numel() and not _batched(lengths) and \
            not bool(((lengths >= minimum) & (lengths <= n_steps)).all()):
        raise ValueError(f"lengths must lie in [{minimum}, {n_steps}], got values "
                         f"from {int(lengths.min())} to {int(lengths.max())}")
    return lengths.long()


def _batched(tensor: Tensor) -> bool:
    """Whether ``tensor`` is one member's slice under ``torch.func.vmap``
    (the batched ensemble of :mod:`skwarp._training`): it has no single value
    to check there, and its values were checked before stacking."""
    try:
        from torch._C._functorch import is_batchedtensor
    except ImportError:  # pragma: no cover - every torch this package supports has it
        return False
    return bool(is_batchedtensor(tensor))


def _gather_last(states: Tensor, h0: Tensor, lengths: Tensor | None) -> Tensor:
    if lengths is None:
        return states[:, -1]
    index = (lengths - 1).clamp(min=0)
    last = states[torch.arange(states.shape[0], device=states.device), index]
    return torch.where((lengths > 0)[:, None], last, h0)


def _plain_gradients(*tensors: Tensor) -> bool:
    """First-order gradients of tensors of one dtype, outside autocast: what
    :class:`DenseFinalState` serves (autograd of the loop does the rest)."""
    device_type = tensors[0].device.type
    try:
        autocast = torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no device type
        autocast = torch.is_autocast_enabled() or (
            device_type == "cpu" and torch.is_autocast_cpu_enabled())
    return torch.is_grad_enabled() and not autocast and \
        len({t.dtype for t in tensors}) == 1 and any(t.requires_grad for t in tensors)


class DenseFinalState(torch.autograd.Function):
    """``h_S`` of ``h_s = A h_{s-1} + B v_s`` for a dense ``A`` (D, D), ``B``
    (D, d), ``v`` (N, S, d), ``h0`` (N, D) and optional ``lengths`` (N,) (a
    row keeps its state after its last valid step).

    Autograd through the loop would accumulate the gradient of ``A`` as ``S``
    rank-``N`` updates of a ``D x D`` matrix, memory-bound for the small
    batches WARP trains with. This backward keeps the states of the forward
    (the memory autograd keeps too), propagates the state gradient back with
    one product per step, and forms the gradients of ``A`` and ``B`` as one
    product each over all steps. Both loops hold the states as columns,
    ``(D, N)``, and multiply by a contiguous ``A`` (``A^T`` backwards, a
    copy, since a transposed view can take a slower BLAS path). The inputs ``B v``
    are formed in that layout in one product and never in ``(N, S, D)``,
    which saves their copies and the strided products of their gradients.
    First-order gradients only (no double backward or ``torch.func``
    transforms: those take the autograd loop).
    """

    @staticmethod
    def forward(ctx, A: Tensor, B: Tensor, v: Tensor, h0: Tensor,
                lengths: Tensor | None) -> Tensor:
        (n, n_steps, n_in), n_state = v.shape, A.shape[0]
        v_columns = v.permute(2, 1, 0).reshape(n_in, n_steps * n)  # column s*N+i: v[i, s]
        inputs = (B @ v_columns).view(n_state, n_steps, n)
        previous = torch.empty((n_state, n_steps, n), dtype=h0.dtype, device=h0.device)
        h, A = h0.T.contiguous(), A.contiguous()
        for s in range(n_steps):
            previous[:, s] = h
            new = torch.addmm(inputs[:, s], A, h)
            h = new if lengths is None else torch.where((s < lengths)[None, :], new, h)
        ctx.save_for_backward(A, B, v_columns, previous, lengths)
        return h.T.contiguous()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: Tensor):
        A, B, v_columns, previous, lengths = ctx.saved_tensors
        n_state, n_steps, n = previous.shape
        step_grads = torch.empty_like(previous)  # d loss / d h_s, where s was a step
        g, A_t = grad.T.contiguous(), A.T.contiguous()
        for s in range(n_steps - 1, -1, -1):
            if lengths is None:
                step_grads[:, s] = g
                g = A_t @ g
            else:
                valid = (s < lengths)[None, :]
                step_grads[:, s] = torch.where(valid, g, 0.0)
                g = torch.where(valid, A_t @ step_grads[:, s], g)
        step_grads = step_grads.view(n_state, n_steps * n)
        grad_A = step_grads @ previous.view(n_state, -1).T \
            if ctx.needs_input_grad[0] else None
        grad_B = step_grads @ v_columns.T if ctx.needs_input_grad[1] else None
        grad_v = (B.T @ step_grads).view(B.shape[1], n_steps, n).permute(2, 1, 0) \
            if ctx.needs_input_grad[2] else None
        return grad_A, grad_B, grad_v, g.T, None
