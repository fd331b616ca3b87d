"""The root network: an MLP evaluated from flat parameter vectors.

WARP's hidden state is the weight vector ``theta`` of this MLP. The network
is a ``torch.nn.Module`` (a submodule of :class:`~skwarp.core.WarpNetwork`)
that holds no parameters of its own: :meth:`RootNetwork.forward` takes ``theta`` of
shape ``(..., D)`` and inputs of shape ``(..., n_inputs)`` and evaluates one
MLP per leading index with batched matrix products.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["ACTIVATIONS", "RootNetwork", "time_features"]

ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "gelu": torch.nn.functional.gelu,
    "silu": torch.nn.functional.silu,
    "softplus": torch.nn.functional.softplus,
    "sigmoid": torch.sigmoid,
}


def time_features(tau: Tensor, n_frequencies: int) -> Tensor:
    """``[tau, sin(2^k pi tau), cos(2^k pi tau) for k < n_frequencies]``.

    ``tau`` of shape (...) gives features of shape (..., 1 + 2 n_frequencies).
    """
    tau = tau.unsqueeze(-1)
    if n_frequencies == 0:
        return tau
    scales = math.pi * 2.0 ** torch.arange(n_frequencies, dtype=tau.dtype, device=tau.device)
    angles = tau * scales
    return torch.cat((tau, torch.sin(angles), torch.cos(angles)), dim=-1)


class RootNetwork(nn.Module):
    """MLP layout over a flat parameter vector (a module without parameters).

    Parameters
    ----------
    n_inputs : int
        Input size of the MLP.
    n_outputs : int
        Output size.
    width : int
        Hidden width.
    depth : int
        Number of hidden layers (0 gives a linear map).
    activation : str
        One of ``ACTIVATIONS``.

    Attributes
    ----------
    n_params : int
        ``D``, the length of a parameter vector.
    """

    def __init__(self, n_inputs: int, n_outputs: int, width: int = 32,
                 depth: int = 1, activation: str = "relu") -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, "
                             f"got {activation!r}")
        super().__init__()
        self.n_inputs, self.n_outputs = n_inputs, n_outputs
        self.width, self.depth, self.activation = width, depth, activation
        sizes = [n_inputs] + [width] * depth + [n_outputs]
        self.layer_shapes = list(zip(sizes[1:], sizes[:-1], strict=True))  # (out, in)
        self.n_params = sum(o * i + o for o, i in self.layer_shapes)

    def init_params(self, generator: torch.Generator | None = None) -> Tensor:
        """A parameter vector with torch.nn.Linear's default initialisation."""
        chunks = []
        for n_out, n_in in self.layer_shapes:
            bound = 1.0 / math.sqrt(n_in)
            size = n_out * n_in + n_out
            chunks.append((torch.rand(size, generator=generator) * 2 - 1) * bound)
        return torch.cat(chunks)

    def forward(self, theta: Tensor, inputs: Tensor) -> Tensor:
        """Evaluate the MLP of every ``theta[..., :]`` at ``inputs[..., :]``.

        ``theta`` (..., D) and ``inputs`` (..., n_inputs) must broadcast in their
        leading dimensions; the result is (..., n_outputs). Each layer is one
        batched product with its bias added in the same kernel (``baddbmm``)
        over the flattened leading dimensions, on slices of ``theta`` from one
        ``split``: few kernels and autograd nodes per call, which matters when
        the recurrent mode decodes one step at a time.
        """
        if theta.shape[-1] != self.n_params:
            raise ValueError(f"theta has {theta.shape[-1]} entries, the root "
                             f"network needs {self.n_params}")
        act = ACTIVATIONS[self.activation]
        shape = torch.broadcast_shapes(theta.shape[:-1], inputs.shape[:-1])
        if theta.shape[:-1] != shape or theta.ndim != 2:
            theta = theta.expand(*shape, -1).reshape(-1, self.n_params)
        h = inputs.expand(theta.shape[0], -1) if inputs.ndim == 1 and len(shape) == 1 \
            else inputs.expand(*shape, -1).reshape(-1, self.n_inputs)
        sizes = [size for n_out, n_in in self.layer_shapes for size in (n_out * n_in, n_out)]
        chunks = theta.split(sizes, dim=-1)
        for layer, (n_out, n_in) in enumerate(self.layer_shapes):
            weight = chunks[2 * layer].unflatten(-1, (n_out, n_in))
            bias = chunks[2 * layer + 1]
            h = torch.baddbmm(bias.unsqueeze(-1), weight, h.unsqueeze(-1)).squeeze(-1)
            if layer < len(self.layer_shapes) - 1:
                h = act(h)
        return h if len(shape) == 1 else h.reshape(*shape, self.n_outputs)

    def extra_repr(self) -> str:
        return (f"n_inputs={self.n_inputs}, n_outputs={self.n_outputs}, width={self.width}, "
                f"depth={self.depth}, activation={self.activation!r}")
