"""WarpClassifier: WARP as a sktime / scikit-learn time series classifier."""

from __future__ import annotations

import math
from dataclasses import fields
from functools import partial

import numpy as np
import torch
from sktime.classification.base import BaseClassifier
from torch import Tensor

from skwarp._estimator import PREDICT_BATCH_SIZE, WarpEstimatorMixin
from skwarp._params import (
    Param,
    bool_param,
    choice_param,
    hyperparameters,
    int_param,
    network_spec,
)
from skwarp._preprocessing import ChannelScaler, SeriesStandardiser, panel_to_padded
from skwarp._sklearn_compat import SklearnCompatMixin
from skwarp._training import (
    Batch,
    Seeds,
    TrainingConfig,
    fit_networks,
    input_noise_std,
    resolve_device,
    torch_threads,
)
from skwarp._validation import check_choice, check_int, check_labels
from skwarp.core.embedding import pooled_steps
from skwarp.core.scan import FINAL_STATE_METHODS, SCAN_METHODS, valid_mask
from skwarp.core.spec import NetworkSpec
from skwarp.exceptions import NonFiniteOutputError

__all__ = ["CLASSIFIER_NETWORK", "PAPER_PARAMS", "WarpClassifier", "class_logits",
           "classification_loss", "fit_input_scaling", "resolve_embedding_pool",
           "resolve_stride", "stratified_split"]

DECODINGS = ("last", "mean")
# stride="auto": one recurrence step per time point for training series of up
# to AUTO_STRIDE_FULL time points; longer ones are pooled to at most
# AUTO_STRIDE_STEPS steps (chosen on the long-range task; see the README).
AUTO_STRIDE_FULL = 2048
AUTO_STRIDE_STEPS = 1024
# embedding_pool="auto": AUTO_POOL for training series of at least AUTO_POOL_FROM
# time points, 1 below (short series keep every step; see the README).
AUTO_POOL = 4
AUTO_POOL_FROM = 64
AUTO_POOL_LONG = 8  # from AUTO_POOL_LONG_FROM steps
AUTO_POOL_LONG_FROM = 1024
# epoch_size="auto": every training series once per epoch, but at least
# AUTO_EPOCH_MIN and at most AUTO_EPOCH_MAX of them (see the README).
AUTO_EPOCH_MIN, AUTO_EPOCH_MAX = 40, 80


def check_stride(name: str, value: object) -> None:
    """``"auto"`` or an integer >= 1 (not a bool); also checks ``embedding_pool``."""
    if value != "auto":
        try:
            check_int(name, value, 1)
        except ValueError:
            raise ValueError(f'{name} must be "auto" or an integer >= 1, '
                             f"got {value!r}") from None


