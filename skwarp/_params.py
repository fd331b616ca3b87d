"""Hyper-parameters: each one's check and docstring text, written once.

An estimator lists its parameters as ``{name: Param}`` (the shared ones
below plus its own). ``validate_params`` runs every check before ``fit``
touches the data, and ``document_parameters`` writes the numpydoc
"Parameters" section from the same table, with each estimator's own
defaults read off its ``__init__`` signature.
"""

from __future__ import annotations

import inspect
import numbers
import re
import textwrap
from collections.abc import Callable, Collection
from dataclasses import dataclass

import numpy as np

from skwarp._preprocessing import SCALINGS
from skwarp._training import DEVICES, LR_SCHEDULES, OPTIMIZERS, check_device, check_threads
from skwarp._validation import check_bool, check_choice, check_int, check_real
from skwarp.core.root import ACTIVATIONS
from skwarp.core.transitions import TRANSITIONS
from skwarp.core.warp import INITIAL_STATES, ROOT_PRECISIONS

Check = Callable[[str, object], None]
PARAMETERS_MARKER = "%(parameters)s"


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: its type as documented, its check and its text."""

    kind: str
    check: Check
    doc: str = ""


def one_of(options: Collection) -> str:
    """The numpydoc type of a choice: ``{"a", "b", None}``."""
    return "{" + ", ".join(f'"{o}"' if isinstance(o, str) else repr(o) for o in options) + "}"


def choice_param(options: Collection, doc: str = "") -> Param:
    return Param(one_of(options), lambda name, value: check_choice(name, value, options), doc)


def int_param(minimum: int, doc: str = "") -> Param:
    return Param("int", lambda name, value: check_int(name, value, minimum), doc)


def bool_param(doc: str = "") -> Param:
    return Param("bool", check_bool, doc)


def real_param(doc: str = "", minimum: float = 0.0, **bounds) -> Param:
    kind = "float or None" if bounds.get("allow_none") else "float"
    return Param(kind, lambda name, value: check_real(name, value, minimum, **bounds), doc)


def check_radius(name: str, value) -> None:
    """Two numbers with ``0 < low <= high < 1``."""
    try:
        low, high = (float(r) for r in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair of numbers (low, high), got {value!r}") \
            from None
    if not 0 < low <= high < 1:
        raise ValueError(f"{name} must satisfy 0 < low <= high < 1, got {value!r}")


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


# Parameters of the WARP network (passed to skwarp.core.WarpNetwork by name).
NETWORK_PARAMS = {
    "root_width": int_param(1, "Hidden width of the root network."),
    "root_depth": int_param(0, "Hidden layers of the root network."),
    "activation": choice_param(tuple(ACTIVATIONS), "Activation of the root network."),
    "n_frequencies": int_param(0, "Sinusoidal positional-encoding frequencies of normalised time."),
    "initial_state": choice_param(INITIAL_STATES,
                                  "``theta_0 = phi(x_0)`` from an MLP, or one learned vector."),
    "init_layers": int_param(1, "Hidden layers of ``phi``."),
    "time_channel": bool_param("Feed normalised time as an extra input channel."),
    "state_clip": real_param("Clip the state to ``[-state_clip, state_clip]`` after every "
                             "step (forces a sequential solve).", strict=True,
                             allow_none=True),
    "transition": choice_param(TRANSITIONS, (
        "Structure of the transition matrix ``A``. \"lru\": complex pairs with eigenvalues "
        "``exp(-exp(nu) + i exp(phi))``, whose modulus is below 1 for any parameters, "
        "started with the moduli in ``transition_radius`` and angles in ``[0, "
        "transition_phase]``; ``B`` starts random and is used as ``diag((1 - r) / (1 - "
        "r^L)) B`` (``L`` the longest training series), so that every state is a moving "
        "average of its drive. The others start at the identity with ``B = 0`` (the "
        "paper): dense (``D^2`` parameters), diagonal, complex (rotation-scaling of "
        "weight pairs), blockdiag (blocks of ``transition_block``) or lowrank (``I + U "
        "V^T`` of rank ``transition_rank``).")),
    "transition_rank": int_param(1, "Rank of ``A - I`` for ``transition=\"lowrank\"``."),
    "transition_block": int_param(1, "Block size for ``transition=\"blockdiag\"``."),
    "transition_radius": Param("(float, float)", check_radius, (
        "Range of the starting eigenvalue moduli ``r`` of ``transition=\"lru\"``; the "
        "memory time scales ``-1 / log r`` (about 100 to 100,000 steps for (0.99, "
        "0.99999)) are spread log-uniformly between them.")),
    "transition_phase": real_param(
        "Largest starting eigenvalue angle (radians per step) of ``transition=\"lru\"``. "
        "At 0 every state starts as a decaying average (angles can still be learned); "
        "oscillating starts made the states position-sensitive and lost accuracy on "
        "shape data."),
    "root_precision": choice_param(ROOT_PRECISIONS, (
        "\"bfloat16\" evaluates the root network under bf16 autocast, mainly for GPUs; "
        "``phi`` and the linear recurrence stay in float32.")),
    "compile_root": bool_param(
        "Evaluate the root network through ``torch.compile`` (needs a working compiler "
        "toolchain; the first batches are slow while it compiles)."),
}

TRAINING_PARAMS = {
    "n_epochs": int_param(1, "Training epochs (upper bound with early stopping)."),
    "batch_size": int_param(1, "Series (or windows) per mini-batch."),
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

SHARED_PARAMS = {**NETWORK_PARAMS, **TRAINING_PARAMS}


def validate_params(estimator, params: dict[str, Param]) -> None:
    """Run the check of every parameter in ``params`` on ``estimator``."""
    for name, param in params.items():
        param.check(name, getattr(estimator, name))


def document_parameters(cls: type) -> type:
    """Class decorator: replace ``%(parameters)s`` in the docstring with the
    entries of ``cls._PARAMS``, in signature order, with ``cls``'s defaults."""
    signature = inspect.signature(cls.__init__).parameters
    names = [name for name in signature if name != "self"]
    missing = sorted(set(names) ^ set(cls._PARAMS))
    if missing:
        raise TypeError(f"{cls.__name__}: parameters without a Param or not in the "
                        f"signature: {missing}")
    if cls.__doc__:  # None under python -OO
        entries = [_entry(name, cls._PARAMS[name], signature[name].default) for name in names]
        cls.__doc__ = cls.__doc__.replace(PARAMETERS_MARKER, "\n".join(entries).strip())
    return cls


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
