"""What WarpClassifier and WarpForecaster share beyond training: storing and
checking hyper-parameters, prediction on the device, and the pickle policy.

Each estimator's ``_fit`` is one straight sequence in its own module
(validate, convert, split, scale, build and train with
:func:`skwarp._training.fit_networks`, store the fitted attributes).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import Tensor

from skwarp._params import validate_params
from skwarp.core import WarpNetwork

__all__ = ["PREDICT_BATCH_SIZE", "WarpEstimatorMixin"]

PREDICT_BATCH_SIZE = 256


class WarpEstimatorMixin:
    """Parameters kept as given, checked before the data; networks on the
    prediction device; pickles that carry the skwarp version.

    An estimator declares its own parameters in ``_OWN_PARAMS`` and is
    decorated with :func:`skwarp._params.hyperparameters`, which adds the
    network and training settings it exposes.
    """

    _OWN_PARAMS: dict = {}

    def _store_params(self, values: dict) -> None:
        """``__init__``: keep every parameter (``locals()`` of ``__init__``) as it is."""
        for name, value in values.items():
            if name not in ("self", "__class__"):
                setattr(self, name, value)

    def _validate_params(self) -> None:
        """Check every hyper-parameter, then the constraints between them;
        the public ``fit`` calls this before the data is looked at."""
        validate_params(self)
        self._check_param_combinations()

    def _check_param_combinations(self) -> None:
        """Constraints between parameters (none by default)."""

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
    # The policy: every pickle carries the skwarp version that wrote it, and
    # only that version loads it; any other is refused at load, naming both.
    # There are no migrations. A change to the fitted attributes or to the
    # modules' layout therefore needs a new __version__.
    def __getstate__(self) -> dict:
        """The attributes, with torch modules and tensors on the CPU, and the
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
        return state

    def __setstate__(self, state: dict) -> None:
        """Restore the attributes of a pickle written by this skwarp version;
        refuse one from any other version, naming both."""
        from skwarp import __version__

        state = dict(state)
        version = state.pop("_skwarp_version", None)
        if version != __version__:
            written = f"skwarp {version}" if version else "a skwarp version before 0.1.0"
            raise ValueError(
                f"this {type(self).__name__} was pickled by {written}; this is skwarp "
                f"{__version__}, which loads only its own pickles. Refit the model with "
                f"skwarp {__version__}, or load it with the version that wrote it")
        self.__dict__.update(state)
