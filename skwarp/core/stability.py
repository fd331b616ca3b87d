"""A guard on the growth of the transition matrix's powers during training.

Over a series of ``S`` steps the initial state is multiplied by ``A^S``; with
``||A||_2 = 1 + e`` that factor can reach ``(1 + e)^S``, which overflows float32
at ``S = 16,384`` for ``e`` as small as 0.006. Capping the spectral norm at
``max_gain^(1/S)`` bounds every power up to ``A^S`` by ``max_gain``.
Plain torch, no sklearn or sktime.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def transition_cap(max_gain: float, n_steps: int) -> float:
    """The per-step norm bound ``max_gain^(1/n_steps)`` (``max_gain`` for
    ``n_steps <= 1``)."""
    return float(max_gain ** (1.0 / max(n_steps, 1)))


class TransitionGuard:
    """Rescale a network's transition ``A`` in place so that ``||A||_2 <= cap``.

    Call it after every optimizer step. A dense ``A`` (D, D) is measured by
    power iteration, warm-started from the previous call, so a step costs a
    few matrix-vector products and no host synchronisation; a diagonal ``A``
    (D,) is clamped entry-wise. Networks without a parameter ``A`` are left
    alone.

    Parameters
    ----------
    cap : float
        Largest allowed spectral norm, > 0.
    n_iterations : int, default=2
        Power iterations per call.
    """

    def __init__(self, cap: float, n_iterations: int = 2) -> None:
        if not cap > 0:
            raise ValueError(f"cap must be > 0, got {cap!r}")
        self.cap, self.n_iterations = float(cap), n_iterations
        self._vector: Tensor | None = None

    @torch.no_grad()
    def __call__(self, network: nn.Module) -> None:
        A = getattr(network, "A", None)
        if not isinstance(A, Tensor):
            return
        if A.ndim == 1:
            A.clamp_(-self.cap, self.cap)
        elif A.ndim == 2 and A.shape[0] == A.shape[1]:
            A.mul_((self.cap / self.spectral_norm(A)).clamp(max=1.0))

    def spectral_norm(self, A: Tensor) -> Tensor:
        """Estimate of ``||A||_2`` (a 0-dim tensor); a lower bound that tightens
        with every call."""
        start = torch.full((A.shape[1],), A.shape[1] ** -0.5, dtype=A.dtype, device=A.device)
        v = self._vector
        if v is None or v.shape != start.shape or v.device != A.device:
            v = start
        for _ in range(self.n_iterations):
            w = A.T @ (A @ v)
            v = w / w.norm().clamp(min=torch.finfo(A.dtype).tiny)
        # a non-finite A must not poison the next call's warm start
        self._vector = torch.where(torch.isfinite(v).all(), v, start)
        return (A @ v).norm()
