"""Fit and predict plumbing shared by WarpClassifier and WarpForecaster.

An estimator mixes in :class:`WarpEstimatorMixin` and supplies ``_loss``
(network, batch) -> (loss, score), and ``_outputs`` (network, batch) -> tensor
if it predicts through :meth:`WarpEstimatorMixin._predict_outputs`.
This mixin turns panels into tensors, scales channels, seeds, builds the
network, trains it and keeps it on the CPU afterwards.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor

from skwarp._preprocessing import ChannelScaler, panel_to_padded
from skwarp._training import (
    Batch,
    Seeds,
    TrainingConfig,
    resolve_device,
    seeded_torch,
    torch_threads,
    train_network,
)
from skwarp._validation import NonFiniteOutputError, check_bool, check_int, check_real
from skwarp.core import WarpNetwork
from skwarp.core.scan import valid_mask
from skwarp.core.stability import TransitionGuard, transition_cap

PREDICT_BATCH_SIZE = 256
# Bound on the growth of A's powers over the longest training series: the
# transition's spectral norm is capped at MAX_TRANSITION_GAIN^(1/(T-1)).
MAX_TRANSITION_GAIN = 1e3
# Version of the pickled state's layout; bump it when fitted attributes change
# in a way an older pickle cannot satisfy.
STATE_FORMAT = 1


def _check_radius(radius) -> tuple[float, float]:
    """``transition_radius``: two numbers with ``0 < low <= high < 1``."""
    try:
        low, high = (float(r) for r in radius)
    except (TypeError, ValueError):
        raise ValueError("transition_radius must be a pair of numbers (low, high), "
                         f"got {radius!r}") from None
    if not 0 < low <= high < 1:
        raise ValueError(f"transition_radius must satisfy 0 < low <= high < 1, got {radius!r}")
    return low, high


class WarpEstimatorMixin:
    """Shared ``fit``/``predict`` machinery; see the module docstring."""

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(
            n_epochs=self.n_epochs, batch_size=self.batch_size, lr=self.lr,
            transition_lr=self.transition_lr, optimizer=self.optimizer,
            weight_decay=self.weight_decay, grad_clip=self.grad_clip,
            lr_schedule=self.lr_schedule, patience=self.patience, verbose=self.verbose)

    def _build_network(self, n_channels: int, n_outputs: int, seed: int,
                       **extra) -> WarpNetwork:
        kwargs = {
            "root_width": check_int("root_width", self.root_width, minimum=1),
            "root_depth": check_int("root_depth", self.root_depth, minimum=0),
            "n_frequencies": check_int("n_frequencies", self.n_frequencies, minimum=0),
            "init_layers": check_int("init_layers", self.init_layers, minimum=1),
            "time_channel": check_bool("time_channel", self.time_channel),
            "state_clip": check_real("state_clip", self.state_clip, strict=True,
                                     allow_none=True),
            "activation": self.activation,
            "initial_state": self.initial_state,
            "transition": self.transition,
            "transition_rank": check_int("transition_rank", self.transition_rank,
                                         minimum=1),
            "transition_block": check_int("transition_block", self.transition_block,
                                          minimum=1),
            "root_precision": self.root_precision,
            "compile_root": check_bool("compile_root", self.compile_root),
        }
        if hasattr(self, "embedding"):  # WarpClassifier only, for now
            kwargs.update(
                embedding=self.embedding,
                embedding_width=check_int("embedding_width", self.embedding_width, minimum=1),
                embedding_layers=check_int("embedding_layers", self.embedding_layers,
                                           minimum=1),
                embedding_kernel=check_int("embedding_kernel", self.embedding_kernel,
                                           minimum=1),
                causal_embedding=check_bool("causal_embedding", self.causal_embedding),
                embedding_dilated=check_bool("embedding_dilated", self.embedding_dilated),
                embedding_norm=check_bool("embedding_norm", self.embedding_norm),
                drive=self.drive, transition_radius=_check_radius(self.transition_radius),
                transition_phase=check_real("transition_phase", self.transition_phase))
        with seeded_torch(seed):
            return WarpNetwork(n_channels, n_outputs, **kwargs, **extra)

    def _split(self, targets: np.ndarray, stratify: bool, seed: int):
        """Indices of the training and (optional) validation series."""
        fraction = check_real("validation_fraction", self.validation_fraction, below=1.0)
        everything = np.arange(len(targets))
        n_val = int(round(fraction * len(targets)))
        if n_val == 0:
            return everything, None
        if n_val >= len(targets):
            raise ValueError("validation_fraction leaves no series to train on")
        from sklearn.model_selection import train_test_split

        n_classes = len(np.unique(targets))
        counts_ok = np.unique(targets, return_counts=True)[1].min() >= 2
        sizes_ok = min(n_val, len(targets) - n_val) >= n_classes
        labels = targets if stratify and counts_ok and sizes_ok else None
        return train_test_split(everything, test_size=n_val, random_state=seed % 2**32,
                                stratify=labels)

    def _fit_network(self, X, targets: np.ndarray, n_outputs: int, stratify: bool) -> None:
        """Fit on a panel ``X`` with one target per series (a random validation
        split, stratified on request)."""
        with torch_threads(self.n_threads):
            values, lengths = panel_to_padded(X, allow_missing=self._allows_missing())
            seeds = Seeds.from_random_state(self.random_state)
            train_idx, val_idx = self._split(targets, stratify, seeds.split)
            # scaling learned on the training series only: validation stays unseen
            self.scaler_ = ChannelScaler(self.scaling).fit(values[train_idx],
                                                           lengths[train_idx])
            scaled = self.scaler_.transform(values, lengths)
            self._train(scaled, lengths, targets, train_idx, val_idx, n_outputs, seeds)

    def _train(self, values: np.ndarray, lengths: np.ndarray, targets: np.ndarray,
               train_idx: np.ndarray, val_idx: np.ndarray | None, n_outputs: int,
               seeds: Seeds, network_kwargs: dict | None = None) -> None:
        """Build and train the network on scaled, padded ``values``; sets
        ``network_``, ``history_``, ``n_epochs_`` and ``n_channels_``."""
        self.n_channels_ = values.shape[2]
        extra = dict(network_kwargs or {})
        if getattr(self, "transition", None) == "lru":
            extra.setdefault("reference_length", int(lengths[train_idx].max()))
        network = self._build_network(self.n_channels_, n_outputs, seeds.init, **extra)
        self.history_ = self._run_training(network, values, lengths, targets, train_idx,
                                           val_idx, self._training_config(), seeds.training)
        self.n_epochs_ = len(self.history_["train_loss"])

    def _run_training(self, network: WarpNetwork, values: np.ndarray, lengths: np.ndarray,
                      targets: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray | None,
                      config: TrainingConfig, seed: int) -> dict[str, list[float]]:
        """Train ``network`` (new, or fitted for fine-tuning) on the device and
        keep it as ``network_`` on the CPU; returns the history."""
        device = resolve_device(self.device)
        network = network.to(device)
        data = Batch.from_numpy(values, lengths, targets, device)
        train = data.take(torch.as_tensor(train_idx))
        validation = None if val_idx is None else data.take(torch.as_tensor(val_idx))
        guard = TransitionGuard(transition_cap(MAX_TRANSITION_GAIN,
                                               int(train.host_lengths.max()) - 1))
        history = train_network(network, self._loss, train, validation, config, seed,
                                self._noise_std(train), guard)
        self.network_ = network.cpu()
        return history

    def _noise_std(self, train: Batch) -> Tensor | None:
        """Training-noise std per channel: ``input_noise`` times the std of the
        step differences ``x_t - x_{t-1}`` (what drives the recurrence)."""
        noise = check_real("input_noise", self.input_noise)
        if noise == 0 or train.x.shape[1] < 2:
            return None
        steps = train.x[:, 1:] - train.x[:, :-1]
        valid = valid_mask(train.lengths - 1, steps.shape[1])
        return noise * steps[valid].std(dim=0, unbiased=False)

    def _predict_network(self) -> torch.nn.Module:
        """The fitted module on the prediction device.

        A model fitted on a GPU still predicts on a machine without one. On a
        GPU a copy is used, so ``network_`` itself never leaves the CPU.
        """
        if self.device in ("auto", "cuda") and torch.cuda.is_available():
            return copy.deepcopy(self.network_).to("cuda").eval()
        return self.network_.eval()

    def _predict_outputs(self, X) -> Tensor:
        """``_outputs`` for every series of ``X``, on the CPU; never NaN or inf."""
        with torch_threads(self.n_threads), torch.no_grad():
            outputs = self._predict_outputs_inner(X)
        finite = torch.isfinite(outputs.flatten(1)).all(dim=1)
        if not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten()[:5].tolist()
            raise NonFiniteOutputError(
                f"the network's outputs are not finite for series {bad} of X; their "
                "values lie too far outside the range seen in fit")
        return outputs

    def _allows_missing(self) -> bool:
        return bool(self.get_tag("capability:missing_values", False))

    def _predict_outputs_inner(self, X) -> Tensor:
        network, data = self._prediction_data(X)
        return torch.cat([self._outputs(network, batch).cpu()
                          for batch in data.batches(PREDICT_BATCH_SIZE)])

    def _prediction_data(self, X) -> tuple[torch.nn.Module, Batch]:
        """The fitted network and the scaled panel ``X`` on its device."""
        values, lengths = panel_to_padded(X, allow_missing=self._allows_missing())
        if values.shape[2] != self.n_channels_:
            raise ValueError(f"X has {values.shape[2]} channels, but the estimator was "
                             f"fitted on {self.n_channels_}")
        network = self._predict_network()
        device = next(network.parameters()).device
        data = Batch.from_numpy(self.scaler_.transform(values, lengths), lengths,
                                np.zeros(len(lengths)), device)
        return network, data

    @staticmethod
    def _states(network: WarpNetwork, x: Tensor, lengths: Tensor) -> np.ndarray:
        """``theta_0 .. theta_{T-1}`` of every series as numpy (N, T, D), in
        batches; steps past a series' end repeat its last state."""
        chunks = []
        for start in range(0, len(x), PREDICT_BATCH_SIZE):
            part = slice(start, start + PREDICT_BATCH_SIZE)
            chunks.append(network.states(x[part], lengths[part]).cpu())
        return torch.cat(chunks).numpy()

    # -- persistence ------------------------------------------------------- #
    def __getstate__(self) -> dict:
        """The attributes, with torch modules and tensors on the CPU and the
        skwarp version that wrote them."""
        from skwarp import __version__

        state = dict(self.__dict__)
        for key, value in state.items():
            if isinstance(value, torch.nn.Module) and any(
                    t.device.type != "cpu" for t in value.state_dict().values()):
                state[key] = copy.deepcopy(value).cpu()
            elif isinstance(value, Tensor):
                state[key] = value.cpu()
        state["_skwarp_version"] = __version__
        state["_skwarp_state_format"] = STATE_FORMAT
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore pickled attributes; refuse a state another skwarp version
        laid out differently, naming both versions."""
        from skwarp import __version__

        state = dict(state)
        version = state.pop("_skwarp_version", None)
        state_format = state.pop("_skwarp_state_format", None)
        if state_format != STATE_FORMAT:
            raise ValueError(
                f"this {type(self).__name__} was pickled by skwarp "
                f"{version or '< 0.1.0'} (state format {state_format}); skwarp "
                f"{__version__} reads state format {STATE_FORMAT} only. Refit the "
                f"model, or load it with skwarp {version or '< 0.1.0'}")
        self.__dict__.update(state)
