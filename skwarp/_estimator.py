"""What WarpClassifier and WarpForecaster share: hyper-parameters and their
checks, one fit path (split, scaling on the training part, network, training
on the device), prediction on the device, and pickling.

Each estimator turns its own data into a padded panel and says, through
``_training_samples``, what its samples, targets and validation split are.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import Tensor

from skwarp._params import NETWORK_PARAMS, SHARED_PARAMS, Param, validate_params
from skwarp._preprocessing import ChannelScaler, sliding_windows
from skwarp._training import (
    Batch,
    LossFn,
    Seeds,
    TrainingConfig,
    resolve_device,
    seeded_torch,
    torch_threads,
    train_network,
)
from skwarp.core import WarpNetwork
from skwarp.core.embedding import pooled_steps
from skwarp.core.scan import valid_mask
from skwarp.core.stability import TransitionGuard, transition_cap

PREDICT_BATCH_SIZE = 256
# Bound on the growth of A's powers over the longest training series: the
# transition's spectral norm is capped at MAX_TRANSITION_GAIN^(1/(T-1)).
MAX_TRANSITION_GAIN = 1e3
# Version of the pickled state's layout; bump it when fitted attributes change
# in a way an older skwarp cannot read (2: WarpClassifier's ``networks_``). The
# formats this version reads: 1 loads as a one-network classifier.
STATE_FORMAT = 2
READABLE_STATE_FORMATS = (1, 2)


@dataclass
class TrainingSamples:
    """What a network trains on: the unscaled padded series, the targets of
    the samples, the training/validation split of the samples, and the part
    of the data the scaling is learned on (the training samples only).

    The samples are the series themselves, or with ``window`` every window of
    that many steps of the scaled series (:func:`sliding_windows`).
    """

    values: np.ndarray
    lengths: np.ndarray
    targets: np.ndarray
    train_idx: np.ndarray
    val_idx: np.ndarray | None
    scaler_values: np.ndarray
    scaler_lengths: np.ndarray
    window: int | None = None


class WarpEstimatorMixin:
    """Shared hyper-parameters, their checks, and the ``fit`` machinery.

    An estimator lists its parameters in ``_PARAMS`` (``SHARED_PARAMS`` plus
    its own), the ones passed to :class:`skwarp.core.WarpNetwork` in
    ``_NETWORK_PARAMS``, and supplies ``_training_samples`` and ``_loss``
    (network, batch) -> (loss, score).
    """

    _PARAMS: dict[str, Param] = SHARED_PARAMS
    _NETWORK_PARAMS: tuple[str, ...] = tuple(NETWORK_PARAMS)

    def _store_params(self, values: dict) -> None:
        """``__init__``: keep every parameter (``locals()`` of ``__init__``) as it is."""
        for name, value in values.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def _validate_params(self) -> None:
        """Check every hyper-parameter; called first in ``fit``, before the
        data is looked at."""
        validate_params(self, self._PARAMS)
        self._check_param_combinations()

    def _check_param_combinations(self) -> None:
        """Constraints between parameters (none by default)."""

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(**{f.name: getattr(self, f.name) for f in fields(TrainingConfig)})

    def _build_network(self, n_channels: int, n_outputs: int, seed: int,
                       **extra) -> WarpNetwork:
        kwargs = {name: getattr(self, name) for name in self._NETWORK_PARAMS}
        kwargs["transition_radius"] = tuple(float(r) for r in self.transition_radius)
        with seeded_torch(seed):
            return WarpNetwork(n_channels, n_outputs, **kwargs, **extra)

    def _training_samples(self, values: np.ndarray, lengths: np.ndarray,
                          targets: np.ndarray | None, seed: int) -> TrainingSamples:
        raise NotImplementedError

    def _loss_function(self, seeds: Seeds) -> LossFn:
        """The loss of one training run (``seeds`` for any randomness in it)."""
        return self._loss

    def _fit_network(self, values: np.ndarray, lengths: np.ndarray,
                     targets: np.ndarray | None, n_outputs: int,
                     network_kwargs: dict | None = None,
                     n_networks: int = 1) -> list[WarpNetwork]:
        """The one fit path: split the padded panel into training samples,
        learn the scaling on the training part only, build and train the
        network, or ``n_networks`` of them, each with its own seeds
        (:meth:`Seeds.member`) on the same split. Sets ``scaler_``,
        ``network_``, ``history_`` and ``n_epochs_`` (of the first network),
        ``n_channels_`` and ``_seeds``; returns every trained network."""
        with torch_threads(self.n_threads):
            self._seeds = seeds = Seeds.from_random_state(self.random_state)
            samples = self._training_samples(values, lengths, targets, seeds.split)
            self.scaler_ = ChannelScaler(self.scaling).fit(samples.scaler_values,
                                                           samples.scaler_lengths)
            scaled = self.scaler_.transform(samples.values, samples.lengths)
            sample_lengths = samples.lengths
            if samples.window is not None:
                scaled = sliding_windows(scaled, samples.lengths, samples.window)
                sample_lengths = np.full(len(scaled), samples.window)
            self.n_channels_ = values.shape[2]
            extra = dict(network_kwargs or {})
            if self.transition == "lru":
                extra.setdefault("reference_length",
                                 int(sample_lengths[samples.train_idx].max()))
            networks, histories = [], []
            for index in range(n_networks):
                member_seeds = seeds.member(index)
                network = self._build_network(self.n_channels_, n_outputs,
                                              member_seeds.init, **extra)
                label = f"network {index + 1}/{n_networks}" if n_networks > 1 else "epochs"
                histories.append(self._run_training(
                    network, scaled, sample_lengths, samples.targets, samples.train_idx,
                    samples.val_idx, self._training_config(), member_seeds, label))
                networks.append(network)
            self.network_, self.history_ = networks[0], histories[0]
            self.n_epochs_ = len(self.history_["train_loss"])
        return networks

    def _run_training(self, network: WarpNetwork, values: np.ndarray, lengths: np.ndarray,
                      targets: np.ndarray, train_idx: np.ndarray, val_idx: np.ndarray | None,
                      config: TrainingConfig, seeds: Seeds,
                      progress_label: str = "epochs") -> dict[str, list[float]]:
        """Train ``network`` (new, or fitted for fine-tuning) in place on the
        device and move it back to the CPU; returns the history."""
        device = resolve_device(self.device)
        network = network.to(device)
        data = Batch.from_numpy(values, lengths, targets, device)
        train = data.take(torch.as_tensor(train_idx))
        validation = None if val_idx is None else data.take(torch.as_tensor(val_idx))
        n_steps = pooled_steps(train.host_lengths.max(), network.stride)
        guard = TransitionGuard(transition_cap(MAX_TRANSITION_GAIN, n_steps - 1))
        history = train_network(network, self._loss_function(seeds), train, validation,
                                config, seeds, self._noise_std(train), guard, progress_label)
        network.cpu()
        return history

    def _noise_std(self, train: Batch) -> Tensor | None:
        """Training-noise std per channel: ``input_noise`` times the std of the
        step differences ``x_t - x_{t-1}`` (what drives the recurrence)."""
        if self.input_noise == 0 or train.x.shape[1] < 2:
            return None
        steps = train.x[:, 1:] - train.x[:, :-1]
        valid = valid_mask(train.lengths - 1, steps.shape[1])
        return self.input_noise * steps[valid].std(dim=0, unbiased=False)

    def _predict_network(self, network: torch.nn.Module | None = None) -> torch.nn.Module:
        """A fitted module (``network_`` by default) on the prediction device.

        A model fitted on a GPU still predicts on a machine without one. On a
        GPU a copy is used, so the fitted networks never leave the CPU.
        """
        network = self.network_ if network is None else network
        if self.device in ("auto", "cuda") and torch.cuda.is_available():
            return copy.deepcopy(network).to("cuda").eval()
        return network.eval()

    @staticmethod
    def _states(network: WarpNetwork, x: Tensor, lengths: Tensor) -> np.ndarray:
        """The states of every series as numpy (N, T', D), in batches (``T'``
        recurrence steps, see ``WarpNetwork.states``); steps past a series' end
        repeat its last state."""
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
        on_cpu: dict[int, torch.nn.Module] = {}  # one copy per module (network_ is in networks_)

        def cpu_module(module: torch.nn.Module) -> torch.nn.Module:
            if all(t.device.type == "cpu" for t in module.state_dict().values()):
                return module
            if id(module) not in on_cpu:
                on_cpu[id(module)] = copy.deepcopy(module).cpu()
            return on_cpu[id(module)]

        for key, value in state.items():
            if isinstance(value, torch.nn.Module):
                state[key] = cpu_module(value)
            elif isinstance(value, list) and value and \
                    all(isinstance(v, torch.nn.Module) for v in value):
                state[key] = [cpu_module(v) for v in value]
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
        if state_format not in READABLE_STATE_FORMATS:
            readable = " and ".join(map(str, READABLE_STATE_FORMATS))
            raise ValueError(
                f"this {type(self).__name__} was pickled by skwarp "
                f"{version or '< 0.1.0'} (state format {state_format}); skwarp "
                f"{__version__} reads state formats {readable} only. Refit the "
                f"model, or load it with skwarp {version or '< 0.1.0'}")
        # parameters added since the pickle was written take their defaults
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name != "self" and name not in state:
                state[name] = parameter.default
        self.__dict__.update(state)
