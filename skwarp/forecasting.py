"""WarpForecaster: WARP as a sktime forecaster (autoregressive, probabilistic)."""

from __future__ import annotations

import copy
from dataclasses import fields
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from sktime.exceptions import NotFittedError
from sktime.forecasting.base import BaseForecaster
from torch import Tensor

from skwarp import _pretrained
from skwarp._estimator import WarpEstimatorMixin
from skwarp._forecast_direct import DirectDecoding
from skwarp._forecast_rollout import Rollouts
from skwarp._frames import (
    forecast_frame,
    future_exogenous,
    n_columns,
    targets_and_exogenous,
)
from skwarp._params import (
    Param,
    bool_param,
    choice_param,
    hyperparameters,
    int_param,
    network_spec,
    real_param,
)
from skwarp._preprocessing import (
    ChannelScaler,
    context_windows,
    panel_to_padded,
    sliding_windows,
    window_split,
)
from skwarp._target_transform import (
    SEASONALITIES,
    TRANSFORMS,
    SeriesTransform,
    auto_seasonal_period,
)
from skwarp._training import (
    Batch,
    Seeds,
    TrainingConfig,
    fit_networks,
    input_noise_std,
    resolve_device,
    torch_threads,
    train_on_device,
)
from skwarp.core.checks import check_int
from skwarp.core.heads import gaussian_head, gaussian_nll, laplace_nll
from skwarp.core.physics import check_physics
from skwarp.core.spec import NetworkSpec
from skwarp.exceptions import InSampleHorizonError, NonFiniteOutputError

__all__ = ["FORECASTER_NETWORK", "PAPER_FORECASTER_PARAMS", "WarpForecaster"]

TRAINING_MODES = ("parallel", "recurrent")
DECODINGS = ("autoregressive", "direct")
LOSSES = ("nll", "laplace", "mse")


# The forecaster's network departs from the paper's (NetworkSpec's defaults:
# dense A from the identity, differences as the drive, no embedding): at the
# learning rate that forecast best, the dense A stayed at the identity and the
# state held only the context's first and last points. A stable "lru"
# transition whose moduli start in (0.3, 0.9) (memories of about 1 to 10
# steps) averages a pointwise embedding of the values (kernel 1, causal, no
# batch statistics, so a rollout embeds each new step without its history),
# and every point of the context reaches the state. The state starts from
# one learned vector, not from phi(x_0): the lru forgets theta_0 within a few
# steps, so a state started at phi(x_0) spent most of its travel forgetting
# the first point, and the reordered history moved it by a few percent of
# that travel.
FORECASTER_NETWORK = NetworkSpec(
    embedding="conv", embedding_kernel=1, causal_embedding=True, drive="value",
    transition="lru", transition_radius=(0.3, 0.9), initial_state="learned")
_NET = FORECASTER_NETWORK


# The paper's forecaster: ``WarpForecaster(**PAPER_FORECASTER_PARAMS)`` (its
# network is NetworkSpec's defaults: dense A from the identity, differences of
# y as the drive, no embedding; a 12-step context, no target transforms,
# autoregressive, parallel training on every window for 100 epochs).
PAPER_FORECASTER_PARAMS = {
    "context_length": 12, "horizon_length": 12, "seasonality": None, "transform": None,
    "decoding": "autoregressive", "training_mode": "parallel", "loss": "nll",
    "residual": True, "window_norm": True, "n_networks": 1, "n_epochs": 100,
    "batch_size": 16, "epoch_size": None, "lr": 1e-3,
    **{name: getattr(NetworkSpec(), name) for name in (
        "embedding", "drive", "transition", "root_width", "root_depth", "n_frequencies",
        "time_channel", "initial_state")},
    "transition_lr": 1e-5,
}


def _check_seasonal_period(name: str, value) -> None:
    if value is not None and value != "auto":
        check_int(name, value, 2)


def _check_optional_count(name: str, value) -> None:
    if value is not None:
        check_int(name, value, 1)


