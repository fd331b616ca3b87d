"""Learned input embeddings applied before WARP's linear recurrence.

The recurrence is linear in its drive, so on its own the final state sees a
series only through linear functionals of it. A small convolutional stack in
front of it gives the drive local, nonlinear features ("this shape occurs
here"); the linear recurrence then pools them over time. Plain torch, no
sklearn or sktime.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from skwarp.core.scan import valid_mask

__all__ = ["ConvEmbedding", "MaskedBatchNorm1d", "mean_pool", "mean_pool_last", "pooled_lengths",
           "pooled_steps"]


def pooled_lengths(lengths: Tensor, stride: int) -> Tensor:
    """Steps left of series of ``lengths`` after :func:`mean_pool` by ``stride``."""
    return torch.div(lengths + stride - 1, stride, rounding_mode="floor")


def pooled_steps(n_steps: int, stride: int) -> int:
    """:func:`pooled_lengths` of one length given as an int: ``ceil(n_steps / stride)``."""
    return -(-int(n_steps) // stride)


def mean_pool(h: Tensor, lengths: Tensor | None, stride: int) -> Tensor:
    """Means of consecutive windows of ``stride`` steps of ``h`` (N, T, C), over
    each series' valid steps only: (N, ceil(T / stride), C). A series of length
    ``L`` fills its first ``ceil(L / stride)`` windows, the last one possibly
    partly; windows past its end are zero."""
    if stride == 1:
        return h
    return mean_pool_last(h.transpose(1, 2), lengths, stride).transpose(1, 2)


def mean_pool_last(h: Tensor, lengths: Tensor | None, stride: int) -> Tensor:
    """:func:`mean_pool` of ``h`` (N, C, T) with time last: (N, C, ceil(T / stride)).

    Time last lets the windows be a view of ``h`` (no copy). Without
    ``lengths`` every step is valid: the padding to whole windows is zeros and
    only the last window may count fewer steps, so no mask is built (a mask
    and its zeros are full extra passes over ``h``, forward and backward)."""
    if stride == 1:
        return h
    n_steps = h.shape[-1]
    n_windows = pooled_steps(n_steps, stride)
    short = n_windows * stride - n_steps
    if lengths is None:
        full = n_steps // stride  # whole windows; a view of h, no padded copy
        means = h[..., :full * stride].unflatten(-1, (full, stride)).mean(-1)
        if short == 0:
            return means
        return torch.cat((means, h[..., full * stride:].mean(-1, keepdim=True)), -1)
    keep = valid_mask(lengths, n_windows * stride).unsqueeze(1)  # (N, 1, T)
    if short:
        h = nn.functional.pad(h, (0, short))
    # where, not a product: padding may hold NaN
    h = torch.where(keep, h, torch.zeros((), dtype=h.dtype, device=h.device))
    sums = h.unflatten(-1, (n_windows, stride)).sum(-1)
    counts = keep.unflatten(-1, (n_windows, stride)).sum(-1)
    return sums / counts.clamp(min=1).to(h.dtype)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm over channels of (N, C, T) whose training statistics use only
    the valid steps ``keep`` (N, 1, T) of each series, so padding never moves
    them; in eval mode it is plain BatchNorm with the running statistics."""

    def forward(self, h: Tensor, keep: Tensor | None = None) -> Tensor:
        if not self.training or keep is None:
            return super().forward(h)
        weight = keep.to(h.dtype)
        count = weight.sum().clamp(min=2)
        mean = (h * weight).sum((0, 2)) / count
        var = ((h - mean[:, None]).square() * weight).sum((0, 2)) / count
        with torch.no_grad():
            momentum = self.momentum
            self.running_mean.lerp_(mean, momentum)
            self.running_var.lerp_(var * count / (count - 1), momentum)
            self.num_batches_tracked += 1
        scale = self.weight / torch.sqrt(var + self.eps)
        return (h - mean[:, None]) * scale[:, None] + self.bias[:, None]


class ConvEmbedding(nn.Module):
    """``n_layers`` of Conv1d + ReLU, mapping (N, T, d) to (N, T, width).

    Parameters
    ----------
    n_channels : int
        Input channels ``d``.
    width : int
        Output channels of every layer.
    n_layers : int
        Convolution layers (>= 1).
    kernel_size : int
        Kernel length of every layer.
    causal : bool
        Pad on the left only, so the feature at step ``t`` depends on steps
        ``<= t`` (what a forecaster needs); otherwise the kernel is centred.
    dilated : bool
        Dilate layer ``l`` (from 0) by ``2^l``, so the receptive field grows
        exponentially with depth (``1 + (k - 1)(2^L - 1)`` steps).
    norm : bool
        Batch-normalise every layer before its ReLU (statistics over valid
        steps only).
    pool : int
        Mean-pool the first layer's output (after its ReLU) over windows of
        ``pool`` steps (:func:`mean_pool`), so the later layers and the output
        have ``ceil(T / pool)`` steps (:meth:`output_lengths`).

    Steps past a series' length are zeroed before every layer, so a series
    embeds the same alone as inside a padded batch.
    """

    def __init__(self, n_channels: int, width: int = 32, n_layers: int = 2,
                 kernel_size: int = 9, causal: bool = False, dilated: bool = False,
                 norm: bool = False, pool: int = 1) -> None:
        super().__init__()
        if n_layers < 1 or width < 1 or kernel_size < 1 or pool < 1:
            raise ValueError("width, n_layers, kernel_size and pool must be >= 1")
        self.causal, self.kernel_size, self.pool = causal, kernel_size, pool
        sizes = [n_channels] + [width] * n_layers
        self.dilations = [2**layer if dilated else 1 for layer in range(n_layers)]
        self.convs = nn.ModuleList(
            nn.Conv1d(n_in, n_out, kernel_size, dilation=dilation)
            for n_in, n_out, dilation in zip(sizes[:-1], sizes[1:], self.dilations,
                                             strict=True))
        self.norms = nn.ModuleList(MaskedBatchNorm1d(width) for _ in range(n_layers)) \
            if norm else None
        self.n_outputs = width

    def _pad(self, h: Tensor, dilation: int) -> Tensor:
        total = (self.kernel_size - 1) * dilation
        left = total if self.causal else total // 2
        return nn.functional.pad(h, (left, total - left))

    def output_lengths(self, lengths: Tensor) -> Tensor:
        """Steps of the output for inputs of ``lengths`` steps."""
        return pooled_lengths(lengths, self.pool)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """(N, T, d) to (N, ceil(T / pool), width)."""
        keep = None if lengths is None else valid_mask(lengths, x.shape[1]).unsqueeze(1)
        h = x.transpose(1, 2)
        for layer, conv in enumerate(self.convs):
            h = conv(self._pad(self._mask(h, keep), self.dilations[layer]))
            if self.norms is not None:
                h = self.norms[layer](h, keep)
            h = torch.relu(h)
            if layer == 0 and self.pool > 1:
                h = mean_pool_last(h, lengths, self.pool)
                if lengths is not None:
                    lengths = self.output_lengths(lengths)
                    keep = valid_mask(lengths, h.shape[2]).unsqueeze(1)
        return self._mask(h, keep).transpose(1, 2)

    @staticmethod
    def _mask(h: Tensor, keep: Tensor | None) -> Tensor:
        # where, not a product: padding may hold anything, NaN included
        return h if keep is None else torch.where(keep, h, torch.zeros((), dtype=h.dtype,
                                                                     device=h.device))
