"""Every setting of a WARP network, once: its default, its check and its text.

:class:`NetworkSpec` is what :class:`~skwarp.core.warp.WarpNetwork` is built
from. Its defaults are the paper's network (dense ``A`` from the identity,
``B`` from zero, the differences of ``x`` as the drive, no embedding, one step
per time point). The estimators expose most settings as hyper-parameters,
take their defaults from a preset spec (``CLASSIFIER_NETWORK`` in
:mod:`skwarp.classification`, ``FORECASTER_NETWORK`` in
:mod:`skwarp.forecasting`, each saying why it departs from the paper), and
document and check them from :func:`settings`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field, fields

from skwarp.core.checks import (
    Param,
    bool_param,
    check_int,
    choice_param,
    int_param,
    real_param,
)
from skwarp.core.physics import PhysicsPrior, check_physics
from skwarp.core.root import ACTIVATIONS
from skwarp.core.transitions import LRU_MAX_PHASE, LRU_RADIUS, TRANSITIONS

__all__ = ["DRIVES", "EMBEDDINGS", "INITIAL_STATES", "ROOT_PRECISIONS", "NetworkSpec",
           "settings"]

INITIAL_STATES = ("mlp", "learned")
EMBEDDINGS = (None, "conv")
DRIVES = ("difference", "value")
ROOT_PRECISIONS = ("float32", "bfloat16")


def _check_radius(name: str, value) -> None:
    """Two numbers with ``0 < low <= high < 1``."""
    try:
        low, high = (float(r) for r in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair of numbers (low, high), got {value!r}") \
            from None
    if not 0 < low <= high < 1:
        raise ValueError(f"{name} must satisfy 0 < low <= high < 1, got {value!r}")


def _check_stride(name: str, value) -> None:
    check_int(name, value, 1)


def _check_optional_length(name: str, value) -> None:
    if value is not None:
        check_int(name, value, 1)


def _check_physics(name: str, value) -> None:
    """None, or a prior as :func:`skwarp.core.physics.check_physics` takes it
    (its output count is checked against the network's outputs when built)."""
    if value is not None:
        check_physics(value, getattr(value, "n_outputs", 0))


def _setting(default, param: Param):
    return field(default=default, metadata={"param": param})


@dataclass(frozen=True)
class NetworkSpec:
    """The settings of a :class:`~skwarp.core.warp.WarpNetwork` beyond the
    data's shape (input channels, outputs). Frozen; every value is checked
    on construction (``ValueError`` / ``TypeError`` naming the setting), so
    ``dataclasses.replace(spec, name=value)`` checks the new value too.
    ``settings()`` gives each one's documented type, check and text.
    """

    # -- root network (the function the state parametrises) --
    root_width: int = _setting(32, int_param(1, "Hidden width of the root network."))
    root_depth: int = _setting(1, int_param(0, "Hidden layers of the root network."))
    activation: str = _setting("relu", choice_param(tuple(ACTIVATIONS),
                                                    "Activation of the root network."))
    n_frequencies: int = _setting(4, int_param(
        0, "Sinusoidal positional-encoding frequencies of normalised time."))
    root_precision: str = _setting("float32", choice_param(ROOT_PRECISIONS, (
        "\"bfloat16\" evaluates the root network under bf16 autocast, mainly for GPUs; "
        "``phi`` and the linear recurrence stay in float32.")))
    compile_root: bool = _setting(False, bool_param(
        "Evaluate the root network through ``torch.compile`` (needs a working compiler "
        "toolchain; the first batches are slow while it compiles; never pickled)."))
    # -- initial state --
    initial_state: str = _setting("mlp", choice_param(INITIAL_STATES, (
        "``theta_0 = phi(x_0)`` from an MLP of the first observation, or one learned "
        "vector.")))
    init_layers: int = _setting(2, int_param(1, "Hidden layers of ``phi``."))
    # -- the recurrence theta_t = A theta_{t-1} + B v_t --
    transition: str = _setting("dense", choice_param(TRANSITIONS, (
        "Structure of the transition matrix ``A``. \"lru\": complex pairs with eigenvalues "
        "``exp(-exp(nu) + i exp(phi))``, whose modulus is below 1 for any parameters, "
        "started with the moduli in ``transition_radius`` and "
        "angles in ``[0, transition_phase]``; ``B`` starts random and is used as "
        "``diag((1 - r) / (1 - r^L)) B`` (``L`` the longest training series, see "
        "``reference_length``; with ``running_average`` the average runs over the steps "
        "so far instead), so that every state is a moving average of its drive. "
        "The others start at the identity with ``B = 0``, so ``theta`` starts at "
        "``phi(x_0)`` (the paper): dense (``D^2`` parameters), diagonal, complex "
        "(rotation-scaling of weight pairs), blockdiag (blocks of ``transition_block``) "
        "or lowrank (``I + U V^T`` of rank ``transition_rank``).")))
    transition_rank: int = _setting(8, int_param(
        1, "Rank of ``A - I`` for ``transition=\"lowrank\"``."))
    transition_block: int = _setting(16, int_param(
        1, "Block size for ``transition=\"blockdiag\"``."))
    transition_radius: tuple[float, float] = _setting(LRU_RADIUS, Param(
        "(float, float)", _check_radius,
        "Range of the starting eigenvalue moduli ``r`` of ``transition=\"lru\"``; the "
        "memory time scales ``-1 / log r`` are spread log-uniformly between them."))
    transition_phase: float = _setting(LRU_MAX_PHASE, real_param(
        "Largest starting eigenvalue angle (radians per step) of ``transition=\"lru\"``. "
        "At 0 every state starts as a decaying average (angles can still be learned); "
        "oscillating starts make the states position-sensitive."))
    reference_length: int | None = _setting(None, Param(
        "int or None", _check_optional_length,
        "Series length over which an ``\"lru\"`` state averages a constant drive to that "
        "constant: ``B`` is used as ``diag((1 - r) / (1 - r^L))  B``, so states with "
        "memory longer than the series are not drowned by faster ones. None: ``1 - r``. "
        "The estimators set it to the longest training series (or window). Unused with "
        "``running_average``."))
    running_average: bool = _setting(False, bool_param(
        "Used by ``transition=\"lru\"`` (the others ignore it, as they start at the "
        "identity with ``B = 0``): each state's drive part is the moving average of "
        "the drive seen so far (its sum over the steps divided by the state's response "
        "to a unit drive over as many steps, ``(1 - r^t) / (1 - r)``, as Adam corrects "
        "its moment estimates; for rotating pairs the sum of the moduli' powers) instead "
        "of over ``reference_length`` steps, so a state "
        "has one scale at every step and for series of every length; ``theta_0``'s part "
        "still decays as ``A^t theta_0``. ``reference_length`` is then unused. Not with "
        "``state_clip`` or in recurrent (autoregressive) mode."))
    state_clip: float | None = _setting(None, real_param(
        "Clip the state to ``[-state_clip, state_clip]`` after every step (a nonlinear "
        "recurrence: forces a sequential solve).", strict=True, allow_none=True))
    # -- the drive v_t --
    embedding: str | None = _setting(None, choice_param(EMBEDDINGS, (
        "\"conv\": the (scaled, pooled) inputs pass through ``embedding_layers`` layers "
        "of Conv1d (``embedding_width`` channels, kernel ``embedding_kernel``) and ReLU "
        "before the recurrence; ``phi`` still sees the raw first observation. "
        "WarpForecaster uses kernel 1 without normalisation (pointwise, so a rollout "
        "needs no history): nonlinear features let the state average quantities such "
        "as squares, which a linear recurrence over the raw series cannot. None: the "
        "recurrence sees the series itself (the paper).")))
    embedding_width: int = _setting(32, int_param(1, "Channels of each embedding layer."))
    embedding_layers: int = _setting(2, int_param(1, "Layers of the embedding."))
    embedding_kernel: int = _setting(9, int_param(1, "Kernel size of the embedding layers."))
    causal_embedding: bool = _setting(False, bool_param(
        "Pad the embedding's convolutions on the left only, so step ``t`` sees steps "
        "``<= t``; otherwise the kernels are centred."))
    embedding_dilated: bool = _setting(False, bool_param(
        "Dilate embedding layer ``l`` by ``2^l``."))
    embedding_norm: bool = _setting(False, bool_param(
        "Batch-normalise each embedding layer (statistics over the valid steps of a "
        "batch in training, running statistics in prediction)."))
    embedding_pool: int = _setting(1, Param("int", _check_stride, (
        "Mean-pool the first embedding layer's features over windows of this many steps: "
        "the later layers and the recurrence take ``ceil(L' / embedding_pool)`` steps "
        "for ``L'`` inputs, so their cost falls by that factor while the first layer "
        "still sees every point (its ReLU features keep the energy of detail finer "
        "than a window, which pooling the series itself, ``stride``, averages away). "
        "Needs ``embedding=\"conv\"``; not in recurrent mode.")))
    drive: str = _setting("difference", choice_param(DRIVES, (
        "What drives the recurrence: the differences of the (embedded) inputs "
        "``e_t - e_{t-1}`` (the paper; with ``A`` near the identity they telescope to "
        "``e_T - e_0``) or their values ``e_t``.")))
    time_channel: bool = _setting(False, bool_param(
        "Feed normalised time as an extra input channel (``B`` gets one more column)."))
    stride: int = _setting(1, Param("int", _check_stride, (
        "The recurrence takes one step per ``stride`` time points, driven by the means "
        "of the inputs over them (before the embedding); a series of ``L`` points takes "
        "``ceil(L / stride)`` steps. ``phi`` still sees the raw first observation. 1: one "
        "step per time point (the paper). Not with a physics prior or ``time_scale``, "
        "which work per time point.")))
    # -- decoding --
    time_scale: float | None = _setting(None, real_param(
        "``tau_t = t / time_scale`` for every series (forecasting windows of a fixed "
        "length, and rollouts past them); None: ``t / (L - 1)`` with each series' own "
        "length ``L``.", strict=True, allow_none=True))
    physics: PhysicsPrior | None = _setting(None, Param(
        "skwarp.core.PhysicsPrior or None", _check_physics, (
            "WARP-Phys: the root network outputs the parameters of this known model (e.g. "
            ":class:`skwarp.core.MassSpringDamper`), which predicts the mean of the next "
            "value from them, ``tau`` and the current observation; the root's extra "
            "outputs pass through (e.g. the standard deviations of a Gaussian head).")))

    def __post_init__(self) -> None:
        for name, param in settings().items():
            param.check(name, getattr(self, name))
        # canonical forms, so equal settings compare (and pickle) equal
        object.__setattr__(self, "transition_radius",
                           tuple(float(r) for r in self.transition_radius))
        object.__setattr__(self, "stride", int(self.stride))
        object.__setattr__(self, "embedding_pool", int(self.embedding_pool))
        for name in ("transition_phase", "state_clip", "time_scale"):
            value = getattr(self, name)
            if isinstance(value, numbers.Real):
                object.__setattr__(self, name, float(value))
        if self.stride > 1 and (self.physics is not None or self.time_scale is not None):
            raise ValueError("a physics prior or a time_scale works per time point: it "
                             "needs stride=1")
        if self.running_average and self.transition == "lru" and self.state_clip is not None:
            raise ValueError("state_clip clips the state after every step, which "
                             "running_average (the drive averaged over the steps so far) does "
                             "not take: set running_average=False to clip an \"lru\" state")
        if self.embedding_pool > 1 and self.embedding is None:
            raise ValueError("embedding_pool pools the embedding's first layer: it needs "
                             "embedding=\"conv\"")
        if self.embedding_pool > 1 and (self.physics is not None or self.time_scale is not None):
            raise ValueError("a physics prior or a time_scale works per time point: it "
                             "needs embedding_pool=1")


def settings() -> dict[str, Param]:
    """Each setting of :class:`NetworkSpec` with its documented type, check and text,
    in declaration order."""
    return {f.name: f.metadata["param"] for f in fields(NetworkSpec)}