FORECASTER_PARAMS = {
    "seasonal_period": Param('int, "auto" or None', _check_seasonal_period, (
        "Steps per season. \"auto\": from the time index's frequency (12 monthly, 4 "
        "quarterly, 7 daily, 24 hourly, 52 weekly, 5 business days, 24 semi-monthly; a "
        "multiple of the step divides the period where it can, e.g. 12 for 2-hourly, "
        "else none; none for yearly and other frequencies); for an index with no "
        "frequency (integer, irregular), estimated from the data by the autocorrelation "
        "test among 4, 5, 7, 12, 24 and 52, with a ``SeasonalPeriodWarning`` where none "
        "is found; None: no seasonal adjustment.")),
    "seasonality": choice_param(SEASONALITIES, (
        "Seasonal adjustment of each target series before the model sees it (classical "
        "decomposition; the seasonal profile is put back on the forecasts). \"auto\": "
        "only series the 90% autocorrelation test at ``seasonal_period`` finds seasonal, "
        "multiplicatively where a series is positive, additively otherwise; "
        "\"multiplicative\" / \"additive\": every series; None: none.")),
    "transform": choice_param(TRANSFORMS, (
        "Model each target series in logs: \"auto\" where the series is positive, "
        "\"log\" every series (all must be positive), None never. Applied after the "
        "seasonal adjustment; point forecasts are then medians.")),
    "context_length": int_param(1, "Observations the state is built from before forecasting."),
    "horizon_length": int_param(1, "Steps after the context in each training window."),
    "decoding": choice_param(DECODINGS, (
        "How the horizon is forecast. \"direct\": the state after the context is decoded "
        "at every future ``tau`` (the root network is a function of time), each step's "
        "distribution at once; past ``horizon_length`` steps, block by block from the "
        "state of a context extended by the forecasts before; exogenous ``X`` informs "
        "the state through the context only, and ``training_mode`` does not apply. "
        "\"autoregressive\": the root network predicts the next value, which is fed back "
        "step by step (intervals by Monte Carlo rollouts; ``X`` is read at every "
        "forecast step).")),
    "training_mode": choice_param(TRAINING_MODES, (
        "\"parallel\": every input is the truth and all states come from one parallel "
        "scan. \"recurrent\": after the context the model is fed its own predictions, "
        "except with probability ``p_forcing``.")),
    "p_forcing": real_param("Teacher-forcing probability of the recurrent mode.",
                            below=1.0 + 1e-12),
    "reparametrise": bool_param(
        "In the recurrent mode, feed back samples ``m + s * eps`` instead of means."),
    "loss": choice_param(LOSSES, (
        "\"nll\": Gaussian negative log-likelihood; \"laplace\": Laplace negative "
        "log-likelihood (the median and a scale: the probabilistic absolute error, which "
        "windows with large errors sway less); \"mse\": squared error of the mean.")),
    "min_std": real_param("Lower bound of the predicted standard deviation (scaled units).",
                          strict=True),
    "residual": bool_param("The root network predicts the change from the current value."),
    "window_norm": bool_param(
        "Express every window in units of its context's mean and std (and undo it on the "
        "forecasts), so that levels outside the training range, as in trending series, "
        "look familiar."),
    "n_samples": int_param(2, "Monte Carlo rollouts for probabilistic forecasts (per network)."),
    "n_networks": int_param(1, (
        "Networks trained on the same windows from independent initialisations and "
        "mini-batch orders (seeds drawn from ``random_state``); the forecast is their "
        "equal mixture: with direct decoding the mixture of their distributions (its "
        "median the point forecast); with autoregressive decoding the mean of their mean "
        "rollouts, and intervals from all their Monte Carlo paths.")),
    "update_epochs": int_param(1, "Epochs of fine-tuning in ``update(..., update_params=True)``."),
    "finetune_epochs": int_param(0, (
        "Epochs of fine-tuning on ``y``'s windows when ``fit`` follows ``pretrain``: 0 "
        "uses the pretrained networks as they are (``fit`` then only transforms each "
        "series and reads its context; no gradient step). Fine-tuning trains a copy: "
        "the pretrained networks, and so every later ``fit``, stay as they were.")),
    "windows_per_series": Param("int or None", _check_optional_count, (
        "With ``decoding=\"direct\"``: each series gives its most recent training windows "
        "only, one per cut point, this many (fewer where it is short; more where the "
        "panel has too few series to fill an ``epoch_size`` with distinct windows, so a "
        "single series trains on all of its windows), so every series weighs alike and "
        "the windows nearest the forecast count most; None: a window at every cut point. "
        "Autoregressive decoding trains on every full window.")),
}


class _Corpus(NamedTuple):
    """Series as ``fit`` and ``pretrain`` read them: padded ``values`` (n_series,
    T, targets then exogenous), their ``lengths`` and ``keys``, each series'
    target transform (by key) and the values with targets transformed."""

    values: np.ndarray
    lengths: np.ndarray
    keys: list
    n_targets: int
    n_exog: int
    period: int | None
    transforms: dict
    model_values: np.ndarray


