"""Autoregressive decoding: the root network predicts the next value, which is
fed back step by step; intervals come from Monte Carlo paths.

:class:`Rollouts` holds what ``WarpForecaster(decoding="autoregressive")``
adds: the value fed back (a mean, or a draw of the law the loss fits), the
range a sampled path is held within, and the rollouts themselves, a chunk of
series at a time. A mixin of :class:`skwarp.WarpForecaster`: it reads the
forecaster's parameters and fitted attributes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from skwarp import _distribution
from skwarp._distribution import PathPredictive, family_of_loss
from skwarp._training import Batch, torch_threads
from skwarp.core.heads import gaussian_head
from skwarp.exceptions import NonFiniteOutputError

__all__ = ["Rollouts"]


class Rollouts:
    """Forecasts rolled out one step at a time (``decoding="autoregressive"``)."""

    def _bounds_of(self, train: Batch, n_targets: int) -> Tensor:
        """What a rollout may feed back, (2, n_targets): the range of the
        (window-normalised) training targets, widened by its own width on each
        side. A sampled path that leaves it is held at its edge, so that one
        unlikely draw cannot drive the state, and every later step, off to
        where the network was never trained (and to infinity)."""
        with torch.no_grad():
            low = torch.full((n_targets,), torch.inf)
            high = -low
            for batch in train.batches(4096):
                x = self._normalise(batch.x)[0][..., :n_targets].reshape(-1, n_targets).cpu()
                low = torch.minimum(low, x.min(0).values)
                high = torch.maximum(high, x.max(0).values)
            width = high - low
            return torch.stack((low - width, high + width))

    def _next_input(self, outputs: Tensor, x_t: Tensor, n_targets: int, sample: bool,
                    generator: torch.Generator | None = None) -> Tensor:
        """The next target values (exogenous channels are not predicted); with
        ``sample``, a draw of the law the loss fits (Laplace under "laplace")."""
        mean, std = gaussian_head(outputs, n_targets, self.min_std,
                                  self._residual_base(x_t, n_targets))
        if not sample:
            return mean
        eps = self._standard_noise(generator, tuple(mean.shape), self.loss == "laplace")
        return mean + std * eps.to(mean.device)

    def _rollout(self, n_steps: int, n_samples: int | None, X=None) -> np.ndarray:
        """Forecast paths of the targets in original units, every series at
        once: (n_series, n_steps, d) point forecasts (the mean of the
        networks'), or (n_series, n_networks * n_samples, n_steps, d) Monte
        Carlo paths (every network's). The forecasts hold one chunk of
        :meth:`_rollout_chunks` at a time instead."""
        return np.concatenate(list(self._rollout_chunks(n_steps, n_samples, X)))

    def _rollout_chunks(self, n_steps: int, n_samples: int | None, X=None):
        """:meth:`_rollout`'s paths a chunk of series at a time (yields them in
        the series' order). A chunk holds about
        ``_distribution.CHUNK_FLOATS`` floats of paths and states, so memory
        does not grow with the panel; each series draws its own noise
        (:meth:`_path_noise`), so the paths do not depend on the chunking."""
        scaled, _ = self._scaled_contexts()  # every context is full
        exog = self._future_exog(X, n_steps)
        networks = [self._predict_network(fitted) for fitted in self.networks_]
        n_paths = 1 if n_samples is None else n_samples
        chunk = _distribution.series_per_chunk(n_paths * (
            len(networks) * n_steps * self._n_targets + networks[0].n_params))
        keys = list(self._recent)
        for start in range(0, len(scaled), chunk):
            rows = slice(start, start + chunk)
            known = None if exog is None else exog[rows]
            with torch_threads(self.n_threads), torch.no_grad():
                paths = [self._rollout_network(index, network, scaled[rows], known, n_steps,
                                               n_samples, start)
                         for index, network in enumerate(networks)]
            paths = np.mean(paths, axis=0) if n_samples is None else np.concatenate(paths, axis=1)
            yield self._finite_paths(self._from_model_units(paths, keys[rows]))

    @staticmethod
    def _finite_paths(paths: np.ndarray) -> np.ndarray:
        """``paths`` (n_series, ..., n_steps, d), or NonFiniteOutputError naming
        the first step where one is not finite."""
        finite = np.isfinite(paths).reshape(-1, *paths.shape[-2:]).all(axis=2)  # rows, steps
        if not finite.all():
            first = int(np.flatnonzero(~finite.all(axis=0))[0]) + 1
            raise NonFiniteOutputError(
                f"the autoregressive rollout diverged (non-finite values from step "
                f"{first} on); forecast a shorter horizon, or train with "
                "training_mode='recurrent' so the model learns from its own predictions")
        return paths

    def _rollout_network(self, index: int, network, scaled: np.ndarray,
                         exog: np.ndarray | None, n_steps: int, n_samples: int | None,
                         first: int = 0) -> np.ndarray:
        """Network ``index``'s (``network``, on the prediction device) paths from
        the scaled contexts of the series from ``first`` on: (n_series,
        n_steps, d) fed back means, or (n_series, n_samples, n_steps, d) fed
        back samples ``m + s * eps`` (``eps`` from :meth:`_path_noise`)."""
        n = self._n_targets
        device = next(network.parameters()).device
        x, shift, scale = self._normalise(torch.from_numpy(scaled).to(device))
        known = None
        if exog is not None:
            exog = (exog - self.scaler_.offset_[n:]) / self.scaler_.scale_[n:]
            known = (torch.from_numpy(exog).to(x) - shift[..., n:]) / scale[..., n:]
        theta = network.final_state(x)
        x_last = x[:, -1]
        noise = None
        if n_samples is not None:
            theta, x_last, shift, scale = (
                t.repeat_interleave(n_samples, dim=0)
                for t in (theta, x_last, shift, scale))
            known = None if known is None else known.repeat_interleave(n_samples, dim=0)
            noise = self._path_noise(index, first, len(scaled), n_samples, n_steps).to(x)

        low, high = self._fed_bounds.to(device)
        step = iter(range(n_steps))

        def next_input(y_t, x_t):
            mean, std = gaussian_head(y_t, n, self.min_std, self._residual_base(x_t, n))
            fed = mean if noise is None else mean + std * noise[:, next(step)]
            return torch.minimum(torch.maximum(fed, low), high)

        _, paths = network.rollout(theta, x_last, self.context_length - 1, n_steps,
                                   next_input, known)
        paths = (paths * scale + shift)[..., :n]
        paths = paths.double().cpu().numpy() * self.scaler_.scale_[:n] + \
            self.scaler_.offset_[:n]
        if n_samples is not None:
            paths = paths.reshape(len(scaled), n_samples, n_steps, -1)
        return paths

    def _path_noise(self, index: int, first: int, n_series: int, n_samples: int,
                    n_steps: int) -> Tensor:
        """Standard noise of the forecast family (Laplace with ``loss="laplace"``,
        else Normal) for the paths of network ``index`` from series ``first``
        to ``first + n_series``: (n_series * n_samples, n_steps, d), series by
        series. Each series has its own stream, seeded from the network's
        forecast seed and the series' position, so its paths do not depend on
        how the panel is chunked."""
        seeds = np.random.SeedSequence(self._seeds.member(index).forecast).generate_state(
            first + n_series)[first:]
        shape = (n_samples, n_steps, self._n_targets)
        laplace = family_of_loss(self.loss) == "laplace"
        return torch.cat([self._standard_noise(torch.Generator().manual_seed(int(seed)), shape,
                                               laplace) for seed in seeds])

    @staticmethod
    def _standard_noise(generator: torch.Generator, shape: tuple, laplace: bool) -> Tensor:
        """Standard Normal draws, or standard Laplace ones by the inverse cdf."""
        if not laplace:
            return torch.randn(shape, generator=generator)
        u = torch.rand(shape, generator=generator, dtype=torch.float64).clamp(min=2.0 ** -53)
        centred = u - 0.5
        return (-torch.sign(centred) * torch.log1p(-2 * centred.abs())).float()

    def _path_predictives(self, steps: np.ndarray, X=None):
        """The Monte Carlo forecast at ``steps`` a chunk of series at a time
        (:meth:`_rollout_chunks`): yields PathPredictive of elements
        (n_chunk, n_fh, d), each element's ``n_networks * n_samples`` paths
        sorted."""
        for paths in self._rollout_chunks(int(steps.max()), self.n_samples, X):
            yield PathPredictive(np.sort(np.moveaxis(paths[:, :, steps - 1], 1, -1), axis=-1))
