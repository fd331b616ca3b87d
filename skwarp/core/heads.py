"""Output heads: how the root network's outputs become predictions."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["gaussian_head", "gaussian_nll", "laplace_nll"]


def gaussian_head(outputs: Tensor, n_channels: int, min_std: float,
                  base: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Mean and std of a Gaussian from ``2 * n_channels`` root outputs.

    ``std = softplus(raw) + min_std``; with ``base`` the mean is
    ``base + raw_mean`` (the root predicts the change from ``base``).
    """
    mean = outputs[..., :n_channels]
    if base is not None:
        mean = base + mean
    std = torch.nn.functional.softplus(outputs[..., n_channels:2 * n_channels]) + min_std
    return mean, std


def gaussian_nll(y: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Mean Gaussian negative log-likelihood ``log s + (y - m)^2 / (2 s^2)``
    (plus the constant ``log(2 pi) / 2``)."""
    return (torch.log(std) + 0.5 * ((y - mean) / std) ** 2).mean() + 0.5 * math.log(2 * math.pi)


def laplace_nll(y: Tensor, median: Tensor, scale: Tensor) -> Tensor:
    """Mean Laplace negative log-likelihood ``log(2 b) + |y - m| / b``: the
    median ``m`` minimises it, so it is the probabilistic form of the absolute
    error, which large errors sway less than the squared one."""
    return (torch.log(2 * scale) + (y - median).abs() / scale).mean()
