"""Direct decoding, the forecaster's default: the state after each context is
decoded at every future step's ``tau`` (the root network is a function of
time), each step's location and scale at once.

:class:`DirectDecoding` holds the training loss and the forecasts of
``WarpForecaster(decoding="direct")``; past ``horizon_length`` steps the
forecast continues block by block from the state of a context extended by the
forecasts before. A mixin of :class:`skwarp.WarpForecaster`: it reads the
forecaster's parameters and fitted attributes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from skwarp import _distribution
from skwarp._distribution import MixturePredictive, family_of_loss
from skwarp._training import Batch, torch_threads
from skwarp.core.heads import gaussian_head

__all__ = ["DirectDecoding"]


class DirectDecoding:
    """The horizon decoded from the state at the cutoff (``decoding="direct"``)."""

    def _direct_loss(self, network, batch: Batch, n_targets: int) -> tuple[Tensor, Tensor]:
        """The loss of every step after each window's context, decoded from the
        state at the context's end, and the MSE."""
        n_context = batch.y.long()
        x, _, _ = self._normalise(batch.x, n_context)
        mean, std = self._decode_contexts(network, x[:, :self.context_length], n_context,
                                          x.shape[1] - self.context_length, n_targets)
        target = x[:, self.context_length:, :n_targets]
        mse = (mean - target).square().mean()
        return self._loss_value(target, mean, std, mse), mse.detach()

    def _decode_contexts(self, network, x: Tensor, n_context: Tensor, n_steps: int,
                         n_targets: int) -> tuple[Tensor, Tensor]:
        """Mean and std (N, n_steps, n_targets) of the ``n_steps`` values after
        each (normalised, padded) context ``x`` (N, context_length, d) of
        ``n_context`` steps."""
        theta = network.final_state(x, n_context)
        x_last = x[torch.arange(x.shape[0], device=x.device), n_context - 1]
        return self._decode_ahead(network, theta, x_last, self.context_length, n_steps,
                                  n_targets)

    def _decode_ahead(self, network, theta: Tensor, x_last: Tensor, n_context: int,
                      n_steps: int, n_targets: int) -> tuple[Tensor, Tensor]:
        """Mean and std (N, n_steps, n_targets) of the ``n_steps`` values after a
        context of ``n_context`` steps whose state is ``theta`` (N, D) and last
        input ``x_last`` (N, d): the state decoded at each future step's ``tau``
        (the output at step ``t`` predicts the value at ``t + 1``)."""
        steps = torch.arange(n_context - 1, n_context - 1 + n_steps, dtype=theta.dtype,
                             device=theta.device)
        tau = (steps / network.time_scale).expand(theta.shape[0], -1)
        outputs = network.decode(theta.unsqueeze(1).expand(-1, n_steps, -1), tau)
        base = self._residual_base(x_last.unsqueeze(1), n_targets)
        return gaussian_head(outputs, n_targets, self.min_std, base)

    def _direct(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Every network's location and scale of the next ``n_steps`` values of
        every series in model units (after the target transforms, before their
        inverse): two arrays (n_series, n_steps, d, n_networks), decoded from
        the state at the cutoff (``decoding="direct"``), a chunk of about
        ``_distribution.CHUNK_FLOATS`` floats of series at a time."""
        scaled, lengths = self._scaled_contexts()
        networks = [self._predict_network(fitted) for fitted in self.networks_]
        chunk = _distribution.series_per_chunk(
            len(networks) * n_steps * (networks[0].n_params + 2 * self._n_targets))
        parts = [self._direct_chunk(networks, scaled[start:start + chunk],
                                    lengths[start:start + chunk], n_steps)
                 for start in range(0, len(scaled), chunk)]
        return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))

    def _direct_chunk(self, networks: list, scaled: np.ndarray, lengths: np.ndarray,
                      n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`_direct` for the contexts ``scaled`` (n, context_length, d) of
        ``lengths`` (n,) steps, ``networks`` on the prediction device."""
        n = self._n_targets
        locations, scales = [], []
        with torch_threads(self.n_threads), torch.no_grad():
            for network in networks:
                device = next(network.parameters()).device
                n_context = torch.from_numpy(lengths).to(device)
                location, spread = self._decode_blocks(
                    network, torch.from_numpy(scaled).to(device), n_context, n_steps)
                locations.append(location.double().cpu().numpy() * self.scaler_.scale_[:n]
                                 + self.scaler_.offset_[:n])
                scales.append(spread.double().cpu().numpy() * self.scaler_.scale_[:n])
        return np.stack(locations, axis=-1), np.stack(scales, axis=-1)

    def _decode_blocks(self, network, x: Tensor, n_context: Tensor,
                       n_steps: int) -> tuple[Tensor, Tensor]:
        """Location and scale (N, n_steps, n_targets) of the values after the
        scaled contexts ``x`` (N, context_length, d) of ``n_context`` steps, in
        their units.

        The first ``horizon_length`` steps are decoded from the state at the
        cutoff. Past them, each further block of up to ``horizon_length`` is
        decoded from the state of a context that ends with the locations of
        the blocks before it (exogenous channels held at their last value),
        so the root network is never evaluated past the ``tau`` it was trained
        on; a block's scales are widened, in quadrature, by the scale at the
        last step of the block before, so the uncertainty carries over.
        """
        n = self._n_targets
        locations, scales, carried = [], [], None
        while True:
            normed, shift, scale = self._normalise(x, n_context)
            n_block = min(self.horizon_length, n_steps - sum(map(len, locations)))
            location, spread = self._decode_contexts(network, normed, n_context, n_block, n)
            location = location * scale[..., :n] + shift[..., :n]
            spread = spread * scale[..., :n]
            if carried is not None:
                spread = torch.sqrt(spread.square() + carried.square())
            locations.append(location.transpose(0, 1))  # steps first, to count them
            scales.append(spread)
            if sum(map(len, locations)) == n_steps:
                return torch.cat(locations).transpose(0, 1), torch.cat(scales, dim=1)
            carried = spread[:, -1:]
            x, n_context = self._extended_contexts(x, n_context, location)

    def _extended_contexts(self, x: Tensor, n_context: Tensor,
                           forecast: Tensor) -> tuple[Tensor, Tensor]:
        """The last ``context_length`` steps of each context ``x`` (N,
        context_length, d) of ``n_context`` steps followed by ``forecast`` (N,
        k, n_targets), its exogenous channels held at their last value;
        left-aligned and padded as :meth:`_scaled_contexts` lays them out."""
        rows = torch.arange(x.shape[0], device=x.device)
        last = x[rows, n_context - 1]
        new = torch.cat((forecast, last[:, None, self._n_targets:].expand(
            -1, forecast.shape[1], -1)), dim=-1)
        joined = torch.cat((x, new), dim=1)  # the forecast sits at context_length on
        end = n_context + forecast.shape[1]
        start = (end - self.context_length).clamp(min=0)
        steps = torch.minimum(start[:, None] + torch.arange(self.context_length,
                                                            device=x.device), end[:, None] - 1)
        source = torch.where(steps < n_context[:, None], steps,
                             steps - n_context[:, None] + self.context_length)
        gathered = torch.gather(joined, 1, source.unsqueeze(-1).expand(-1, -1, x.shape[2]))
        return gathered, end - start

    def _direct_predictive(self, steps: np.ndarray) -> MixturePredictive:
        """The direct forecast at ``steps`` (1: the step after the cutoff) of
        every series: elements (n_series, n_fh, d), each the equal mixture of
        the networks' distributions (the ``loss``'s family) in model units,
        and the map of each series' transforms to the data's units."""
        location, scale = self._direct(int(steps.max()))
        maps = [self._transforms[key].data_map(self._n_seen[key] + steps - 1)
                for key in self._recent]
        logs, factor, shift = (np.stack(arrays) for arrays in zip(*maps, strict=True))
        return MixturePredictive(location[:, steps - 1], scale[:, steps - 1],
                                 family_of_loss(self.loss), logs[:, None], factor, shift)
