"""Transition structures: the learnable ``A`` of ``theta_t = A theta_{t-1} + B v_t``.

The paper's ``A`` is a dense ``D x D`` matrix: ``D^2`` parameters and ``D^2``
work per step, which limits the root network to a few thousand weights. The
structured transitions here keep WARP's linear recurrence but cost ``O(D)``
to ``O(D b)`` per step:

==============  =============================  =====================  ==========
name            ``A``                          parameters             init
==============  =============================  =====================  ==========
``dense``       any ``D x D``                  ``D^2``                ``I``
``diagonal``    ``diag(a)``                    ``D``                  ``I``
``complex``     rotation-scaling of pairs      ``D``                  ``I``
``blockdiag``   ``D / b`` blocks ``b x b``     ``D b``                ``I``
``lowrank``     ``I + U V^T``, rank ``r``      ``2 D r``              ``I``
``lru``         stable complex pairs           ``D``                  many decays
==============  =============================  =====================  ==========

Each is an ``nn.Module`` whose :meth:`Transition.operator` gives the
structured operator the solvers of :mod:`skwarp.core.scan` run on (the chunked
kernel for final states, the odd-even scan for trajectories). ``lowrank``
solves exactly through its rank-``r`` reduction instead (see
:class:`LowRankTransition`). Plain torch, no sklearn/sktime.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from skwarp.core.operators import (
    BlockDiagonalOperator,
    ComplexDiagonalOperator,
    DenseOperator,
    DiagonalOperator,
    LinearOperator,
    LowRankOperator,
)
from skwarp.core.scan import (
    FINAL_STATE_METHODS,
    _right_align,
    check_lengths,
    final_state,
    linear_scan,
    valid_mask,
)

__all__ = ["LRU_MAX_PHASE", "LRU_RADIUS", "TRANSITIONS", "BlockDiagonalTransition",
           "ComplexDiagonalTransition", "DenseTransition", "DiagonalTransition",
           "LRUTransition", "LowRankTransition", "Transition", "make_transition"]

TRANSITIONS = ("dense", "diagonal", "complex", "blockdiag", "lowrank", "lru")
# eigenvalue moduli of the "lru" start: memory time scales -1/log(r) log-uniform
# between these (about 100 and 100,000 steps); angles start in [0, LRU_MAX_PHASE]
LRU_RADIUS = (0.99, 0.99999)
LRU_MAX_PHASE = 0.0
# exp of a larger log-angle overflows float32 (angles are taken mod 2 pi anyway)
MAX_LOG_PHASE = 80.0
# LRUTransition.final_state contracts the drive with all the powers of A at
# once when the (steps, D) table of them holds at most this many entries
LRU_POWERS_MAX = 2**24


class Transition(nn.Module):
    """Base class: a learnable ``A`` of size ``n_state`` and its solvers.

    It also owns what a network's drive depends on: the ``B`` a network
    starts with (:meth:`initial_drive_matrix`), the scale the recurrence
    gives it (:meth:`scale_drive`) and the running average of the drive
    (:meth:`averaged_states`, :meth:`averaged_final_state`, defined only
    where ``supports_running_average``). Here they are the paper's (``B``
    starts at zero and is used as it is, no running average); a decaying
    transition (:class:`LRUTransition`) overrides them.
    """

    n_state: int
    # whether averaged_states and averaged_final_state are defined
    supports_running_average: bool = False

    def operator(self) -> LinearOperator:
        raise NotImplementedError

    def matrix(self) -> Tensor:
        """The dense ``D x D`` matrix (for inspection and tests)."""
        return self.operator().matrix()

    def step(self, h: Tensor) -> Tensor:
        """One application, ``h @ A.T``."""
        return self.operator().apply(h)

    def final_state(self, B: Tensor, v: Tensor, h0: Tensor, lengths: Tensor | None = None,
                    method: str = "auto") -> Tensor:
        """Final state of ``h_s = A h_{s-1} + B v_s``; see :func:`scan.final_state`."""
        return final_state(self.operator(), B, v, h0, lengths, method=method)

    def states(self, B: Tensor, v: Tensor, h0: Tensor, method: str = "auto") -> Tensor:
        """States ``h_1 .. h_S`` (N, S, D) of ``h_s = A h_{s-1} + B v_s``."""
        return linear_scan(self.operator(), v @ B.T, h0, method=method)

    @torch.no_grad()
    def cap_norm_(self, cap: float) -> None:
        """Shrink ``A``, in place, so that its spectral norm is at most ``cap``
        (> 0), exploiting the structure (no ``D x D`` SVD)."""
        raise NotImplementedError

    def initial_drive_matrix(self, n_inputs: int) -> Tensor:
        """The ``B`` (D, n_inputs) a network starts with: zeros, the paper's
        start (with ``A = I``, ``theta`` then starts at ``phi(x_0)``)."""
        return torch.zeros(self.n_state, n_inputs)

    def scale_drive(self, B: Tensor, n_steps: int | None = None) -> Tensor:
        """The drive matrix (D, d') the recurrence uses for the parameter ``B``
        (D, d'): ``B`` itself. ``n_steps`` (steps of the recurrence a
        decaying transition scales its drive for) is not used here."""
        return B

    def averaged_states(self, B: Tensor, v: Tensor, h0: Tensor,
                        method: str = "auto") -> Tensor:
        """States (N, S, D) of the running average of the drive; only where
        ``supports_running_average`` (see :class:`LRUTransition`)."""
        raise NotImplementedError(f"{type(self).__name__} has no running average")

    def averaged_final_state(self, B: Tensor, v: Tensor, h0: Tensor,
                             lengths: Tensor | None = None,
                             method: str = "auto") -> Tensor:
        """The last state (N, D) of :meth:`averaged_states` at each series'
        length; only where ``supports_running_average``."""
        raise NotImplementedError(f"{type(self).__name__} has no running average")


def _tail(module: nn.Module, initial: Tensor) -> None:
    """``module.tail``: a parameter, or an empty buffer when there is no tail
    (an empty parameter would never receive a gradient)."""
    if initial.numel():
        module.tail = nn.Parameter(initial)
    else:
        module.register_buffer("tail", initial)


class DenseTransition(Transition):
    """The paper's dense ``A`` (``D^2`` parameters), started at the identity."""

    def __init__(self, n_state: int) -> None:
        super().__init__()
        self.A = nn.Parameter(torch.eye(n_state))
        self.n_state = n_state

    def operator(self) -> DenseOperator:
        return DenseOperator(self.A)

    def matrix(self) -> Tensor:
        return self.A


class DiagonalTransition(Transition):
    """``A = diag(a)``: every weight decays or grows on its own."""

    def __init__(self, n_state: int) -> None:
        super().__init__()
        self.n_state = n_state
        self.a = nn.Parameter(torch.ones(n_state))

    def operator(self) -> DiagonalOperator:
        return DiagonalOperator(self.a)

    @torch.no_grad()
    def cap_norm_(self, cap: float) -> None:
        self.a.clamp_(-cap, cap)


class ComplexDiagonalTransition(Transition):
    """Consecutive weight pairs evolve as complex numbers: ``A`` is a rotation-
    scaling ``[[alpha, -beta], [beta, alpha]]`` per pair (a real diagonal entry
    for the last weight when ``D`` is odd), so states can oscillate."""

    def __init__(self, n_state: int) -> None:
        super().__init__()
        self.n_state = n_state
        n_pairs = n_state // 2
        self.alpha = nn.Parameter(torch.ones(n_pairs))
        self.beta = nn.Parameter(torch.zeros(n_pairs))
        _tail(self, torch.ones(n_state - 2 * n_pairs))

    def operator(self) -> ComplexDiagonalOperator:
        return ComplexDiagonalOperator(self.alpha, self.beta, self.tail)

    @torch.no_grad()
    def cap_norm_(self, cap: float) -> None:
        modulus = torch.sqrt(self.alpha.square() + self.beta.square())
        shrink = (cap / modulus).clamp(max=1.0)  # modulus 0 gives inf, clamped to 1
        self.alpha.mul_(shrink)
        self.beta.mul_(shrink)
        self.tail.clamp_(-cap, cap)


class BlockDiagonalTransition(Transition):
    """``A`` made of ``D // b`` dense blocks of size ``b`` (and one block of
    size ``D mod b``): weights mix only within their block."""

    def __init__(self, n_state: int, block_size: int) -> None:
        super().__init__()
        if block_size < 1:
            raise ValueError(f"block_size must be >= 1, got {block_size}")
        self.n_state, self.block_size = n_state, min(block_size, n_state)
        n_blocks, rest = divmod(n_state, self.block_size)
        self.blocks = nn.Parameter(torch.eye(self.block_size).repeat(n_blocks, 1, 1))
        _tail(self, torch.eye(rest))

    def operator(self) -> BlockDiagonalOperator:
        return BlockDiagonalOperator(self.blocks, self.tail)

    @torch.no_grad()
    def cap_norm_(self, cap: float) -> None:
        for blocks in (self.blocks, self.tail.unsqueeze(0)):
            if blocks.numel():  # the norm of A is the largest of its blocks'
                norms = torch.linalg.matrix_norm(blocks, ord=2)
                blocks.mul_((cap / norms).clamp(max=1.0)[:, None, None])


class LowRankTransition(Transition):
    """``A = I + U V^T`` with rank ``r``, solved through ``s_t = V^T theta_t``.

    ``s`` follows the ``r``-dimensional recurrence ``s_t = (I + V^T U) s_{t-1}
    + V^T B v_t``, and ``theta_t = theta_0 + U sum_{k<t} s_k + B sum_{k<=t} v_k``.
    The final state therefore costs ``O(N S (d r + r^2) + N D (r + d))``: the
    ``D``-sized work does not grow with the sequence. ``U`` starts at zero
    (``A = I``) and ``V`` random, so both receive gradients.
    """

    def __init__(self, n_state: int, rank: int) -> None:
        super().__init__()
        if rank < 1:
            raise ValueError(f"rank must be >= 1, got {rank}")
        self.n_state, self.rank = n_state, rank
        self.U = nn.Parameter(torch.zeros(n_state, rank))
        self.V = nn.Parameter(torch.randn(n_state, rank) / math.sqrt(n_state))

    def operator(self) -> LowRankOperator:
        return LowRankOperator(self.U, self.V)

    @torch.no_grad()
    def cap_norm_(self, cap: float) -> None:
        """``A`` is the identity off ``span(U, V)``, so its norm is that of a
        ``2r x 2r`` matrix; above ``cap`` (>= 1), ``U`` shrinks until ``1 +
        ||U|| ||V||``, an upper bound of the norm, meets ``cap``."""
        basis = torch.linalg.qr(torch.cat((self.U, self.V), 1)).Q
        core = torch.eye(basis.shape[1], dtype=basis.dtype, device=basis.device) + \
            (basis.T @ self.U) @ (self.V.T @ basis)
        if float(torch.linalg.matrix_norm(core, ord=2)) <= cap:
            return
        product = float(torch.linalg.matrix_norm(self.U, ord=2)
                        * torch.linalg.matrix_norm(self.V, ord=2))
        self.U.mul_(max(cap - 1.0, 0.0) / product)

    def _reduced(self, B: Tensor) -> tuple[Tensor, Tensor]:
        """``M = I + V^T U`` and ``V^T B``: the rank-r recurrence of ``s``."""
        eye = torch.eye(self.rank, dtype=self.U.dtype, device=self.U.device)
        return eye + self.V.T @ self.U, self.V.T @ B

    def final_state(self, B: Tensor, v: Tensor, h0: Tensor, lengths: Tensor | None = None,
                    method: str = "auto") -> Tensor:
        M, VB = self._reduced(B)
        r = self.rank
        # (s_t, S_t) with S_t = S_{t-1} + s_{t-1}: the final S is sum_{k<t} s_k
        zeros, eye = torch.zeros_like(M), torch.eye(r, dtype=M.dtype, device=M.device)
        A_aug = torch.cat((torch.cat((M, zeros), 1), torch.cat((eye, eye), 1)), 0)
        B_aug = torch.cat((VB, torch.zeros_like(VB)), 0)
        h_aug = torch.cat((h0 @ self.V, torch.zeros_like(h0[:, :r])), 1)
        summed = final_state(A_aug, B_aug, v, h_aug, lengths, method=method)[:, r:]
        if lengths is not None:
            v = torch.where(valid_mask(lengths, v.shape[1]).unsqueeze(-1), v,
                            torch.zeros_like(v))
        return h0 + summed @ self.U.T + v.sum(1) @ B.T

    def states(self, B: Tensor, v: Tensor, h0: Tensor, method: str = "auto") -> Tensor:
        M, VB = self._reduced(B)
        s0 = h0 @ self.V
        s = linear_scan(M, v @ VB.T, s0, method=method)  # s_1 .. s_S
        # sum_{k<t} s_k for t = 1 .. S
        s_sums = s0.unsqueeze(1) + torch.cat((torch.zeros_like(s[:, :1]),
                                              s[:, :-1].cumsum(1)), 1)
        return h0.unsqueeze(1) + s_sums @ self.U.T + v.cumsum(1) @ B.T


class LRUTransition(Transition):
    """Complex-diagonal ``A`` that is stable by construction, started with
    memory at many time scales (as in the LRU of Orvieto et al., 2023).

    Consecutive weight pairs evolve as complex numbers multiplied by
    ``lambda_k = exp(-exp(nu_k) + i exp(phi_k))``: the modulus
    ``exp(-exp(nu))`` stays in [0, 1) for any parameters, so no guard is
    needed (``exp(nu)`` is held at least the dtype's epsilon, below which the
    modulus would round to 1, and ``exp(phi)`` finite). At the start the
    time scales ``-1 / log|lambda|`` are spread log-uniformly over
    ``radius`` and the phases uniformly over ``[0, max_phase]``. With odd
    ``D`` the last weight decays as a real ``exp(-exp(nu_tail))``.
    :meth:`drive_gain` gives the gain that makes each state a moving average
    of its drive (:meth:`scale_drive` scales ``B`` by it), and
    :meth:`averaged_states` the running average of the drive.
    """

    supports_running_average = True

    def __init__(self, n_state: int, radius: tuple[float, float] = LRU_RADIUS,
                 max_phase: float = LRU_MAX_PHASE,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        low, high = radius
        if not 0 < low <= high < 1:
            raise ValueError(f"radius must satisfy 0 < low <= high < 1, got {radius}")
        if max_phase < 0:
            raise ValueError(f"max_phase must be >= 0, got {max_phase}")
        self.n_state = n_state
        n_pairs = n_state // 2

        def log_rates(n: int) -> Tensor:  # nu = log(-log r), time scales log-uniform
            u = torch.rand(n, generator=generator)
            log_scale = math.log(-1 / math.log(low)) + u * (
                math.log(-1 / math.log(high)) - math.log(-1 / math.log(low)))
            return -log_scale

        self.nu = nn.Parameter(log_rates(n_pairs))
        phase = torch.rand(n_pairs, generator=generator) * max_phase
        self.log_phase = nn.Parameter(torch.log(phase.clamp(min=1e-4)))
        _tail(self, log_rates(n_state - 2 * n_pairs))

    def _modulus(self) -> tuple[Tensor, Tensor]:
        eps = torch.finfo(self.nu.dtype).eps  # a smaller rate rounds the modulus to 1
        return (torch.exp(-torch.exp(self.nu).clamp(min=eps)),
                torch.exp(-torch.exp(self.tail).clamp(min=eps)))

    def operator(self) -> ComplexDiagonalOperator:
        modulus, tail = self._modulus()
        angle = torch.exp(self.log_phase.clamp(max=MAX_LOG_PHASE))
        return ComplexDiagonalOperator(modulus * torch.cos(angle), modulus * torch.sin(angle),
                                       tail)

    def final_state(self, B: Tensor, v: Tensor, h0: Tensor, lengths: Tensor | None = None,
                    method: str = "auto") -> Tensor:
        """Final state of ``h_s = A h_{s-1} + B v_s``; see :func:`scan.final_state`.

        ``"kernel"`` (and ``"auto"``, unless the table below would exceed
        ``LRU_POWERS_MAX`` entries) contracts the drive with the powers of the
        eigenvalues in closed form, ``lambda^k = exp(-k exp(nu) + i k angle)``
        for every ``k < S`` at once: one matrix product ``v^T W`` with the
        (S, D) table ``W``, then each pair's complex product with ``B``; no
        squarings of ``A`` and no (N, S, D) drive are built, and the work is
        a few large kernels whatever the structure of the batch.
        """
        if method not in FINAL_STATE_METHODS:
            raise ValueError(f"method must be one of {FINAL_STATE_METHODS}, got {method!r}")
        n_steps = v.shape[1]
        if method == "auto":
            method = "kernel" if n_steps * self.n_state <= LRU_POWERS_MAX else method
        if method != "kernel" or n_steps == 0:
            return super().final_state(B, v, h0, lengths, method=method)
        if lengths is None:
            exponents = torch.full((v.shape[0],), n_steps, device=v.device)
        else:
            exponents = check_lengths(lengths, n_steps, v.device, minimum=0)
            v = _right_align(v, exponents)  # step s then meets lambda^(S - 1 - s)
        n_pairs = self.nu.shape[0]
        powers = torch.arange(n_steps - 1, -1, -1, dtype=v.dtype, device=v.device)
        table = _lru_powers(powers, self._rates(), self._angle(), n_pairs)  # (S, D)
        n_series, _, n_inputs = v.shape
        # z[n, e, j] = sum_s v[n, s, e] (lambda^(S-1-s))_j, one matrix product
        z = (v.transpose(1, 2).reshape(n_series * n_inputs, n_steps) @ table).view(
            n_series, n_inputs, self.n_state)
        # pair j = (re, im): h_re = z_re b_re - z_im b_im, h_im = z_re b_im + z_im b_re
        b = B.T.contiguous()
        swapped = torch.cat((b[:, :2 * n_pairs].unflatten(1, (n_pairs, 2)).flip(-1).flatten(1),
                             torch.zeros_like(b[:, 2 * n_pairs:])), 1)
        same, cross = (z * b).sum(1), (z * swapped).sum(1)  # (N, D) each
        same_pairs = same[:, :2 * n_pairs].unflatten(1, (n_pairs, 2))
        cross_pairs = cross[:, :2 * n_pairs].unflatten(1, (n_pairs, 2))
        driven = torch.cat((torch.stack((same_pairs[..., 0] - same_pairs[..., 1],
                                         cross_pairs.sum(-1)), -1).flatten(1),
                            same[:, 2 * n_pairs:]), 1)
        return driven + self.decay(h0, exponents.to(v.dtype))

    def averaged_states(self, B: Tensor, v: Tensor, h0: Tensor,
                        method: str = "auto") -> Tensor:
        """States ``h_1 .. h_S`` (N, S, D) of the running average: ``A^s h0``
        plus ``sum_{j<=s} A^(s-j) B v_j`` divided by ``sum_{k<s} r^k`` (see
        :meth:`fill`), so that each state's drive part averages the drive seen
        so far, whatever its time scale and however many steps have passed."""
        steps = torch.arange(1, v.shape[1] + 1, dtype=v.dtype, device=v.device)
        driven = linear_scan(self.operator(), v @ B.T, torch.zeros_like(h0), method=method)
        return driven / self.fill(steps) + self.decay(h0.unsqueeze(1), steps)

    def averaged_final_state(self, B: Tensor, v: Tensor, h0: Tensor,
                             lengths: Tensor | None = None,
                             method: str = "auto") -> Tensor:
        """The last state of :meth:`averaged_states` at each series' length
        (``lengths`` steps of drive, all ``S`` when None), shape (N, D)."""
        driven = self.final_state(B, v, torch.zeros_like(h0), lengths, method=method)
        if lengths is None:  # (final_state has checked them otherwise)
            steps = torch.full((v.shape[0],), v.shape[1], dtype=v.dtype, device=v.device)
        else:
            steps = torch.as_tensor(lengths, device=v.device).to(v.dtype)
        return driven / self.fill(steps) + self.decay(h0, steps)

    def _angle(self) -> Tensor:
        """Each pair's eigenvalue angle, mod 2 pi so that ``k * angle`` stays
        finite for any ``log_phase``."""
        return torch.remainder(torch.exp(self.log_phase.clamp(max=MAX_LOG_PHASE)), 2 * math.pi)

    def _rates(self) -> Tensor:
        """``-log |lambda|`` per pair, then per tail entry (P + D - 2P,)."""
        finfo = torch.finfo(self.nu.dtype)  # eps as in _modulus; max: 0 * rate is 0
        return torch.exp(torch.cat((self.nu, self.tail))).clamp(finfo.eps, finfo.max)

    def fill(self, steps: Tensor) -> Tensor:
        """``sum_{k < s} r^k = (1 - r^s) / (1 - r)`` per state entry (``r =
        |lambda|``) for each number of steps ``s`` in ``steps`` (...,), shape
        (..., D): a state's response to a unit drive held for ``s`` steps
        when its eigenvalue is real (for a rotating pair, a bound on it), 1
        where ``s = 0``. From ``expm1``, which keeps its precision for
        moduli near 1, where ``1 - r`` would cancel."""
        rates = self._rates()
        n_pairs = self.nu.shape[0]
        rates = torch.cat((rates[:n_pairs].repeat_interleave(2), rates[n_pairs:]))
        s = steps.unsqueeze(-1)
        fill = torch.expm1(-s * rates) / torch.expm1(-rates)
        return torch.where(s > 0, fill, torch.ones_like(fill))

    def decay(self, h: Tensor, steps: Tensor) -> Tensor:
        """``A^s h`` for ``h`` (..., D) and ``steps`` (...,), broadcast together."""
        n_pairs = self.nu.shape[0]
        powers = _lru_powers(steps.reshape(-1), self._rates(), self._angle(), n_pairs)
        return _lru_apply(h, powers.reshape(*steps.shape, -1), n_pairs)

    def drive_gain(self, n_steps: int | None = None) -> Tensor:
        """Per state entry (D,): ``(1 - r) / (1 - r^n_steps)`` with ``r = |lambda|``
        (``1 - r`` without ``n_steps``), the gain that makes a state driven by a
        constant for ``n_steps`` steps equal that constant, so slow and fast
        states start on one scale."""
        modulus, tail = self._modulus()
        r = torch.cat((modulus.repeat_interleave(2), tail))
        if n_steps is None:
            return 1 - r
        return (1 - r) / (1 - r.pow(n_steps))

    def initial_drive_matrix(self, n_inputs: int) -> Tensor:
        """A random ``B`` (D, n_inputs), entries ``N(0, 1 / n_inputs)``: a
        decaying start forgets ``theta_0``, so it needs a drive from the first
        step; :meth:`scale_drive` sets its size per state."""
        return torch.randn(self.n_state, n_inputs) / n_inputs ** 0.5

    def scale_drive(self, B: Tensor, n_steps: int | None = None) -> Tensor:
        """``diag(drive_gain(n_steps)) B`` (D, d'): each state is then a moving
        average of its drive whatever its time scale, while the parameter
        ``B`` keeps a scale that the optimiser's steps suit."""
        return self.drive_gain(n_steps).unsqueeze(1) * B

    @torch.no_grad()
    def cap_norm_(self, cap: float) -> None:
        if cap < 1:  # the modulus is below 1 by construction; tighter caps bind
            self.nu.clamp_(min=math.log(-math.log(cap)))
            if self.tail.numel():
                self.tail.clamp_(min=math.log(-math.log(cap)))


def _lru_powers(k: Tensor, rates: Tensor, angle: Tensor, n_pairs: int) -> Tensor:
    """``lambda^k`` for each ``k`` (K,), laid out as the state: (K, D) with
    the real and imaginary parts of each pair side by side, then the tail."""
    k = k.unsqueeze(1)
    modulus = torch.exp(-k * rates)
    turn = k * angle
    pairs = modulus[:, :n_pairs].unsqueeze(-1) * torch.stack((torch.cos(turn),
                                                              torch.sin(turn)), -1)
    return torch.cat((pairs.flatten(1), modulus[:, n_pairs:]), 1)


def _lru_apply(h: Tensor, powers: Tensor, n_pairs: int) -> Tensor:
    """``h`` (..., D) times ``lambda^k`` laid out as :func:`_lru_powers`'
    rows (..., D), the two broadcast together (row ``i`` of ``h`` (N, D) times
    its own row ``i`` of the powers (N, D))."""
    power = powers[..., :2 * n_pairs].unflatten(-1, (n_pairs, 2))
    re, im = power[..., 0], power[..., 1]
    pairs = h[..., :2 * n_pairs].unflatten(-1, (n_pairs, 2))
    h_re, h_im = pairs[..., 0], pairs[..., 1]
    rotated = torch.stack((re * h_re - im * h_im, im * h_re + re * h_im), -1).flatten(-2)
    return torch.cat((rotated, h[..., 2 * n_pairs:] * powers[..., 2 * n_pairs:]), -1)


def make_transition(kind: str, n_state: int, *, rank: int = 8, block_size: int = 16,
                    radius: tuple[float, float] = LRU_RADIUS,
                    max_phase: float = LRU_MAX_PHASE) -> Transition:
    """The transition called ``kind`` (one of :data:`TRANSITIONS`) for a state of
    size ``n_state``; ``rank`` is used by ``lowrank``, ``block_size`` by
    ``blockdiag``, ``radius`` (the range of eigenvalue moduli at the start) and
    ``max_phase`` (of their angles) by ``lru``."""
    if kind == "dense":
        return DenseTransition(n_state)
    if kind == "diagonal":
        return DiagonalTransition(n_state)
    if kind == "complex":
        return ComplexDiagonalTransition(n_state)
    if kind == "blockdiag":
        return BlockDiagonalTransition(n_state, block_size)
    if kind == "lowrank":
        return LowRankTransition(n_state, rank)
    if kind == "lru":
        return LRUTransition(n_state, radius, max_phase)
    raise ValueError(f"transition must be one of {TRANSITIONS}, got {kind!r}")
