"""A trained global forecasting network, apart from the series it forecasts,
and its file format.

``WarpForecaster.pretrain`` stores a :class:`GlobalModel` in ``pretrained_``;
``fit`` after it copies the model and only computes each series' transforms
and context. :func:`save` writes a model as weights plus its specification,
in an ``.npz`` archive read back without pickle, so that a network trained
once loads into later skwarp versions for as long as :data:`FORMAT` holds.

The file holds one JSON header (``header``: the format, the skwarp version
that wrote it, the estimator's parameters, the network specification and the
data's shape) and the arrays: the scaler's ``offset`` and ``scale`` and each
network's ``state_dict`` entries as ``network<i>/<name>``.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from skwarp._preprocessing import ChannelScaler
from skwarp.core import WarpNetwork
from skwarp.core.spec import NetworkSpec

__all__ = ["FORMAT", "GlobalModel", "load", "save"]

FORMAT = 1  # the file layout; bump it when a field's meaning changes
READABLE_FORMATS = (1,)


@dataclass
class GlobalModel:
    """What a forecaster's training learns, apart from any one series.

    ``networks``: the trained modules (on the CPU); ``histories``: their
    per-epoch losses; ``scaler``: the per-channel scaling of the model-unit
    inputs; ``spec``: the networks' specification; ``n_targets`` and
    ``n_exog``: the columns of ``y`` and of ``X`` it was trained on;
    ``fed_bounds``: what an autoregressive rollout may feed back (None for
    direct decoding).
    """

    networks: list[WarpNetwork]
    histories: list[dict]
    scaler: ChannelScaler
    spec: NetworkSpec
    n_targets: int
    n_exog: int
    fed_bounds: Tensor | None = None

    @property
    def n_channels(self) -> int:
        return self.n_targets + self.n_exog

    def copy(self) -> GlobalModel:
        """An independent copy: training it leaves this one as it is."""
        return copy.deepcopy(self)


def save(path, model: GlobalModel, params: dict, version: str) -> Path:
    """Write ``model`` and the estimator ``params`` that trained it to ``path``
    (``.npz`` is appended where missing); returns the path written."""
    if model.spec.physics is not None:
        raise ValueError("a network with a physics prior cannot be saved as weights: "
                         "the prior is a Python object; pickle the forecaster instead")
    header = {
        "format": FORMAT,
        "skwarp_version": version,
        "params": _jsonable(params),
        "spec": _jsonable(asdict(model.spec)),
        "n_targets": model.n_targets,
        "n_exog": model.n_exog,
        "n_outputs": model.networks[0].n_outputs,
        "scaler_method": model.scaler.method,
        "histories": model.histories,
        "fed_bounds": None if model.fed_bounds is None else model.fed_bounds.tolist(),
    }
    arrays = {"header": np.array(json.dumps(header)),
              "scaler/offset": model.scaler.offset_, "scaler/scale": model.scaler.scale_}
    for index, network in enumerate(model.networks):
        for name, tensor in network.state_dict().items():
            arrays[f"network{index}/{name}"] = tensor.detach().cpu().numpy()
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    np.savez(path, **arrays)
    return path


def load(path) -> tuple[dict, GlobalModel, str]:
    """Read a file written by :func:`save`: the estimator parameters, the
    model and the skwarp version that wrote it. A file of another format,
    or not written by :func:`save`, raises ``ValueError`` naming why."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no pretrained model at {path}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (ValueError, OSError) as error:
        raise ValueError(f"{path} is not a pretrained skwarp model (an .npz archive "
                         f"written by save_pretrained): {error}") from None
    if "header" not in arrays:
        raise ValueError(f"{path} has no skwarp header: it was not written by "
                         "save_pretrained")
    header = json.loads(str(arrays.pop("header")))
    found = header.get("format")
    if found not in READABLE_FORMATS:
        raise ValueError(
            f"{path} holds a pretrained model in format {found} (written by skwarp "
            f"{header.get('skwarp_version')}); this skwarp reads formats "
            f"{list(READABLE_FORMATS)}. Load it with the version that wrote it, or "
            "pretrain again")
    spec = _spec_of(header["spec"], path)
    n_channels = header["n_targets"] + header["n_exog"]
    networks = []
    for index in range(len(header["histories"])):
        prefix = f"network{index}/"
        state = {name[len(prefix):]: torch.from_numpy(value)
                 for name, value in arrays.items() if name.startswith(prefix)}
        network = WarpNetwork(n_channels, header["n_outputs"], spec)
        try:
            network.load_state_dict(state)
        except RuntimeError as error:
            raise ValueError(f"the weights in {path} do not fit the network its header "
                             f"specifies: {error}") from None
        networks.append(network.eval())
    scaler = ChannelScaler(header["scaler_method"])
    scaler.offset_, scaler.scale_ = arrays["scaler/offset"], arrays["scaler/scale"]
    bounds = header["fed_bounds"]
    model = GlobalModel(networks, header["histories"], scaler, spec, header["n_targets"],
                        header["n_exog"], None if bounds is None else torch.tensor(bounds))
    return header["params"], model, header["skwarp_version"]


def _spec_of(saved: dict, path: Path) -> NetworkSpec:
    """The :class:`NetworkSpec` of a saved header, tuples restored."""
    known = {f.name: f for f in fields(NetworkSpec)}
    unknown = sorted(set(saved) - set(known))
    if unknown:
        raise ValueError(f"{path} specifies network settings this skwarp does not know: "
                         f"{unknown}")
    values = {name: tuple(value) if isinstance(value, list) else value
              for name, value in saved.items()}
    return replace(NetworkSpec(), **values)


def _jsonable(values: dict) -> dict:
    """``values`` with tuples as lists; anything JSON cannot hold is refused."""
    out = {}
    for name, value in values.items():
        if isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value)
        except TypeError:
            raise ValueError(f"the setting {name}={value!r} cannot be saved with the "
                             "weights; pickle the forecaster instead") from None
        out[name] = value
    return out