@hyperparameters
class WarpForecaster(DirectDecoding, Rollouts, WarpEstimatorMixin, BaseForecaster):
    """Forecaster based on WARP, a weight-space linear RNN.

    Each target series is first seasonally adjusted (where the index's
    frequency, or the data, gives a season and the series is seasonal) and
    taken to logs (where it is positive); the forecasts put both back. The
    last ``context_length`` points of the (transformed) series, in units of
    their own mean and standard deviation, drive ``theta_t = A theta_{t-1} +
    B e(y_t)`` over the weights of a root MLP (``e`` a pointwise embedding;
    ``A`` a stable ``"lru"`` transition whose memories span a few steps to a
    few tens). With the default ``decoding="direct"`` the state at the
    cutoff is decoded at each future step's ``tau``: the root network gives
    the location and scale of every step of the horizon at once (a Laplace
    law with ``loss="laplace"``), and ``predict``, ``predict_quantiles``,
    ``predict_interval``, ``predict_var`` and ``predict_proba`` all read that
    one distribution, mapped through the transforms. Training uses each
    series' most recent windows of a context and ``horizon_length`` targets
    (shorter contexts padded and masked, so short series take part). With
    ``decoding="autoregressive"`` the root network predicts the next value
    and forecasts roll out step by step, intervals from Monte Carlo paths
    (held within the range of the training windows, widened by its width on
    each side). Panels and hierarchies are fitted as one global model; an
    epoch is ``epoch_size`` windows drawn from all of them, so the cost of a
    fit does not grow with the panel. Exogenous ``X`` enters as extra input
    channels beside ``y``; with autoregressive decoding ``X_t`` shapes
    forecasts from ``t + 1`` on and ``predict`` needs ``X`` for every step up
    to the horizon.

    The network is ``FORECASTER_NETWORK`` (the paper's, but for the
    embedding, the value drive, the ``"lru"`` transition and a learned
    initial state); the paper's whole
    forecaster is ``WarpForecaster(**PAPER_FORECASTER_PARAMS)``. With a ``physics``
    prior (WARP-Phys) the prior predicts every column of ``y``
    (``physics.n_outputs`` of them) in the data's own units, so it needs
    ``scaling=None`` and ``window_norm=False``, and ``residual`` does not
    apply, and ``seasonality`` and ``transform`` "auto" mean none; a copy of
    the prior is trained, the object passed stays as it is.

    ``pretrain(y)`` trains the global network on a panel once; a following
    ``fit`` on any series transforms it and reads its context without a
    gradient step (``finetune_epochs`` fine-tunes a copy), and
    :meth:`save_pretrained` / :meth:`from_pretrained` keep the network as
    weights plus specification.

    .. versionchanged:: 0.2.0
       ``decoding="direct"``, ``context_length=24``, an ``"lru"`` state over a
       pointwise embedding, ``loss="laplace"``, ``windows_per_series=18``; the
       state starts from a learned vector (``initial_state="learned"``).
       ``pretrain``, ``finetune_epochs``, ``save_pretrained`` and
       ``from_pretrained`` are new. ``CHANGELOG.md`` lists each version's
       changes.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    networks_ : list of skwarp.core.WarpNetwork
        The ``n_networks`` fitted torch modules, on CPU.
    network_ : skwarp.core.WarpNetwork
        The first of ``networks_`` (the one ``weight_trajectory`` follows).
    n_channels_ : int
        Input channels: the columns of ``y``, then those of ``X``.
    histories_ : list of dict of lists
        Per network, per epoch: ``train_loss``, ``train_mse`` (and ``val_loss``,
        ``val_mse``).
    history_ : dict of lists
        The first of ``histories_``.

    Examples
    --------
    >>> from sktime.datasets import load_airline
    >>> from skwarp import WarpForecaster
    >>> y = load_airline()
    >>> forecaster = WarpForecaster(n_epochs=2, random_state=0).fit(y)
    >>> forecaster.predict(fh=[1, 2, 3]).shape
    (3,)
    """

    _tags = {
        "authors": ["skwarp developers"],
        "maintainers": ["skwarp developers"],
        "python_dependencies": "torch",
        "y_inner_mtype": ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"],
        "X_inner_mtype": ["pd.DataFrame", "pd-multiindex", "pd_multiindex_hier"],
        "capability:multivariate": True,
        "capability:exogenous": True,
        "capability:non_contiguous_X": False,  # the rollout needs X at every step
        "capability:insample": False,
        "capability:pred_int": True,
        "capability:pred_int:insample": False,
        "capability:update": True,
        "capability:pretrain": True,
        "pretrain:fitted_params": ["pretrained_"],
        "capability:missing_values": False,
        "capability:random_state": True,
        "property:randomness": "derandomized",
        "requires-fh-in-fit": False,
    }

    # we keep the recent observations ourselves (see _remember), so sktime need not
    # store the whole history in _y
    _config = {**BaseForecaster._config, "remember_data": False}

    _OWN_PARAMS = FORECASTER_PARAMS

    def __init__(self, *, context_length=24, horizon_length=18, seasonal_period="auto",
                 seasonality="auto", transform="auto", decoding="direct",
                 training_mode="parallel",
                 p_forcing=0.25, reparametrise=False, loss="laplace", min_std=1e-3,
                 residual=True, window_norm=True, n_samples=200, n_networks=1,
                 update_epochs=5, finetune_epochs=0, windows_per_series=18,
                 embedding=_NET.embedding, embedding_width=_NET.embedding_width,
                 embedding_layers=_NET.embedding_layers, drive=_NET.drive,
                 root_width=_NET.root_width, root_depth=_NET.root_depth,
                 activation=_NET.activation, n_frequencies=_NET.n_frequencies,
                 initial_state=_NET.initial_state, init_layers=_NET.init_layers,
                 time_channel=_NET.time_channel, state_clip=_NET.state_clip,
                 transition=_NET.transition, transition_rank=_NET.transition_rank,
                 transition_block=_NET.transition_block,
                 transition_radius=_NET.transition_radius,
                 transition_phase=_NET.transition_phase,
                 running_average=_NET.running_average,
                 root_precision=_NET.root_precision, compile_root=_NET.compile_root,
                 n_epochs=100,
                 batch_size=256, epoch_size=2560, lr=1e-3, transition_lr=1e-3, input_noise=0.0,
                 optimizer="adamw", weight_decay=0.0, grad_clip=1.0, lr_schedule="cosine",
                 validation_fraction=0.0, patience=20, scaling="standard", device="auto",
                 n_threads=1, random_state=None, verbose=False, physics=_NET.physics):
        self._store_params(locals())
        super().__init__()
        # sktime 1.2 creates these only when remember_data is on at construction;
        # a user may switch it on later with set_config
        self._y = getattr(self, "_y", None)
        self._X = getattr(self, "_X", None)

    def fit(self, y, X=None, fh=None):
        """Fit to the series ``y`` (and exogenous ``X``); see sktime's
        ``BaseForecaster.fit``. The hyper-parameters are checked first."""
        self._validate_params()
        return super().fit(y, X=X, fh=fh)

    def fit_predict(self, y, X=None, fh=None, X_pred=None):
        """Fit and forecast; see sktime's ``BaseForecaster.fit_predict``. The
        hyper-parameters are checked first (sktime reaches ``_fit`` here
        without ``fit``)."""
        self._validate_params()
        return super().fit_predict(y, X=X, fh=fh, X_pred=X_pred)

    # -- hyper-parameters and data ---------------------------------------- #
    def _check_param_combinations(self) -> None:
        if self.physics is not None and (self.scaling is not None or self.window_norm):
            raise ValueError("a physics prior works in the data's own units: set "
                             "scaling=None and window_norm=False with physics")
        if self.physics is not None and (self.transform == "log" or self.seasonality in (
                "multiplicative", "additive")):
            raise ValueError("a physics prior works in the data's own units: use "
                             "transform and seasonality None (or \"auto\") with physics")
        if self.physics is not None and self.decoding == "direct":
            raise ValueError("a physics prior predicts each step from the one before: "
                             'use decoding="autoregressive" with physics')
        if self.running_average and self.transition == "lru" and \
                self.decoding == "autoregressive":
            raise ValueError('decoding="autoregressive" rolls the forecasts out one step at '
                             "a time (recurrent mode), which running_average does not "
                             'support: set running_average=False with transition="lru", or '
                             'decoding="direct"')

    @property
    def _window(self) -> int:
        return self.context_length + self.horizon_length

    def _check_exog(self, X, method: str):
        """X if the model was fitted with exogenous channels (then it is
        required), else None (X is ignored)."""
        if self._n_exog == 0:
            return None
        if X is None:
            raise ValueError(f"the forecaster was fitted with exogenous X; {method} "
                             "needs X too")
        return X

    def _check_n_columns(self, data, expected: int, name: str) -> None:
        if data is not None and n_columns(data) != expected:
            raise ValueError(f"{name} has {n_columns(data)} columns, but the forecaster "
                             f"was fitted on {expected}")

    @property
    def _min_context(self) -> int:
        """The fewest observations a forecast starts from: ``context_length`` for
        autoregressive decoding; a third of it (at least 2) for direct decoding,
        whose contexts may be shorter (padded and masked)."""
        if self.decoding == "direct":
            return max(2, -(-self.context_length // 3))
        return self.context_length

    def _check_lengths(self, lengths: np.ndarray, name: str) -> None:
        shortest = int(lengths.min())
        if self.decoding == "direct":
            if shortest < self._min_context:
                raise ValueError(
                    f"{name} has a series of {shortest} time points; WarpForecaster with "
                    f"decoding=\"direct\" and context_length={self.context_length} needs at "
                    f"least {self._min_context} (lower context_length for short series)")
            if int(lengths.max()) < self._min_context + self.horizon_length:
                raise ValueError(
                    f"{name} has no series of {self._min_context + self.horizon_length} "
                    f"time points, the fewest that give a training window (a context of "
                    f"{self._min_context} and horizon_length={self.horizon_length})")
        elif shortest <= self.context_length:
            raise ValueError(
                f"{name} has a series of {shortest} time points; WarpForecaster with "
                f"context_length={self.context_length} needs at least "
                f"{self.context_length + 1} (lower context_length for short series)")

    def _training_windows(self, values: np.ndarray, lengths: np.ndarray,
                          validation_fraction: float | None = None):
        """The training windows of ``values`` (n_series, T, d; model units):
        ``(windows, context_lengths)``, the indices of the training and (or None)
        validation windows, and how many leading steps of each series the
        training windows cover (what scaling may be learned on).

        Direct decoding: one window per cut point of every series, its context
        up to ``context_length`` steps (:func:`context_windows`). Autoregressive:
        every full window of ``context_length + horizon_length`` steps of the
        series long enough for one (the shorter give none, rather than shorten
        every window)."""
        fraction = self.validation_fraction if validation_fraction is None \
            else validation_fraction
        if self.decoding == "direct":
            recent = self._recent_windows(len(lengths))
            windows, n_context, train_idx, val_idx = context_windows(
                values, lengths, self.context_length, self.horizon_length,
                self._min_context, fraction, recent=recent)
            # the cut points each series gave, and so the validation part's length
            cuts = np.maximum(lengths - self.horizon_length - self._min_context + 1, 0)
            cuts = cuts if recent is None else np.minimum(cuts, recent)
            n_val = np.round(fraction * cuts).astype(int)
            covered = np.where(cuts > 0, lengths - n_val, 0)
            return (windows, n_context), train_idx, val_idx, covered
        window = min(self._window, int(lengths.max()))
        long_enough = lengths >= window
        train_idx, val_idx, covered_long = window_split(lengths[long_enough], window, fraction)
        covered = np.zeros(len(lengths), dtype=np.int64)
        covered[long_enough] = covered_long
        windows = sliding_windows(values[long_enough], lengths[long_enough], window)
        return (windows, np.full(len(windows), window)), train_idx, val_idx, covered

    def _recent_windows(self, n_series: int) -> int | None:
        """Training windows per series for direct decoding: ``windows_per_series``,
        or more where a panel of few series has fewer windows than an epoch draws
        (a single series trains on every window)."""
        if self.windows_per_series is None:
            return None
        per_epoch = self.epoch_size if self.epoch_size is not None else 0
        return max(self.windows_per_series, -(-per_epoch // n_series))

    def _batch(self, scaler: ChannelScaler, windows: np.ndarray,
               n_context: np.ndarray) -> Batch:
        """Scaled windows on the device; ``y`` holds each window's context length."""
        n_steps = np.full(len(windows), windows.shape[1])
        return Batch.from_numpy(scaler.transform(windows, n_steps), n_steps, n_context,
                                resolve_device(self.device))

    # -- pretrain / fit / update ------------------------------------------ #
    def pretrain(self, y, X=None, fh=None):
        """Train the global network on the panel ``y`` (and ``X``), to forecast
        series given later to ``fit`` without training on them; see sktime's
        ``BaseForecaster.pretrain``. Called again, it continues training the
        pretrained network on the new panel (``n_epochs`` more epochs).

        Sets ``pretrained_`` and the state ``"pretrained"``: a following
        ``fit(y)`` computes each series' transforms and context only (and
        fine-tunes a copy for ``finetune_epochs``); ``clone`` keeps the
        pretrained network, ``reset`` drops it."""
        self._validate_params()
        super().pretrain(y, X=X, fh=fh)
        self._pretrained_attrs = ["pretrained_"]
        return self

    def _pretrain(self, y, X=None, fh=None):
        self.pretrained_ = self._train_new(self._corpus(y, X))
        return self

    def _pretrain_update(self, y, X=None, fh=None):
        model = getattr(self, "pretrained_", None)
        if model is None:  # pretrain after a plain fit: nothing to continue
            return self._pretrain(y, X, fh)
        corpus = self._corpus(y, X)
        self._check_pretrained_fits(model, corpus, "pretrain")
        self.pretrained_ = self._train_more(model, corpus, TrainingConfig.of(self),
                                            validation_fraction=self.validation_fraction)
        return self

    def save_pretrained(self, path) -> Path:
        """Write the pretrained (or else the fitted) global network to ``path``
        (``.npz``): its weights, its specification and this forecaster's
        parameters, no pickle. :meth:`from_pretrained` loads it, in this or a
        later skwarp version that reads its format. Returns the path written."""
        from skwarp import __version__

        model = getattr(self, "pretrained_", None)
        if model is None and self.state == "fitted":
            model = self._global_model()
        if model is None:
            raise NotFittedError(f"this {type(self).__name__} has no network to save: "
                                 "call pretrain or fit first")
        return _pretrained.save(path, model, self.get_params(deep=False), __version__)

    @classmethod
    def from_pretrained(cls, path, **params) -> WarpForecaster:
        """A forecaster in the state ``"pretrained"`` with the network saved by
        :meth:`save_pretrained` at ``path`` and the parameters it was saved
        with; ``params`` override those that do not shape the network or its
        inputs (e.g. ``finetune_epochs``, ``n_samples``, ``device``,
        ``random_state``)."""
        saved, model, _ = _pretrained.load(path)
        known = set(cls._PARAMS)
        forecaster = cls(**{k: v for k, v in saved.items() if k in known})
        forecaster.set_params(**params)
        forecaster._validate_params()
        spec = forecaster._spec(physics=None)
        changed = [f.name for f in fields(spec)
                   if getattr(spec, f.name) != getattr(model.spec, f.name)]
        if changed:
            raise ValueError(f"{changed} shape the pretrained network and cannot change "
                             "when it is loaded")
        forecaster.pretrained_ = model
        forecaster._pretrained_attrs = ["pretrained_"]
        forecaster._state = "pretrained"
        return forecaster

    def _fit(self, y, X=None, fh=None):
        """Transform each series; train the global network, or take a copy of
        the pretrained one (fine-tuned for ``finetune_epochs``); store it and
        each series' context.

        The hyper-parameters were checked by ``fit``, before the data.
        """
        corpus = self._corpus(y, X)
        pretrained = getattr(self, "pretrained_", None)
        if pretrained is None:
            model = self._train_new(corpus)
        else:
            self._check_pretrained_fits(pretrained, corpus, "fit")
            model = pretrained.copy()
            if self.finetune_epochs > 0:
                config = TrainingConfig.of(self, n_epochs=self.finetune_epochs,
                                           epoch_size=None)
                model = self._train_more(model, corpus, config, validation_fraction=0.0)
        self._seeds = Seeds.from_random_state(self.random_state)
        self._n_exog, self._n_targets = model.n_exog, model.n_targets
        self._fed_bounds = model.fed_bounds
        self.seasonal_period_, self._transforms = corpus.period, corpus.transforms
        self._n_seen = dict(zip(corpus.keys, corpus.lengths.tolist(), strict=True))
        self.scaler_, self.n_channels_ = model.scaler, model.n_channels
        self.networks_, self.network_ = model.networks, model.networks[0]
        self.histories_, self.history_ = model.histories, model.histories[0]
        self.n_epochs_ = len(self.history_["train_loss"])
        self._remember(corpus.values, corpus.lengths, corpus.keys, y)
        return self

    def _global_model(self) -> _pretrained.GlobalModel:
        """The fitted global network, apart from the series (shares the modules)."""
        return _pretrained.GlobalModel(
            self.networks_, self.histories_, self.scaler_, self.networks_[0].spec,
            self._n_targets, self._n_exog, self._fed_bounds)

    def _corpus(self, y, X) -> _Corpus:
        """``y`` and ``X`` as padded arrays, each series' target transform and
        the values in model units."""
        values, lengths, keys = targets_and_exogenous(y, X)
        self._check_lengths(lengths, "y")
        n_exog = 0 if X is None else X.shape[1]
        n_targets = values.shape[2] - n_exog
        period = self._resolve_period(y)
        transforms = {key: self._fit_transform(v[:n, :n_targets], period)
                      for key, v, n in zip(keys, values, lengths, strict=True)}
        model_values = self._to_model_units(values, lengths, keys, transforms, n_targets)
        return _Corpus(values, lengths, keys, n_targets, n_exog, period, transforms,
                       model_values)

    def _spec(self, physics) -> NetworkSpec:
        return network_spec(self, FORECASTER_NETWORK, time_scale=float(self._window - 1),
                            reference_length=self._window, physics=physics)

    def _train_new(self, corpus: _Corpus) -> _pretrained.GlobalModel:
        """Window, split, scale, build and train new networks on ``corpus``."""
        n_targets = corpus.n_targets
        physics = None if self.physics is None else self._physics_copy(n_targets)
        seeds = Seeds.from_random_state(self.random_state)
        windows, train_idx, val_idx, covered = self._training_windows(
            corpus.model_values, corpus.lengths)
        scaler = ChannelScaler(self.scaling).fit(corpus.model_values, covered)
        spec = self._spec(physics)
        with torch_threads(self.n_threads):
            data = self._batch(scaler, *windows)
            train = data.take(torch.as_tensor(train_idx))
            validation = None if val_idx is None else data.take(torch.as_tensor(val_idx))
            networks, histories = fit_networks(
                spec, corpus.values.shape[2], 2 * n_targets, train, validation,
                partial(self._loss_for, n_targets), TrainingConfig.of(self), seeds,
                self.n_networks, input_noise_std(train, self.input_noise), score_name="mse")
        bounds = None if self.decoding == "direct" else self._bounds_of(train, n_targets)
        return _pretrained.GlobalModel(networks, histories, scaler, spec, n_targets,
                                       corpus.n_exog, bounds)

    def _train_more(self, model: _pretrained.GlobalModel, corpus: _Corpus,
                    config: TrainingConfig, validation_fraction: float
                    ) -> _pretrained.GlobalModel:
        """A copy of ``model`` trained further on ``corpus``'s windows, scaled
        as ``model`` was (the ``update`` seeds of ``random_state``)."""
        model = model.copy()
        seeds = Seeds.from_random_state(self.random_state)
        windows, train_idx, val_idx, _ = self._training_windows(
            corpus.model_values, corpus.lengths, validation_fraction=validation_fraction)
        if len(train_idx) == 0:
            return model
        with torch_threads(self.n_threads):
            data = self._batch(model.scaler, *windows)
            train = data.take(torch.as_tensor(train_idx))
            validation = None if val_idx is None else data.take(torch.as_tensor(val_idx))
            histories = self._train_further(model.networks, model.n_targets, train,
                                            validation, config, seeds)
        model.histories = [{key: list(before.get(key, [])) + list(values)
                            for key, values in after.items()}
                           for before, after in zip(model.histories, histories, strict=True)]
        return model

    def _train_further(self, networks: list, n_targets: int, train: Batch,
                       validation: Batch | None, config: TrainingConfig,
                       seeds: Seeds) -> list[dict]:
        """Train fitted ``networks`` in place, each with its member's
        ``update`` streams of ``seeds``; returns their histories."""
        return [train_on_device(network, self._loss_for(n_targets, member), train, validation,
                                config, member, input_noise_std(train, self.input_noise),
                                score_name="mse")
                for member, network in ((seeds.member(index).for_update(), network)
                                        for index, network in enumerate(networks))]

    def _check_pretrained_fits(self, model: _pretrained.GlobalModel, corpus: _Corpus,
                               method: str) -> None:
        """What the data must share with the pretrained network's."""
        if corpus.n_targets != model.n_targets:
            raise ValueError(f"{method} got y with {corpus.n_targets} columns, but the "
                             f"network was pretrained on {model.n_targets}")
        if corpus.n_exog != model.n_exog:
            raise ValueError(f"{method} got {corpus.n_exog} exogenous columns in X, but "
                             f"the network was pretrained with {model.n_exog}")

    # -- target transforms ------------------------------------------------- #
    def _resolve_period(self, y) -> int | None:
        """The seasonal period: ``seasonal_period``, or with "auto" the index's,
        else one estimated from ``y``'s values (warning where none is found)."""
        if self.seasonality is None or self.physics is not None:
            return None
        if self.seasonal_period == "auto":
            return auto_seasonal_period(y)
        return self.seasonal_period

    def _fit_transform(self, x: np.ndarray, period: int | None) -> SeriesTransform:
        """The transform of one series' targets (x: n_timepoints, n_targets);
        a physics prior works in the data's own units, so "auto" is none."""
        auto_off = self.physics is not None
        seasonality = None if auto_off and self.seasonality == "auto" else self.seasonality
        transform = None if auto_off and self.transform == "auto" else self.transform
        return SeriesTransform.fit(x, period, seasonality, transform)

    def _to_model_units(self, values: np.ndarray, lengths: np.ndarray, keys: list,
                        transforms: dict, n_targets: int, first=None) -> np.ndarray:
        """``values`` (n_series, T, d) with each series' targets transformed;
        ``first[i]``: the step of series i its first row is (0 by default)."""
        out = values.copy()
        for i, (key, n) in enumerate(zip(keys, lengths, strict=True)):
            start = 0 if first is None else first[i]
            out[i, :n, :n_targets] = transforms[key].forward(values[i, :n, :n_targets], start)
        return out

    def _loss_for(self, n_targets: int, seeds: Seeds):
        """The training loss, with the recurrent mode's coin flips drawn from
        ``seeds.forcing``."""
        return partial(self._loss, n_targets=n_targets,
                       forcing=torch.Generator().manual_seed(seeds.forcing))

    def _remember(self, values: np.ndarray, lengths: np.ndarray, keys: list, y) -> None:
        """Keep each series' last ``context_length + horizon_length`` points:
        enough to build the state at the cutoff and to fine-tune in update."""
        keep = self._window
        self._recent = {key: v[max(0, n - keep):n]
                        for key, v, n in zip(keys, values, lengths, strict=True)}
        self._columns = list(y.columns) if isinstance(y, pd.DataFrame) else [y.name]
        self._index_names = list(y.index.names)

    def _update(self, y, X=None, update_params=True):
        """Advance each series' context over the new observations, with no
        gradient step unless ``update_params``: the cost depends on the new
        points and ``context_length`` only, never on the history. Series not
        seen in fit are added (the global model forecasts them too). With
        ``update_params``, fine-tune for ``update_epochs`` on the windows that
        end in the new points."""
        X = self._check_exog(X, "update")
        self._check_n_columns(y, self._n_targets, "y")
        self._check_n_columns(X, self._n_exog, "X")
        values, lengths, keys = targets_and_exogenous(y, X)
        new = [k for k, n in zip(keys, lengths, strict=True)
               if k not in self._recent and n < self._min_context]
        if new:
            raise ValueError(f"update got new series {new} with fewer than "
                             f"{self._min_context} points")
        empty = np.zeros((0, values.shape[2]))
        combined = {key: np.concatenate((self._recent.get(key, empty), v[:n]))
                    for key, v, n in zip(keys, values, lengths, strict=True)}
        for key, v, n in zip(keys, values, lengths, strict=True):
            if key not in self._transforms:  # a new series: its own transform
                self._transforms[key] = self._fit_transform(v[:n, :self._n_targets],
                                                            self.seasonal_period_)
            self._n_seen[key] = self._n_seen.get(key, 0) + int(n)
        # transformed now, so that a value a transform cannot take fails here
        in_model_units = {key: self._in_model_units(key, series)
                          for key, series in combined.items()}
        if update_params:
            self._finetune(in_model_units)
        for key, series in combined.items():
            self._recent[key] = series[-self._window:]
        return self

    def _in_model_units(self, key, series: np.ndarray) -> np.ndarray:
        """The last ``len(series)`` observations of series ``key`` (targets and
        exogenous channels), its targets transformed."""
        out = series.copy()
        n = self._n_targets
        out[:, :n] = self._transforms[key].forward(series[:, :n],
                                                  self._n_seen[key] - len(series))
        return out

    def _from_model_units(self, values: np.ndarray, keys: list | None = None) -> np.ndarray:
        """Forecasts (n_series, ..., n_steps, n_targets) of the steps after each
        series' cutoff, back in the data's units; the series are ``keys`` (all,
        in order, by default)."""
        keys = list(self._recent) if keys is None else keys
        return np.stack([self._transforms[key].inverse(v, self._n_seen[key])
                         for key, v in zip(keys, values, strict=True)])

    def _finetune(self, series: dict) -> None:
        """A few epochs of every network on every window of ``series`` (key:
        values in model units), scaled as in fit, with ``update``'s own random
        streams."""
        with torch_threads(self.n_threads):
            values, lengths = panel_to_padded(list(series.values()), name="y")
            windows, _, _, _ = self._training_windows(values, lengths, validation_fraction=0.0)
            if len(windows[0]) == 0:  # no series is long enough for a window
                return
            train = self._batch(self.scaler_, *windows)
            # every new window once per epoch: a fixed-size epoch would cycle a
            # few new windows many times over
            config = TrainingConfig.of(self, n_epochs=self.update_epochs, epoch_size=None)
            self._train_further(self.networks_, self._n_targets, train, None, config,
                                self._seeds)

    def _physics_copy(self, n_targets: int):
        """A copy of the prior for this fit, checked against y's columns."""
        check_physics(self.physics, 2 * n_targets)
        if self.physics.n_outputs != n_targets:
            raise ValueError(f"the physics prior predicts {self.physics.n_outputs} values, "
                             f"but y has {n_targets} columns; it must predict each")
        return copy.deepcopy(self.physics)

    def _residual_base(self, x: Tensor, n_targets: int) -> Tensor | None:
        """What the mean is a change from: the current targets with ``residual``
        (a physics prior predicts the next value itself)."""
        if self.residual and self.physics is None:
            return x[..., :n_targets]
        return None

    # -- the network's inputs and loss ------------------------------------- #
    def _normalise(self, x: Tensor, n_context: Tensor | None = None
                   ) -> tuple[Tensor, Tensor, Tensor]:
        """With ``window_norm``: each window in units of its context's mean and
        std, so the model sees shapes, not levels (trends leave the range seen
        in training otherwise). A window's context is its first
        ``context_length`` steps (the first ``n_context`` of them where given:
        shorter contexts are padded), as is the whole of a forecast's context."""
        if not self.window_norm:
            return x, torch.zeros_like(x[:, :1]), torch.ones_like(x[:, :1])
        context = x[:, :self.context_length]
        if n_context is None:
            mean = context.mean(dim=1, keepdim=True)
            std = context.std(dim=1, keepdim=True, unbiased=False)
        else:
            valid = (torch.arange(context.shape[1], device=x.device) < n_context[:, None])
            valid = valid.unsqueeze(-1).to(x.dtype)
            count = n_context.to(x.dtype)[:, None, None]
            mean = (context * valid).sum(dim=1, keepdim=True) / count
            std = (((context - mean) * valid).square().sum(dim=1, keepdim=True) / count).sqrt()
        std = std.clamp(min=1e-2)
        return (x - mean) / std, mean, std

    def _loss(self, network, batch: Batch, n_targets: int,
              forcing: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Gaussian NLL (or MSE) of the next value and the MSE; ``forcing``
        draws the recurrent mode's teacher-forcing coin flips."""
        if self.decoding == "direct":
            return self._direct_loss(network, batch, n_targets)
        x, _, _ = self._normalise(batch.x)
        if self.training_mode == "parallel":
            outputs = network.forward_all(x)[:, :-1]
            fed = x[:, :-1]
        else:
            def next_input(y_t, x_t):
                return self._next_input(y_t, x_t, n_targets, self.reparametrise, forcing)

            outputs, fed = network.teacher_forced(
                x, min(self.context_length, x.shape[1] - 1), self.p_forcing, next_input,
                forcing)
        n = n_targets
        mean, std = gaussian_head(outputs, n, self.min_std, self._residual_base(fed, n))
        target = x[:, 1:, :n]
        mse = (mean - target).square().mean()
        loss = self._loss_value(target, mean, std, mse)
        return loss, mse.detach()

    def _loss_value(self, target: Tensor, mean: Tensor, std: Tensor, mse: Tensor) -> Tensor:
        """The training loss named by ``loss`` (``mse`` already computed)."""
        if self.loss == "nll":
            return gaussian_nll(target, mean, std)
        if self.loss == "laplace":
            return laplace_nll(target, mean, std)
        return mse

    # -- weight trajectories ------------------------------------------------ #
    def weight_trajectory(self, y, X=None) -> np.ndarray:
        """The state ``theta_t`` (the root network's weights) at every step of ``y``.

        Parameters
        ----------
        y : pd.Series or pd.DataFrame
            One series, or a ``pd-multiindex`` / hierarchical panel, with the
            columns seen in ``fit``; each series needs ``context_length`` points
            (the first ``context_length`` set the window normalisation).
        X : pd.DataFrame, optional
            Exogenous channels, required when the forecaster was fitted with them.

        Returns
        -------
        trajectories : ndarray of shape (n_series, n_timepoints, n_params)
            ``theta_0 .. theta_{T-1}`` of each series in the panel's order
            (float32); shorter series repeat their last state after their end.
            Plot with :func:`skwarp.plotting.plot_weight_trajectories`.

        Examples
        --------
        >>> from sktime.datasets import load_airline
        >>> from skwarp import WarpForecaster
        >>> y = load_airline()
        >>> forecaster = WarpForecaster(n_epochs=1, root_width=8, random_state=0).fit(y)
        >>> forecaster.weight_trajectory(y).shape
        (1, 144, 98)
        """
        self.check_is_fitted()
        if not isinstance(y, (pd.Series, pd.DataFrame)):
            raise TypeError(f"y must be a pandas Series or DataFrame, got {type(y).__name__}")
        values, lengths, keys = targets_and_exogenous(
            y, self._check_exog(X, "weight_trajectory"))
        if values.shape[2] != self.n_channels_:
            raise ValueError(f"y (and X) have {values.shape[2]} channels, the forecaster "
                             f"was fitted on {self.n_channels_}")
        if lengths.min() < self.context_length:
            raise ValueError(f"weight_trajectory needs series of at least context_length="
                             f"{self.context_length} points, got one of {lengths.min()}")
        with torch_threads(self.n_threads), torch.no_grad():
            network = self._predict_network()
            device = next(network.parameters()).device
            # each series transformed as a series would be in fit
            transforms = {key: self._fit_transform(v[:n, :self._n_targets],
                                                   self.seasonal_period_)
                          for key, v, n in zip(keys, values, lengths, strict=True)}
            values = self._to_model_units(values, lengths, keys, transforms, self._n_targets)
            x = torch.from_numpy(self.scaler_.transform(values, lengths)).to(device)
            x, _, _ = self._normalise(x)
            return self._states(network, x, torch.from_numpy(lengths).to(device))

    # -- predict ----------------------------------------------------------- #
    def _check_fh(self, fh, pred_int=False):
        try:
            return super()._check_fh(fh, pred_int)
        except NotImplementedError as error:
            raise InSampleHorizonError(str(error)) from None

    def _steps(self, fh, X=None) -> np.ndarray:
        """The relative steps of ``fh`` (all >= 1); a future ``X`` given to a
        direct forecast (which reads ``X`` through the context only) must
        still have the columns seen in fit."""
        steps = np.asarray(fh.to_relative(self.cutoff).to_numpy(), dtype=int)
        if (steps < 1).any():
            raise ValueError("WarpForecaster forecasts only future steps (fh >= 1)")
        if X is not None and self.decoding == "direct" and self._n_exog:
            self._check_n_columns(X, self._n_exog, "X")
        return steps

    def _future_exog(self, X, n_steps: int) -> np.ndarray | None:
        """Exogenous values of the next ``n_steps`` steps of every series."""
        X = self._check_exog(X, "predict")
        if X is None:
            return None
        self._check_n_columns(X, self._n_exog, "X")
        cutoff = self.cutoff[0] if isinstance(self.cutoff, pd.Index) else self.cutoff
        return future_exogenous(X, list(self._recent), cutoff, n_steps)

    def _scaled_contexts(self) -> tuple[np.ndarray, np.ndarray]:
        """The last ``context_length`` observations of every series (fewer where
        a series has fewer), scaled as in fit and padded by repeating their last
        value: (n_series, context_length, d), and their lengths (n_series,)."""
        contexts = [self._in_model_units(key, v[-self.context_length:])
                    for key, v in self._recent.items()]
        lengths = np.array([len(c) for c in contexts], dtype=np.int64)
        padded = np.stack([np.concatenate((c, np.repeat(c[-1:], self.context_length - len(c),
                                                        axis=0))) for c in contexts])
        full = np.full(len(padded), self.context_length)
        return self.scaler_.transform(padded, full), lengths

    def _frame(self, fh, columns, per_series: np.ndarray) -> pd.DataFrame:
        return forecast_frame(per_series, fh.to_absolute_index(self.cutoff),
                              list(self._recent), columns, self._index_names)

    @staticmethod
    def _finite_forecast(values: np.ndarray) -> np.ndarray:
        """``values``, or NonFiniteOutputError where one is not finite."""
        if not np.isfinite(values).all():
            raise NonFiniteOutputError("the forecast is not finite: the context lies too "
                                       "far outside the range seen in fit")
        return values

    def _quantiles(self, steps: np.ndarray, levels: np.ndarray, X=None) -> np.ndarray:
        """Quantiles at ``levels`` (n_levels,) at ``steps`` in the data's units,
        (n_series, n_fh, d, n_levels): the predictive distribution's."""
        if self.decoding == "direct":
            predictive = self._direct_predictive(steps)
            return self._finite_forecast(
                np.stack([predictive.ppf(level) for level in levels], axis=-1))
        return np.concatenate([np.stack([chunk.ppf(level) for level in levels], axis=-1)
                               for chunk in self._path_predictives(steps, X)])

    def _variance(self, steps: np.ndarray, X=None) -> np.ndarray:
        """Variance at ``steps`` in the data's units (n_series, n_fh, d): the
        predictive distribution's (by quadrature for direct decoding, chunk by
        chunk; of the interpolated paths for autoregressive decoding)."""
        if self.decoding == "direct":
            return self._finite_forecast(self._direct_predictive(steps).moments()[1])
        return np.concatenate([chunk.moments()[1] for chunk in self._path_predictives(steps, X)])

    def _predict(self, fh, X=None):
        steps = self._steps(fh, X)
        if self.decoding == "direct":  # the median
            return self._frame(fh, self._columns, self._quantiles(steps, [0.5])[..., 0])
        means = [paths[:, steps - 1] for paths in self._rollout_chunks(int(steps.max()), None, X)]
        return self._frame(fh, self._columns, np.concatenate(means))

    def _predict_quantiles(self, fh, X, alpha):
        steps = self._steps(fh, X)
        columns = pd.MultiIndex.from_product([self._columns, alpha])
        quantiles = self._quantiles(steps, np.asarray(alpha, dtype=np.float64), X)
        return self._frame(fh, columns, quantiles.reshape(*quantiles.shape[:2], -1))

    def _predict_var(self, fh, X=None, cov=False):
        if cov:
            return super()._predict_var(fh=fh, X=X, cov=cov)
        return self._frame(fh, self._columns, self._variance(self._steps(fh, X), X))

    def _predict_proba(self, fh, X, marginal=True):
        """The predictive distribution (marginal per step and column) whose
        quantiles, median, variance and intervals the other forecasts are:
        :class:`skwarp.distributions.WarpPredictive` for direct decoding,
        :class:`skwarp.distributions.WarpPathPredictive` for autoregressive
        decoding; rows as in ``predict_quantiles``."""
        from skwarp.distributions import WarpPathPredictive, WarpPredictive

        steps = self._steps(fh, X)
        shape = (len(self._recent), len(steps), self._n_targets)
        frame = self._frame(fh, self._columns, np.zeros(shape))
        where = {"index": frame.index, "columns": frame.columns}
        n_rows = shape[0] * shape[1]
        if self.decoding == "direct":
            p = self._direct_predictive(steps)
            flat = {name: np.reshape(np.broadcast_to(value, shape), (n_rows, -1))
                    for name, value in (("logs", p.logs), ("factor", p.factor),
                                        ("shift", p.shift))}
            return WarpPredictive(p.mu.reshape(n_rows, shape[2], -1),
                                  p.scale.reshape(n_rows, shape[2], -1), p.family, **flat,
                                  **where)
        paths = np.concatenate([chunk.paths for chunk in self._path_predictives(steps, X)])
        return WarpPathPredictive(paths.reshape(n_rows, shape[2], -1), **where)

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Tiny configurations for sktime's estimator checks."""
        return [
            {"context_length": 3, "horizon_length": 2, "n_epochs": 2, "epoch_size": 64,
             "root_width": 4,
             "n_frequencies": 1, "init_layers": 1, "n_samples": 20, "update_epochs": 1,
             "device": "cpu", "random_state": 0},
            {"context_length": 4, "horizon_length": 3, "training_mode": "recurrent",
             "reparametrise": True, "loss": "mse", "n_epochs": 2, "epoch_size": None,
             "root_width": 6, "seasonality": None, "transform": None,
             "n_samples": 10, "update_epochs": 1, "scaling": "minmax",
             "transition": "diagonal",
             "validation_fraction": 0.2, "patience": 1, "device": "cpu",
             "random_state": 1},
            {"context_length": 4, "horizon_length": 3, "decoding": "direct", "n_epochs": 2,
             "root_width": 4, "n_frequencies": 1, "update_epochs": 1, "device": "cpu",
             "random_state": 2},
        ]

