"""Hyper-parameters: each one's check and docstring text, written once.

An estimator's parameters come from three tables: the network settings it
exposes (:class:`skwarp.core.spec.NetworkSpec`, each setting's check and
text; the estimator's preset spec gives the default), the training settings
below, and its own (``_OWN_PARAMS``). :func:`hyperparameters` assembles them
into ``_PARAMS`` in signature order and writes the numpydoc "Parameters"
section, with the defaults read off ``__init__``; :func:`validate_params`
runs every check before ``fit`` touches the data.
"""

from __future__ import annotations

import inspect
import numbers
import re
import textwrap
from dataclasses import replace

import numpy as np

from skwarp._preprocessing import SCALINGS
from skwarp._training import DEVICES, LR_SCHEDULES, OPTIMIZERS, check_device, check_threads
from skwarp.core.checks import (
    Param,
    bool_param,
    check_int,
    choice_param,
    int_param,
    one_of,
    real_param,
)
from skwarp.core.spec import NetworkSpec, settings

__all__ = ["TRAINING_PARAMS", "Param", "bool_param", "choice_param", "hyperparameters",
           "int_param", "network_settings", "network_spec", "real_param", "validate_params"]

PARAMETERS_MARKER = "%(parameters)s"


def _check_epoch_size(name: str, value) -> None:
    if value is not None:
        check_int(name, value, 1)


def check_verbosity(name: str, value) -> None:
    """A bool, or an integer verbosity >= 0 (the sklearn convention)."""
    if not isinstance(value, (bool, numbers.Integral)) or value < 0:
        raise ValueError(f"{name} must be True, False or an integer >= 0, got {value!r}")


def check_random_state(name: str, value) -> None:
    ok = value is None or isinstance(value, np.random.RandomState) or (
        isinstance(value, (int, np.integer)) and not isinstance(value, bool))
    if not ok:
        raise TypeError(f"{name} must be None, an int or a numpy RandomState, "
                        f"got {type(value).__name__}")


TRAINING_PARAMS = {
    "n_epochs": int_param(1, "Training epochs (upper bound with early stopping)."),
    "batch_size": int_param(1, "Series (or windows) per mini-batch."),
    "epoch_size": Param("int or None", _check_epoch_size, (
        "Samples (series, or windows) per epoch, drawn afresh without replacement each "
        "epoch (more than the data holds: fresh random orders of every sample one after "
        "the other); None: every sample once. It fixes the cost of an epoch, e.g. of a "
        "global forecaster over many series, whose windows grow with the panel.")),
    "lr": real_param("Learning rate of every parameter except those of ``A``."),
    "transition_lr": real_param(
        "Learning rate of the parameters of ``A``. A dense ``A`` near the identity needs "
        "a small one (its powers amplify updates)."),
    "input_noise": real_param(
        "Gaussian noise added to the (scaled) training inputs, per channel "
        "``input_noise`` times the std of the step differences; 0 turns it off."),
    "optimizer": choice_param(tuple(OPTIMIZERS)),
    "weight_decay": real_param(
        "Weight decay of every parameter except ``A`` (decoupled with \"adamw\", an L2 "
        "penalty with \"adam\" and \"sgd\")."),
    "grad_clip": real_param("Maximum gradient norm; None: no clipping.", strict=True,
                            allow_none=True),
    "lr_schedule": choice_param(LR_SCHEDULES),
    "validation_fraction": real_param((
        "Fraction of the training data held out for early stopping: WarpClassifier holds "
        "out series (stratified), WarpForecaster the last windows of each series. The "
        "scaling is learned on the training series (windows) only. 0 trains on "
        "everything for ``n_epochs``."), below=1.0),
    "patience": int_param(1, "Epochs without a better validation loss before stopping."),
    "scaling": choice_param(SCALINGS, "Per-channel input scaling learned in ``fit``."),
    "device": Param(one_of(DEVICES), check_device, (
        "Where to train; the fitted module is kept on the CPU, so a model fitted on a "
        "GPU pickles and predicts anywhere.")),
    "n_threads": Param("int", check_threads, (
        "CPU threads torch may use in ``fit`` and ``predict`` (-1: all). WARP's matrix "
        "products are small, and one thread is usually fastest; it also keeps "
        "``GridSearchCV(n_jobs=k)`` from oversubscribing the CPU. Results are "
        "bit-identical for a fixed ``n_threads``; another thread count may change float "
        "rounding.")),
    "random_state": Param("int, RandomState or None", check_random_state, (
        "Seeds weights, shuffling, noise, the validation split and, in WarpForecaster, "
        "teacher forcing and the Monte Carlo rollouts, each from its own stream. The "
        "global torch and numpy RNGs are never touched.")),
    "verbose": Param("bool or int", check_verbosity,
                     "Show a progress bar with the training loss."),
}



def validate_params(estimator) -> None:
    """Run the check of every parameter of ``estimator`` (its ``_PARAMS``)."""
    for name, param in estimator._PARAMS.items():
        param.check(name, getattr(estimator, name))


def network_settings(cls: type) -> tuple[str, ...]:
    """The network settings ``cls`` exposes as hyper-parameters under their own
    names: the ones in its signature that it does not define itself."""
    return tuple(name for name in _signature_names(cls)
                 if name in settings() and name not in cls._OWN_PARAMS)


def network_spec(estimator, preset: NetworkSpec, **resolved) -> NetworkSpec:
    """``preset`` with the estimator's exposed network settings and the
    ``resolved`` ones (set in ``fit``, e.g. from the data)."""
    exposed = {name: getattr(estimator, name) for name in network_settings(type(estimator))
               if name not in resolved}
    return replace(preset, **exposed, **resolved)


def hyperparameters(cls: type) -> type:
    """Class decorator: set ``cls._PARAMS`` (every ``__init__`` parameter's
    :class:`Param`, from ``cls._OWN_PARAMS``, the network settings or the
    training settings, in that order of precedence) and replace
    ``%(parameters)s`` in the docstring with their entries, in signature
    order, with ``cls``'s defaults."""
    signature = inspect.signature(cls.__init__).parameters
    names = _signature_names(cls)
    tables = (cls._OWN_PARAMS, settings(), TRAINING_PARAMS)
    unknown = [name for name in names if not any(name in table for table in tables)]
    if unknown:
        raise TypeError(f"{cls.__name__}: parameters without a Param: {unknown}")
    cls._PARAMS = {name: next(table[name] for table in tables if name in table)
                   for name in names}
    if cls.__doc__:  # None under python -OO
        entries = [_entry(name, cls._PARAMS[name], signature[name].default) for name in names]
        cls.__doc__ = cls.__doc__.replace(PARAMETERS_MARKER, "\n".join(entries).strip())
    return cls


def _signature_names(cls: type) -> list[str]:
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def _entry(name: str, param: Param, default) -> str:
    shown = f'"{default}"' if isinstance(default, str) else repr(default)
    lines = [f"    {name} : {param.kind}, default={shown}"]
    if param.doc:
        # no line break inside an inline literal: its spaces are held while wrapping
        held = re.sub(r"``.+?``", lambda m: m.group(0).replace(" ", "\0"), param.doc)
        lines.append(textwrap.fill(held, width=83, initial_indent=" " * 8,
                                   subsequent_indent=" " * 8, break_long_words=False,
                                   break_on_hyphens=False).replace("\0", " "))
    return "\n".join(lines)
