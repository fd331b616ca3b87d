"""Structured linear operators ``A``: the one interface the scan solvers use.

A solver needs three things from ``A``: apply it to row vectors
(``h @ A.T``), square it (``A @ A``, for doubling and odd-even reduction),
and what each costs (to choose between a loop and a log-depth solver). Every
structure keeps its shape under squaring, so the solvers in
:mod:`skwarp.core.scan` work unchanged on all of them:

* :class:`DenseOperator`: any ``D x D`` matrix;
* :class:`DiagonalOperator`: ``diag(a)``, elementwise;
* :class:`ComplexDiagonalOperator`: consecutive state pairs as complex numbers
  ``alpha + i beta`` (a rotation-scaling per pair), real arithmetic only;
* :class:`BlockDiagonalOperator`: ``G`` blocks of size ``b`` plus a smaller tail;
* :class:`LowRankOperator`: ``I + U V^T``; its square is
  ``I + U (2 I + V^T U) V^T``, again rank ``r``.

Plain torch, no sklearn/sktime.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

__all__ = ["BlockDiagonalOperator", "ComplexDiagonalOperator", "DenseOperator",
           "DiagonalOperator", "LinearOperator", "LowRankOperator", "as_operator"]


class LinearOperator(Protocol):
    """What the solvers need from a transition matrix ``A`` of size ``D``."""

    n_state: int

    def apply(self, h: Tensor) -> Tensor:
        """``h @ A.T`` for ``h`` of shape (..., D)."""

    def square(self) -> LinearOperator:
        """``A @ A``, with the same structure."""

    def matrix(self) -> Tensor:
        """The dense ``D x D`` matrix (tests and small problems only)."""

    @property
    def apply_cost(self) -> float:
        """Multiply-adds of one :meth:`apply` per row."""

    @property
    def square_cost(self) -> float:
        """Multiply-adds of one :meth:`square`."""


class DenseOperator:
    """A plain ``D x D`` matrix."""

    def __init__(self, A: Tensor) -> None:
        if A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise ValueError(f"A must be a square matrix, got shape {tuple(A.shape)}")
        self.A = A
        self.n_state = A.shape[0]

    def apply(self, h: Tensor) -> Tensor:
        return h @ self.A.T

    def square(self) -> DenseOperator:
        return DenseOperator(self.A @ self.A)

    def matrix(self) -> Tensor:
        return self.A

    @property
    def apply_cost(self) -> float:
        return float(self.n_state) ** 2

    @property
    def square_cost(self) -> float:
        return float(self.n_state) ** 3


class DiagonalOperator:
    """``diag(a)`` for a vector ``a`` of shape (D,)."""

    def __init__(self, a: Tensor) -> None:
        self.a = a
        self.n_state = a.shape[0]

    def apply(self, h: Tensor) -> Tensor:
        return h * self.a

    def square(self) -> DiagonalOperator:
        return DiagonalOperator(self.a * self.a)

    def matrix(self) -> Tensor:
        return torch.diag(self.a)

    @property
    def apply_cost(self) -> float:
        return float(self.n_state)

    @property
    def square_cost(self) -> float:
        return float(self.n_state)


class ComplexDiagonalOperator:
    """State pairs ``(h_{2k}, h_{2k+1})`` multiplied by ``alpha_k + i beta_k``.

    ``alpha``, ``beta`` have shape (P,); the last ``D - 2P`` states (at most a
    few) are scaled by the real vector ``tail``.
    """

    def __init__(self, alpha: Tensor, beta: Tensor, tail: Tensor) -> None:
        self.alpha, self.beta, self.tail = alpha, beta, tail
        self.n_pairs = alpha.shape[0]
        self.n_state = 2 * self.n_pairs + tail.shape[0]

    def apply(self, h: Tensor) -> Tensor:
        pairs = h[..., : 2 * self.n_pairs].unflatten(-1, (self.n_pairs, 2))
        re, im = pairs.unbind(-1)
        rotated = torch.stack((self.alpha * re - self.beta * im,
                               self.beta * re + self.alpha * im), dim=-1)
        return torch.cat((rotated.flatten(-2), h[..., 2 * self.n_pairs:] * self.tail), -1)

    def square(self) -> ComplexDiagonalOperator:
        return ComplexDiagonalOperator(self.alpha * self.alpha - self.beta * self.beta,
                                       2 * self.alpha * self.beta, self.tail * self.tail)

    def matrix(self) -> Tensor:
        blocks = torch.stack((torch.stack((self.alpha, -self.beta), -1),
                              torch.stack((self.beta, self.alpha), -1)), -2)
        return torch.block_diag(*blocks.unbind(0), torch.diag(self.tail))

    @property
    def apply_cost(self) -> float:
        return 2.0 * self.n_state

    @property
    def square_cost(self) -> float:
        return 2.0 * self.n_state


class BlockDiagonalOperator:
    """``blockdiag(blocks[0], ..., blocks[G-1], tail)``.

    ``blocks`` has shape (G, b, b); ``tail`` (r, r) with ``0 <= r < b`` covers
    the states left over when ``b`` does not divide ``D``.
    """

    def __init__(self, blocks: Tensor, tail: Tensor) -> None:
        self.blocks, self.tail = blocks, tail
        self.n_blocks, self.block_size = blocks.shape[0], blocks.shape[1]
        self.n_lead = self.n_blocks * self.block_size
        self.n_state = self.n_lead + tail.shape[0]

    def apply(self, h: Tensor) -> Tensor:
        lead = h[..., : self.n_lead].unflatten(-1, (self.n_blocks, self.block_size))
        lead = torch.einsum("...gj,gij->...gi", lead, self.blocks).flatten(-2)
        if self.tail.shape[0] == 0:
            return lead
        return torch.cat((lead, h[..., self.n_lead:] @ self.tail.T), dim=-1)

    def square(self) -> BlockDiagonalOperator:
        return BlockDiagonalOperator(self.blocks @ self.blocks, self.tail @ self.tail)

    def matrix(self) -> Tensor:
        return torch.block_diag(*self.blocks.unbind(0), self.tail)

    @property
    def apply_cost(self) -> float:
        return float(self.n_lead * self.block_size + self.tail.shape[0] ** 2)

    @property
    def square_cost(self) -> float:
        return float(self.n_lead * self.block_size ** 2 + self.tail.shape[0] ** 3)


class LowRankOperator:
    """``I + U V^T`` with ``U``, ``V`` of shape (D, r)."""

    def __init__(self, U: Tensor, V: Tensor) -> None:
        if U.shape != V.shape or U.ndim != 2:
            raise ValueError(f"U and V must both be (D, r), got {tuple(U.shape)} and "
                             f"{tuple(V.shape)}")
        self.U, self.V = U, V
        self.n_state, self.rank = U.shape

    def apply(self, h: Tensor) -> Tensor:
        return h + (h @ self.V) @ self.U.T

    def square(self) -> LowRankOperator:
        eye = torch.eye(self.rank, dtype=self.U.dtype, device=self.U.device)
        return LowRankOperator(self.U @ (2 * eye + self.V.T @ self.U), self.V)

    def matrix(self) -> Tensor:
        eye = torch.eye(self.n_state, dtype=self.U.dtype, device=self.U.device)
        return eye + self.U @ self.V.T

    @property
    def apply_cost(self) -> float:
        return 2.0 * self.n_state * self.rank

    @property
    def square_cost(self) -> float:
        return 2.0 * self.n_state * self.rank ** 2


def as_operator(A: Tensor | LinearOperator) -> LinearOperator:
    """A tensor becomes a :class:`DenseOperator`; an operator passes through."""
    return DenseOperator(A) if isinstance(A, Tensor) else A
