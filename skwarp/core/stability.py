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

from skwarp.core.transitions import DenseTransition, Transition

__all__ = ["TransitionGuard", "transition_cap"]


def transition_cap(max_gain: float, n_steps: int) -> float:
    """The per-step norm bound ``max_gain^(1/n_steps)`` (``max_gain`` for
    ``n_steps <= 1``)."""
    return float(max_gain ** (1.0 / max(n_steps, 1)))


class TransitionGuard:
    """Keep a network's transition ``A`` within ``||A||_2 <= cap``, in place.

    Call it after every optimizer step. A structured transition caps its own
    norm exactly and cheaply (:meth:`Transition.cap_norm_`: a diagonal is
    clamped, complex pairs and blocks are shrunk one by one, a low-rank
    ``I + U V^T`` is measured through a ``2r x 2r`` matrix). For a dense ``A``
    (D, D) the guard keeps a certified upper
    bound of ``||A||_2``: the exact norm (an SVD) when last measured, plus the
    Frobenius norm of the whole change since (``||A + dA||_2 <= ||A||_2 +
    ||dA||_F``; optimizer steps that cancel do not add up). Only when that
    bound exceeds ``cap`` is the norm measured again and ``A`` scaled down to
    ``cap`` if needed: rarely for small steps of ``A``, often when large
    steps meet a ``cap`` that leaves little room (long series). (A power iteration
    would be cheaper but grossly underestimates the norm of ``A`` near the
    identity, whose singular values cluster.) Reading the bound is one
    host-device synchronisation per step on a GPU. Modules without a
    ``transition`` are left alone.

    Parameters
    ----------
    cap : float
        Largest allowed spectral norm, > 0.

    Attributes
    ----------
    n_measurements : int
        SVDs computed so far.
    """

    def __init__(self, cap: float) -> None:
        if not cap > 0:
            raise ValueError(f"cap must be > 0, got {cap!r}")
        self.cap = float(cap)
        self.n_measurements = 0
        self._measured: Tensor | None = None  # A when its norm was last measured
        self._measured_norm = float("inf")

    @torch.no_grad()
    def __call__(self, network: nn.Module) -> None:
        transition = getattr(network, "transition", None)
        if not isinstance(transition, Transition):
            return
        if not isinstance(transition, DenseTransition):
            # a non-finite transition is the training loop's to handle (it
            # restores finite weights); an SVD of it would raise
            if all(bool(torch.isfinite(p).all()) for p in transition.parameters()):
                transition.cap_norm_(self.cap)  # exact and cheap for every structure
            return
        A = transition.A
        if self._measured is not None and self._measured.shape == A.shape:
            bound = self._measured_norm + float(torch.linalg.vector_norm(A - self._measured))
        else:
            bound = float("inf")
        if bound <= self.cap:  # False also when the bound is NaN
            return
        if not bool(torch.isfinite(A).all()):  # the training loop handles it
            self._measured = None
            return
        norm = float(torch.linalg.matrix_norm(A, ord=2))
        self.n_measurements += 1
        if norm > self.cap:
            A.mul_(self.cap / norm)
            norm = self.cap
        self._measured, self._measured_norm = A.detach().clone(), norm
