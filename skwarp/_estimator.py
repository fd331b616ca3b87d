"""Fit and predict plumbing shared by WarpClassifier and WarpForecaster.

An estimator mixes in :class:`WarpEstimatorMixin` and supplies ``_loss``
(network, batch) -> (loss, score) and ``_outputs`` (network, batch) -> tensor.
This mixin turns panels into tensors, scales channels, seeds, builds the
network, trains it and keeps it on the CPU afterwards.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from skwarp._preprocessing import ChannelScaler, panel_to_padded
from skwarp._training import (
    Batch,
    TrainingConfig,
    resolve_device,
    seed_from_random_state,
    seeded_torch,
    torch_threads,
    train_network,
)
from skwarp.core import WarpNetwork

NETWORK_PARAMS = ("root_width", "root_depth", "activation", "n_frequencies",
                  "initial_state", "init_layers", "time_channel", "state_clip")
PREDICT_BATCH_SIZE = 256


class WarpEstimatorMixin:
    """Shared ``fit``/``predict`` machinery; see the module docstring."""

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(
            n_epochs=self.n_epochs, batch_size=self.batch_size, lr=self.lr,
            transition_lr=self.transition_lr, optimizer=self.optimizer,
            weight_decay=self.weight_decay, grad_clip=self.grad_clip,
            lr_schedule=self.lr_schedule, patience=self.patience, verbose=self.verbose)

    def _build_network(self, n_channels: int, n_outputs: int, seed: int) -> WarpNetwork:
        kwargs = {name: getattr(self, name) for name in NETWORK_PARAMS}
        for name in ("root_width", "n_frequencies", "init_layers"):
            _check_int(name, kwargs[name], minimum=1 if name == "root_width" else 0)
        _check_int("root_depth", kwargs["root_depth"], minimum=0)
        if kwargs["state_clip"] is not None and not kwargs["state_clip"] > 0:
            raise ValueError(f"state_clip must be None or > 0, got {kwargs['state_clip']!r}")
        with seeded_torch(seed):
            return WarpNetwork(n_channels, n_outputs, **kwargs)

    def _split(self, targets: np.ndarray, stratify: bool, seed: int):
        """Indices of the training and (optional) validation series."""
        fraction = self.validation_fraction
        if not (isinstance(fraction, (int, float)) and 0 <= fraction < 1):
            raise ValueError(f"validation_fraction must be in [0, 1), got {fraction!r}")
        everything = np.arange(len(targets))
        n_val = int(round(fraction * len(targets)))
        if n_val == 0:
            return everything, None
        if n_val >= len(targets):
            raise ValueError("validation_fraction leaves no series to train on")
        from sklearn.model_selection import train_test_split

        labels = targets if stratify and np.unique(targets, return_counts=True)[1].min() >= 2 \
            else None
        try:
            return train_test_split(everything, test_size=n_val, random_state=seed,
                                    stratify=labels)
        except ValueError:  # too few series per class for a stratified split
            return train_test_split(everything, test_size=n_val, random_state=seed)

    def _fit_network(self, X, targets: np.ndarray, n_outputs: int, stratify: bool) -> None:
        with torch_threads(self.n_threads):
            self._fit_network_inner(X, targets, n_outputs, stratify)

    def _fit_network_inner(self, X, targets, n_outputs, stratify) -> None:
        values, lengths = panel_to_padded(X)
        config = self._training_config()
        device = resolve_device(self.device)
        seed = seed_from_random_state(self.random_state)
        self.n_channels_ = values.shape[2]
        self.scaler_ = ChannelScaler(self.scaling).fit(values, lengths)
        network = self._build_network(self.n_channels_, n_outputs, seed).to(device)
        data = Batch(torch.from_numpy(self.scaler_.transform(values, lengths)).to(device),
                     torch.from_numpy(lengths).to(device),
                     torch.as_tensor(targets).to(device))
        train_idx, val_idx = self._split(targets, stratify, seed)
        train = data.take(torch.as_tensor(train_idx, device=device))
        validation = None if val_idx is None else data.take(
            torch.as_tensor(val_idx, device=device))
        generator = torch.Generator().manual_seed(seed)
        noise_std = self._noise_std(train)
        self.history_ = train_network(network, self._loss, train, validation, config,
                                      generator, noise_std)
        self.n_epochs_ = len(self.history_["train_loss"])
        self.network_ = network.cpu()

    def _noise_std(self, train: Batch) -> Tensor | None:
        """Training-noise std per channel: ``input_noise`` times the std of the
        step differences ``x_t - x_{t-1}`` (what drives the recurrence)."""
        noise = self.input_noise
        if not (isinstance(noise, (int, float)) and not isinstance(noise, bool) and noise >= 0):
            raise ValueError(f"input_noise must be a number >= 0, got {noise!r}")
        if noise == 0 or train.x.shape[1] < 2:
            return None
        steps = train.x[:, 1:] - train.x[:, :-1]
        valid = (torch.arange(steps.shape[1], device=steps.device)
                 < (train.lengths - 1)[:, None])
        return noise * steps[valid].std(dim=0, unbiased=False)

    def _predict_device(self) -> torch.device:
        # a model fitted on a GPU still predicts on a machine without one
        if self.device in ("auto", "cuda") and torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")

    def _predict_outputs(self, X) -> Tensor:
        """``_outputs`` for every series of ``X``, on the CPU."""
        with torch_threads(self.n_threads), torch.no_grad():
            return self._predict_outputs_inner(X)

    def _predict_outputs_inner(self, X) -> Tensor:
        values, lengths = panel_to_padded(X)
        if values.shape[2] != self.n_channels_:
            raise ValueError(f"X has {values.shape[2]} channels, but the estimator was "
                             f"fitted on {self.n_channels_}")
        device = self._predict_device()
        network = self.network_.to(device).eval()
        data = Batch(torch.from_numpy(self.scaler_.transform(values, lengths)).to(device),
                     torch.from_numpy(lengths).to(device),
                     torch.zeros(len(lengths), device=device))
        try:
            outputs = [self._outputs(network, data.take(torch.arange(
                start, min(start + PREDICT_BATCH_SIZE, len(data)), device=device))).cpu()
                for start in range(0, len(data), PREDICT_BATCH_SIZE)]
        finally:
            self.network_ = network.cpu()
        return torch.cat(outputs)


def _check_int(name: str, value, minimum: int) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