def resolve_stride(stride: int | str, n_timepoints: int) -> int:
    """The stride for training series of at most ``n_timepoints`` time points.

    Parameters
    ----------
    stride : int or "auto"
        An integer is returned as it is. "auto": 1 up to ``AUTO_STRIDE_FULL``
        time points, above that the smallest stride that leaves at most
        ``AUTO_STRIDE_STEPS`` recurrence steps.
    n_timepoints : int
        Length of the longest training series.

    Returns
    -------
    int
    """
    if stride != "auto":
        return int(stride)
    if n_timepoints <= AUTO_STRIDE_FULL:
        return 1
    return -(-int(n_timepoints) // AUTO_STRIDE_STEPS)


def resolve_embedding_pool(embedding_pool: int | str, n_steps: int,
                           embedding: str | None = "conv") -> int:
    """The embedding pool for training series of at most ``n_steps`` steps
    (time points after ``stride``): an integer as it is; "auto": 1 below
    ``AUTO_POOL_FROM`` steps or without an embedding, ``AUTO_POOL_LONG`` from
    ``AUTO_POOL_LONG_FROM`` steps, else ``AUTO_POOL``."""
    if embedding_pool != "auto":
        return int(embedding_pool)
    if embedding is None or n_steps < AUTO_POOL_FROM:
        return 1
    return AUTO_POOL_LONG if n_steps >= AUTO_POOL_LONG_FROM else AUTO_POOL


def check_epoch_size(name: str, value: object) -> None:
    """``"auto"``, None or an integer >= 1 (not a bool)."""
    if value is not None and value != "auto":
        try:
            check_int(name, value, 1)
        except ValueError:
            raise ValueError(f'{name} must be "auto", None or an integer >= 1, '
                             f"got {value!r}") from None


def resolve_epoch_size(epoch_size: int | str | None, n_train: int) -> int | None:
    """Series per epoch for ``n_train`` training series: an integer or None
    (every series) as it is; "auto": ``n_train`` held between
    ``AUTO_EPOCH_MIN`` and ``AUTO_EPOCH_MAX``."""
    if epoch_size != "auto":
        return epoch_size
    return min(AUTO_EPOCH_MAX, max(AUTO_EPOCH_MIN, int(n_train)))


# The classifier's network: the paper's (NetworkSpec's defaults) changed where
# the ablations on validation thirds of the training splits showed it pays
# (README, "Classifier defaults"): a learned convolutional embedding with
# batch normalisation whose values drive the recurrence (the paper's
# differences telescope under slow decays), a stable diagonal complex
# transition started as slow decays whose states average the drive over the
# steps so far (one scale for series of every length: a short series beside
# long ones is no longer a small part of a long sum), and a root network of
# width 16 (a state a quarter the size of width 32's, as accurate on the
# validation thirds).
CLASSIFIER_NETWORK = NetworkSpec(transition="lru", embedding="conv", embedding_layers=3,
                                 embedding_norm=True, drive="value", root_width=16,
                                 running_average=True)
_NET = CLASSIFIER_NETWORK

CLASSIFIER_PARAMS = {
    "stride": Param('int or "auto"', check_stride, (
        "The recurrence takes one step per ``stride`` time points, driven by the mean "
        "of the series over them (before the embedding). \"auto\": 1 for training series "
        f"of up to {AUTO_STRIDE_FULL:,} time points (every dataset of the classification "
        f"benchmark), else the smallest stride that leaves at most {AUTO_STRIDE_STEPS:,} "
        "steps: over very long series the window means average noise away, and each "
        "step of memory spans more time points. See ``stride_``.")),
    "embedding_pool": Param('int or "auto"', check_stride, (
        "Mean-pool the first embedding layer's features over windows of this many steps, "
        "so the later layers and the recurrence take one step per window while the first "
        "layer still sees every point (its ReLU features keep the energy of finer detail, "
        "which pooling the series, ``stride``, averages away). \"auto\": 1 for training "
        f"series of fewer than {AUTO_POOL_FROM} steps (after ``stride``), "
        f"{AUTO_POOL_LONG} from {AUTO_POOL_LONG_FROM:,} steps, else {AUTO_POOL}. See "
        "``embedding_pool_``.")),
    "epoch_size": Param('int, None or "auto"', check_epoch_size, (
        "Series per epoch, drawn afresh without replacement each epoch (more than the "
        "training set holds: fresh random orders of every series one after the other); "
        "None: every series once. \"auto\": every series once, but at least "
        f"{AUTO_EPOCH_MIN} and at most {AUTO_EPOCH_MAX}, so that training costs at most "
        f"``n_epochs * {AUTO_EPOCH_MAX} / batch_size`` optimizer steps however many series "
        "there are. See ``epoch_size_``.")),
    "series_norm": bool_param(
        "Standardise each series, channel by channel, over its own observed values "
        "before the scaling, and add each channel's mean and log standard deviation "
        "as channels constant over time (the input then has three times the "
        "channels). Amplitude still informs the class, but no longer sets the scale "
        "at which the network sees the shape of a series (series of small amplitude "
        "beside large ones). See ``series_standardiser_``."),
    "n_networks": int_param(1, (
        "Networks trained on the same data from independent initialisations and "
        "mini-batch orders (seeds drawn from ``random_state``); ``predict_proba`` averages "
        "their class probabilities. More networks cost proportionally more fitting and "
        "prediction time and make the result less dependent on the seed.")),
    "decoding": choice_param(DECODINGS, (
        "Classify from the root network's output at the last step (the paper), or from "
        "its mean over all steps.")),
    "solver": choice_param(FINAL_STATE_METHODS, (
        "How the recurrence is solved; \"auto\" picks by cost. \"kernel\" computes only "
        "the final state, so it needs ``decoding=\"last\"``.")),
}
# The paper's model: dense A from the identity, B from zero, input differences
# as the drive, no embedding, one step per time point, one scaling for every
# series, one network; with the
# training recipe skwarp used for it (transition_lr 1e-4, input noise 0.2).
# ``WarpClassifier(**PAPER_PARAMS)``; to change one of them,
# ``WarpClassifier(**{**PAPER_PARAMS, "n_networks": 5})``.
PAPER_PARAMS = {
    **{f.name: getattr(NetworkSpec(), f.name) for f in fields(NetworkSpec)
       if getattr(NetworkSpec(), f.name) != getattr(CLASSIFIER_NETWORK, f.name)},
    "stride": 1, "embedding_pool": 1, "series_norm": False, "n_networks": 1, "epoch_size": None,
    "transition_lr": 1e-4, "input_noise": 0.2}


@hyperparameters
class WarpClassifier(SklearnCompatMixin, WarpEstimatorMixin, BaseClassifier):
    """Time series classifier based on WARP, a weight-space linear RNN.

    Each series drives the linear recurrence ``theta_t = A theta_{t-1} +
    B v_t`` over the weights ``theta`` of a small root MLP, started from
    ``theta_0 = phi(x_0)``; the class logits are that MLP's output at the end
    of the series. The recurrence is solved in parallel (log depth), on CPU or
    GPU, and only its final state is computed. ``n_networks`` such networks
    are trained, and their class probabilities averaged.

    The defaults (``CLASSIFIER_NETWORK``) are WARP with two additions chosen
    on training splits (see the project README): a small learned
    convolutional embedding ``e`` of the series, which drives the recurrence
    with its values ``v_t = e_t``, and a diagonal complex ``A`` that is stable
    by construction and starts as a bank of slow decays (memory from about
    100 to 100,000 steps), each state averaging its drive over the steps so
    far (``running_average``), so series of every length reach the root on
    one scale; each series is standardised on its own, its
    level and spread kept as channels (``series_norm``); the embedding's
    first layer sees every point and the rest of the network one step per
    window of its features (``embedding_pool``); very long series are pooled
    (``stride``); and five networks are averaged, which makes the result
    depend less on the seed. Training is a bounded budget: 100 epochs of
    every series once, but at least 40 and at most 80 series
    (``epoch_size``), in mini-batches of 8.
    The paper's configuration (dense ``A`` from the identity, ``B`` from
    zero, ``v_t = x_t - x_{t-1}``, no embedding, one step per time point
    however long the series, one network) is
    ``WarpClassifier(**PAPER_PARAMS)``, which also sets the recipe skwarp
    used for it: ``transition_lr=1e-4`` (the powers of a dense ``A`` near the
    identity amplify updates) and ``input_noise=0.2`` (it regularised that
    model but cost accuracy with the embedding).

    .. versionchanged:: 0.2.0
       A conv embedding with value drive, the ``"lru"`` transition with
       running averages, ``series_norm``, ``stride`` and ``embedding_pool``
       "auto", five networks trained as one batched model, ``epoch_size``
       "auto" and ``root_width=16``; ``train_accuracy_`` and
       ``validation_accuracy_`` are new. ``CHANGELOG.md`` lists each
       version's changes.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    n_classes_ : int
    n_channels_ : int
        Channels seen in ``fit``.
    networks_ : list of skwarp.core.WarpNetwork
        The ``n_networks`` fitted torch modules, on CPU.
    network_ : skwarp.core.WarpNetwork
        The first of ``networks_`` (the one ``weight_trajectory`` follows).
    histories_ : list of dict of lists
        Per network, per epoch: ``train_loss``, ``train_accuracy`` and, with a
        validation fraction, ``val_loss`` and ``val_accuracy``.
    history_ : dict of lists
        The first of ``histories_``.
    n_epochs_ : int
        Epochs the first network actually ran.
    train_accuracy_ : float
        Accuracy of the fitted ensemble (as ``predict`` uses it: every network,
        eval mode) on its training series. ``history_``'s ``train_accuracy`` is
        the first network's, over the mini-batches of each epoch as it trained.
    validation_accuracy_ : float or None
        The same on the validation series held out by ``validation_fraction``
        (None without).
    series_standardiser_ : SeriesStandardiser or None
        With ``series_norm``, each channel's unit and the centre of its mean
        and log standard deviation channels (learned on the training series);
        else None.
    stride_ : int
        Time points per recurrence step (``stride`` resolved on the training
        series).
    embedding_pool_ : int
        Steps of the first embedding layer per recurrence step
        (``embedding_pool`` resolved on the training series): a series of
        ``L`` time points takes ``ceil(ceil(L / stride_) / embedding_pool_)``
        recurrence steps.
    epoch_size_ : int or None
        Series per epoch (``epoch_size`` resolved on the training series; None:
        every series).

    Examples
    --------
    >>> from sktime.datasets import load_basic_motions
    >>> from skwarp import WarpClassifier
    >>> X_train, y_train = load_basic_motions(split="train", return_type="numpy3D")
    >>> X_test, y_test = load_basic_motions(split="test", return_type="numpy3D")
    >>> clf = WarpClassifier(n_epochs=5, n_networks=2, random_state=0)
    >>> clf = clf.fit(X_train, y_train)
    >>> clf.predict(X_test).shape
    (40,)
    """

    _tags = {
        "authors": ["skwarp developers"],
        "maintainers": ["skwarp developers"],
        "python_dependencies": "torch",
        "X_inner_mtype": ["df-list", "numpy3D"],
        "capability:multivariate": True,
        "capability:unequal_length": True,
        "capability:missing_values": True,  # held over gaps, see fit
        "capability:predict_proba": True,
        "capability:random_state": True,
        "property:randomness": "derandomized",
    }
    _sklearn_estimator_type = "classifier"
    _score_name = "accuracy"
    _OWN_PARAMS = CLASSIFIER_PARAMS

    def __init__(self, *, root_width=_NET.root_width, root_depth=_NET.root_depth,
                 activation=_NET.activation, n_frequencies=_NET.n_frequencies,
                 initial_state=_NET.initial_state, init_layers=_NET.init_layers,
                 time_channel=_NET.time_channel, state_clip=_NET.state_clip,
                 transition=_NET.transition, transition_rank=_NET.transition_rank,
                 transition_block=_NET.transition_block,
                 transition_radius=_NET.transition_radius,
                 transition_phase=_NET.transition_phase,
                 running_average=_NET.running_average,
                 root_precision=_NET.root_precision, compile_root=_NET.compile_root,
                 embedding=_NET.embedding, embedding_width=_NET.embedding_width,
                 embedding_layers=_NET.embedding_layers,
                 embedding_kernel=_NET.embedding_kernel,
                 causal_embedding=_NET.causal_embedding,
                 embedding_dilated=_NET.embedding_dilated,
                 embedding_norm=_NET.embedding_norm, embedding_pool="auto",
                 drive=_NET.drive, stride="auto", series_norm=True, n_networks=5,
                 decoding="last", solver="auto", n_epochs=100, batch_size=8, epoch_size="auto",
                 lr=1e-3,
                 transition_lr=1e-3, input_noise=0.0, optimizer="adamw", weight_decay=0.0,
                 grad_clip=1.0, lr_schedule="cosine", validation_fraction=0.0, patience=20,
                 scaling="standard", device="auto", n_threads=1, random_state=None,
                 verbose=False):
        self._store_params(locals())
        super().__init__()

    def fit(self, X, y):
        """Fit to a panel ``X`` of time series and their class labels ``y``.

        Missing values (NaN) inside a series are held: a gap repeats the last
        observed value (the first one before any observation, the channel's
        training mean where a series never observes a channel), so the input
        differences that drive the recurrence are zero over it. Trailing steps
        where every channel is missing end the series (NaN padding).

        Parameters
        ----------
        X : sktime Panel
            Any Panel mtype, e.g. a 3D array (instances, channels, time points).
        y : array-like of shape (n_instances,)
            Class labels, all numbers or all strings.

        Returns
        -------
        self : WarpClassifier
        """
        self._validate_params()
        return super().fit(X, check_labels(y))

    # -- sktime hooks -------------------------------------------------------- #
    def _fit(self, X, y):
        """Pad, split, scale, build and train the networks, then store them.

        The hyper-parameters were checked by ``fit``, before the data.
        """
        values, lengths = panel_to_padded(X, allow_missing=True)
        targets = np.searchsorted(self.classes_, y)
        stride = resolve_stride(self.stride, lengths.max())
        if 1 < stride >= lengths.max():  # one window holds the whole series
            raise ValueError(f"stride={self.stride} leaves the longest training series "
                             f"({lengths.max()} time points) a single recurrence step; "
                             "use a stride below its length")
        seeds = Seeds.from_random_state(self.random_state)
        train_idx, val_idx = stratified_split(targets, self.validation_fraction, seeds.split)
        self.series_standardiser_, self.scaler_ = fit_input_scaling(
            values[train_idx], lengths[train_idx], self.scaling, self.series_norm)
        inputs = self._network_input(values, lengths)
        epoch_size = resolve_epoch_size(self.epoch_size, len(train_idx))
        embedding_pool = resolve_embedding_pool(
            self.embedding_pool, pooled_steps(lengths.max(), stride), self.embedding)
        spec = network_spec(self, CLASSIFIER_NETWORK, stride=stride,
                            embedding_pool=embedding_pool,
                            reference_length=int(lengths[train_idx].max()))
        with torch_threads(self.n_threads):
            data = Batch.from_numpy(inputs, lengths, targets, resolve_device(self.device))
            train = data.take(torch.as_tensor(train_idx))
            validation = None if val_idx is None else data.take(torch.as_tensor(val_idx))
            loss = partial(classification_loss, decoding=self.decoding, solver=self.solver)
            networks, histories = fit_networks(
                spec, inputs.shape[2], self.n_classes_, train, validation,
                lambda seeds: loss, TrainingConfig.of(self, epoch_size=epoch_size), seeds,
                self.n_networks,
                input_noise_std(train, self.input_noise), score_name="accuracy",
                stacked=True)
        self.stride_, self.embedding_pool_ = stride, embedding_pool
        self.epoch_size_ = epoch_size
        self.n_channels_ = values.shape[2]
        self.networks_, self.network_ = networks, networks[0]
        self.histories_, self.history_ = histories, histories[0]
        self.n_epochs_ = len(self.history_["train_loss"])
        self.train_accuracy_, self.validation_accuracy_ = self._fitted_accuracies(
            data, targets, train_idx, val_idx)
        return self

    def _fitted_accuracies(self, data: Batch, targets: np.ndarray, train_idx: np.ndarray,
                           val_idx: np.ndarray | None) -> tuple[float, float | None]:
        """The fitted ensemble's accuracy, as ``predict`` scores it (eval mode,
        every network), on the training series and on the validation ones
        (None without): a training accuracy near 1 beside a low validation
        one is a memorised fit."""
        with torch_threads(self.n_threads), torch.no_grad():
            predicted = self._predict_outputs_inner(None, data).argmax(1).numpy()
        correct = predicted == targets

        def accuracy(index):
            return None if index is None else float(correct[index].mean())

        return accuracy(train_idx), accuracy(val_idx)

    def _predict(self, X) -> np.ndarray:
        return self.classes_[self._predict_proba(X).argmax(axis=1)]

    def _predict_proba(self, X) -> np.ndarray:
        logits = self._predict_outputs(X)
        return torch.softmax(logits.double(), dim=1).numpy()

    def weight_trajectory(self, X) -> np.ndarray:
        """The state ``theta_t`` (the root network's weights) at every step,
        of ``network_`` (the first network when ``n_networks > 1``).

        Parameters
        ----------
        X : sktime-compatible panel
            Series in any form ``predict`` takes.

        Returns
        -------
        trajectories : ndarray of shape (n_series, n_steps, n_params)
            The state at each recurrence step of each series (float32); ``n_steps``
            is the longest series' length divided by ``stride_`` and then by
            ``embedding_pool_``, each rounded up (BasicMotions' 100 time points:
            25 steps), and shorter series repeat their last state after their end.
            ``trajectories[:, -1]`` is the state ``network_`` decodes. Plot
            with :func:`skwarp.plotting.plot_weight_trajectories`.

        Examples
        --------
        >>> from sktime.datasets import load_basic_motions
        >>> from skwarp import WarpClassifier
        >>> X, y = load_basic_motions(split="train", return_type="numpy3D")
        >>> clf = WarpClassifier(n_epochs=1, root_width=8, n_networks=1, random_state=0)
        >>> clf = clf.fit(X, y)
        >>> clf.weight_trajectory(X[:3]).shape
        (3, 25, 116)
        """
        self.check_is_fitted()
        X = self._check_convert_X_for_predict(X)
        with torch_threads(self.n_threads), torch.no_grad():
            network, data = self._prediction_data(X)
            return self._states(network, data.x, data.lengths)

    # -- parameters and prediction ---------------------------------------------- #
    def _check_param_combinations(self) -> None:
        if self.decoding != "last":  # every state is needed: no final-state kernel
            check_choice("solver", self.solver, SCAN_METHODS)
        network_spec(self, CLASSIFIER_NETWORK)  # the network's own constraints, before the data

    def _predict_outputs(self, X) -> Tensor:
        """``_outputs`` for every series of ``X`` (with several networks, the
        log of their mean probabilities), on the CPU; never NaN or inf."""
        with torch_threads(self.n_threads), torch.no_grad():
            outputs = self._predict_outputs_inner(X)
        finite = torch.isfinite(outputs.flatten(1)).all(dim=1)
        if not bool(finite.all()):
            bad = torch.nonzero(~finite).flatten()[:5].tolist()
            raise NonFiniteOutputError(
                f"the network's outputs are not finite for series {bad} of X; their "
                "values lie too far outside the range seen in fit")
        return outputs

    def _predict_outputs_inner(self, X, data: Batch | None = None) -> Tensor:
        """The logits of the one network, or the log of the networks' mean
        class probabilities (float64); ``data``: ``X`` already scaled, on
        the prediction device."""
        log_probabilities = []
        for fitted in self.networks_:
            network, data = self._prediction_data(X, fitted, data)
            logits = torch.cat([class_logits(network, batch, self.decoding, self.solver).cpu()
                                for batch in data.batches(PREDICT_BATCH_SIZE)])
            if len(self.networks_) == 1:
                return logits
            log_probabilities.append(torch.log_softmax(logits.double(), dim=1))
        return torch.logsumexp(torch.stack(log_probabilities), dim=0) - \
            math.log(len(log_probabilities))

    def _prediction_data(self, X, fitted: torch.nn.Module | None = None,
                         data: Batch | None = None) -> tuple[torch.nn.Module, Batch]:
        """A fitted network (``network_`` by default) on the prediction
        device, and the scaled panel ``X`` there (``data``, when given, is it
        already)."""
        network = self._predict_network(fitted)
        if data is not None:
            return network, data
        values, lengths = panel_to_padded(X, allow_missing=True)
        if values.shape[2] != self.n_channels_:
            raise ValueError(f"X has {values.shape[2]} channels, but the estimator was "
                             f"fitted on {self.n_channels_}")
        device = next(network.parameters()).device
        data = Batch.from_numpy(self._network_input(values, lengths), lengths,
                                np.zeros(len(lengths)), device)
        return network, data

    def _network_input(self, values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The networks' float32 input (N, T, d or 3d) for a padded panel
        (N, T, d): each series standardised (``series_norm``), then scaled."""
        if self.series_standardiser_ is not None:
            values = self.series_standardiser_.transform(values, lengths)
        return self.scaler_.transform(values, lengths)

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Tiny configurations for sktime's estimator checks."""
        return [
            {"n_epochs": 2, "root_width": 4, "n_frequencies": 1, "batch_size": 8,
             "n_networks": 2, "device": "cpu", "random_state": 0},
            {"n_epochs": 3, "root_width": 6, "root_depth": 2, "initial_state": "learned",
             "time_channel": True, "decoding": "mean", "validation_fraction": 0.2,
             "patience": 2, "scaling": "minmax", "transition": "lowrank",
             "transition_rank": 2, "n_networks": 1, "device": "cpu", "random_state": 1},
        ]


def stratified_split(targets: np.ndarray, validation_fraction: float,
                     seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Indices of the training and (with a validation fraction) validation
    series, stratified when every class can be."""
    everything = np.arange(len(targets))
    n_val = int(round(validation_fraction * len(targets)))
    if n_val == 0:
        return everything, None
    if n_val >= len(targets):
        raise ValueError("validation_fraction leaves no series to train on")
    from sklearn.model_selection import train_test_split

    n_classes = len(np.unique(targets))
    counts_ok = np.unique(targets, return_counts=True)[1].min() >= 2
    sizes_ok = min(n_val, len(targets) - n_val) >= n_classes
    labels = targets if counts_ok and sizes_ok else None
    return train_test_split(everything, test_size=n_val, random_state=seed % 2**32,
                            stratify=labels)


def fit_input_scaling(values: np.ndarray, lengths: np.ndarray, scaling: str | None,
                      series_norm: bool) -> tuple[SeriesStandardiser | None, ChannelScaler]:
    """The per-series standardiser (with ``series_norm``, else None) and the
    channel scaler learned on the training series ``values`` (N, T, d).

    The scaler acts on what the standardiser outputs: its standardised series
    are scaled by ``scaling``, its statistics channels pass unscaled."""
    if not series_norm:
        return None, ChannelScaler(scaling).fit(values, lengths)
    standardiser = SeriesStandardiser().fit(values, lengths)
    n_channels = values.shape[2]
    shapes = standardiser.transform(values, lengths)[:, :, :n_channels]
    return standardiser, ChannelScaler(scaling).fit(shapes, lengths).extended(2 * n_channels)


def class_logits(network, batch: Batch, decoding: str, solver: str) -> Tensor:
    """Logits (N, n_classes): the root network's output at each series' last
    step, or with ``decoding="mean"`` its mean over the series' steps
    (``batch.lengths`` None: every series full length)."""
    if decoding == "last":
        return network(batch.x, batch.lengths, method=solver)
    outputs = network.forward_all(batch.x, batch.lengths, method=solver)
    if batch.lengths is None:  # every series full length
        return outputs.mean(1)
    steps = network.step_lengths(batch.lengths)
    valid = valid_mask(steps, outputs.shape[1])
    weights = valid.to(outputs.dtype) / steps[:, None].to(outputs.dtype)
    return (outputs * weights.unsqueeze(-1)).sum(1)


def classification_loss(network, batch: Batch, *, decoding: str,
                        solver: str) -> tuple[Tensor, Tensor]:
    """Mean cross-entropy and accuracy of ``network`` on ``batch``."""
    logits = class_logits(network, batch, decoding, solver)
    loss = torch.nn.functional.cross_entropy(logits, batch.y)
    accuracy = (logits.argmax(1) == batch.y).to(logits.dtype).mean()
    return loss, accuracy
