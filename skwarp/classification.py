"""WarpClassifier: WARP as a sktime / scikit-learn time series classifier."""

from __future__ import annotations

import numpy as np
import torch
from sktime.classification.base import BaseClassifier
from torch import Tensor

from skwarp._estimator import WarpEstimatorMixin
from skwarp._sklearn_compat import SklearnCompatMixin
from skwarp._training import Batch, torch_threads
from skwarp._validation import check_choice, check_labels
from skwarp.core.scan import FINAL_STATE_METHODS, SCAN_METHODS, valid_mask

DECODINGS = ("last", "mean")
# The paper's model: dense A from the identity, B from zero, input differences
# as the drive, no embedding; with the training recipe skwarp used for it
# (transition_lr 1e-4, input noise 0.2). ``WarpClassifier(**PAPER_PARAMS)``.
PAPER_PARAMS = {"transition": "dense", "transition_lr": 1e-4, "embedding": None,
                "drive": "difference", "input_noise": 0.2}


class WarpClassifier(SklearnCompatMixin, WarpEstimatorMixin, BaseClassifier):
    """Time series classifier based on WARP, a weight-space linear RNN.

    Each series drives the linear recurrence ``theta_t = A theta_{t-1} +
    B v_t`` over the weights ``theta`` of a small root MLP, started from
    ``theta_0 = phi(x_0)``; the class logits are that MLP's output at the end
    of the series. The recurrence is solved in parallel (log depth), on CPU or
    GPU, and only its final state is computed.

    The defaults are WARP with three additions chosen on training splits
    (see the project README): a small learned convolutional embedding ``e``
    of the series, which drives the recurrence with its values ``v_t = e_t``,
    and a diagonal complex ``A`` that is stable by construction and starts as
    a bank of slow decays (memory from about 100 to 100,000 steps). The
    paper's configuration (dense ``A`` from the identity, ``B`` from zero,
    ``v_t = x_t - x_{t-1}``, no embedding) is ``WarpClassifier(**PAPER_PARAMS)``.

    Parameters
    ----------
    root_width : int, default=32
        Hidden width of the root network.
    root_depth : int, default=1
        Hidden layers of the root network.
    activation : {"relu", "tanh", "gelu", "silu", "softplus", "sigmoid"}, default="relu"
        Activation of the root network.
    n_frequencies : int, default=4
        Sinusoidal positional-encoding frequencies of normalised time.
    initial_state : {"mlp", "learned"}, default="mlp"
        ``theta_0 = phi(x_0)`` from an MLP, or one learned vector.
    init_layers : int, default=2
        Hidden layers of ``phi``.
    time_channel : bool, default=False
        Feed normalised time as an extra input channel.
    state_clip : float or None, default=None
        Clip the state to ``[-state_clip, state_clip]`` after every step
        (forces a sequential solve).
    transition : {"lru", "dense", "diagonal", "complex", "blockdiag", "lowrank"}, \
default="lru"
        Structure of the transition matrix ``A``. "lru": complex pairs with
        eigenvalues ``exp(-exp(nu) + i exp(phi))``, whose modulus is below 1
        for any parameters, started with the moduli in ``transition_radius``
        and angles in ``[0, transition_phase]``; ``B`` starts random and is
        used as ``diag((1 - r) / (1 - r^L)) B`` (``L`` the longest training
        series), so that every state is a moving average of its drive. The
        others start at the identity with ``B = 0`` (the paper): dense
        (``D^2`` parameters), diagonal, complex (rotation-scaling of weight
        pairs), blockdiag (blocks of ``transition_block``) or lowrank
        (``I + U V^T`` of rank ``transition_rank``).
    transition_rank : int, default=8
        Rank of ``A - I`` for ``transition="lowrank"``.
    transition_block : int, default=16
        Block size for ``transition="blockdiag"``.
    transition_radius : (float, float), default=(0.99, 0.99999)
        Range of the starting eigenvalue moduli ``r`` of ``transition="lru"``;
        the memory time scales ``-1 / log r`` (here about 100 to 100,000
        steps) are spread log-uniformly between them.
    transition_phase : float, default=0.0
        Largest starting eigenvalue angle (radians per step) of
        ``transition="lru"``. At 0 every state starts as a decaying average
        (angles can still be learned); oscillating starts made the states
        position-sensitive and lost accuracy on shape data.
    root_precision : {"float32", "bfloat16"}, default="float32"
        "bfloat16" evaluates the root network under bf16 autocast, mainly for
        GPUs; ``phi`` and the linear recurrence stay in float32.
    compile_root : bool, default=False
        Evaluate the root network through ``torch.compile`` (needs a working
        compiler toolchain; the first batches are slow while it compiles).
    embedding : {"conv", None}, default="conv"
        "conv": the (scaled) series passes through ``embedding_layers`` layers
        of Conv1d (``embedding_width`` channels, kernel ``embedding_kernel``)
        and ReLU before the recurrence; ``phi`` still sees the raw first
        observation. None: the recurrence sees the series itself (the paper).
    embedding_width : int, default=32
    embedding_layers : int, default=3
    embedding_kernel : int, default=9
    causal_embedding : bool, default=False
        Pad the convolutions on the left only, so step ``t`` sees steps
        ``<= t``; by default the kernels are centred.
    embedding_dilated : bool, default=False
        Dilate embedding layer ``l`` by ``2^l``.
    embedding_norm : bool, default=True
        Batch-normalise each embedding layer (statistics over the valid
        steps of a batch in training, running statistics in prediction).
    drive : {"value", "difference"}, default="value"
        What drives the recurrence: the embedded values ``e_t`` or their
        differences ``e_t - e_{t-1}`` (the paper; with ``A`` near the
        identity the differences telescope to ``e_T - e_0``).
    decoding : {"last", "mean"}, default="last"
        Classify from the root network's output at the last step (the paper),
        or from its mean over all steps.
    solver : {"auto", "sequential", "parallel", "kernel"}, default="auto"
        How the recurrence is solved; "auto" picks by cost. "kernel" computes
        only the final state, so it needs ``decoding="last"``.
    n_epochs : int, default=100
        Training epochs (upper bound with early stopping).
    batch_size : int, default=8
    lr : float, default=1e-3
        Learning rate of every parameter except those of the transition ``A``.
    transition_lr : float, default=1e-3
        Learning rate of the parameters of ``A``. A dense ``A`` near the
        identity needs a smaller one (its powers amplify updates):
        ``PAPER_PARAMS`` uses 1e-4.
    input_noise : float, default=0.0
        Gaussian noise added to the (scaled) training inputs, per channel
        ``input_noise`` times the std of the step differences; 0 turns it
        off. It regularised the paper's configuration (``PAPER_PARAMS`` uses
        0.2) but cost accuracy with the embedding.
    optimizer : {"adamw", "adam", "sgd"}, default="adamw"
    weight_decay : float, default=0.0
        Weight decay of every parameter except ``A`` (decoupled with "adamw",
        an L2 penalty with "adam" and "sgd").
    grad_clip : float or None, default=1.0
        Maximum gradient norm.
    lr_schedule : {"cosine", "constant"}, default="cosine"
    validation_fraction : float, default=0.0
        Fraction of the training series held out (stratified) for early
        stopping; 0 trains on everything for ``n_epochs``.
    patience : int, default=20
        Epochs without a better validation loss before stopping.
    scaling : {"standard", "minmax", None}, default="standard"
        Per-channel input scaling learned in ``fit``.
    device : {"auto", "cpu", "cuda"}, default="auto"
        Where to train; the fitted module is kept on the CPU, so a model
        fitted on a GPU pickles and predicts anywhere.
    n_threads : int, default=1
        CPU threads torch may use in ``fit`` and ``predict`` (-1: all). WARP's
        matrix products are small, and one thread is usually fastest; it also
        keeps ``GridSearchCV(n_jobs=k)`` from oversubscribing the CPU. Results
        are bit-identical for a fixed ``n_threads``; another thread count may
        change float rounding.
    random_state : int, RandomState or None, default=None
        Seeds weights, shuffling and the validation split. The global torch
        and numpy RNGs are never touched.
    verbose : bool, default=False
        Show a progress bar with the training loss.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
    n_classes_ : int
    n_channels_ : int
        Channels seen in ``fit``.
    network_ : skwarp.core.WarpNetwork
        The fitted torch module, on CPU.
    history_ : dict of lists
        Per-epoch ``train_loss``, ``train_accuracy`` and, with a validation
        fraction, ``val_loss`` and ``val_accuracy``.
    n_epochs_ : int
        Epochs actually run.

    Examples
    --------
    >>> from sktime.datasets import load_basic_motions
    >>> from skwarp import WarpClassifier
    >>> X_train, y_train = load_basic_motions(split="train", return_type="numpy3D")
    >>> X_test, y_test = load_basic_motions(split="test", return_type="numpy3D")
    >>> clf = WarpClassifier(n_epochs=5, random_state=0)
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

    def __init__(self, root_width=32, root_depth=1, activation="relu", n_frequencies=4,
                 initial_state="mlp", init_layers=2, time_channel=False, state_clip=None,
                 transition="lru", transition_rank=8, transition_block=16,
                 transition_radius=(0.99, 0.99999), transition_phase=0.0,
                 root_precision="float32", compile_root=False,
                 embedding="conv", embedding_width=32, embedding_layers=3,
                 embedding_kernel=9, causal_embedding=False, embedding_dilated=False,
                 embedding_norm=True, drive="value",
                 decoding="last", solver="auto", n_epochs=100, batch_size=8, lr=1e-3,
                 transition_lr=1e-3, input_noise=0.0, optimizer="adamw", weight_decay=0.0,
                 grad_clip=1.0,
                 lr_schedule="cosine", validation_fraction=0.0, patience=20,
                 scaling="standard", device="auto", n_threads=1, random_state=None,
                 verbose=False):
        self.root_width = root_width
        self.root_depth = root_depth
        self.activation = activation
        self.n_frequencies = n_frequencies
        self.initial_state = initial_state
        self.init_layers = init_layers
        self.time_channel = time_channel
        self.state_clip = state_clip
        self.transition = transition
        self.transition_rank = transition_rank
        self.transition_block = transition_block
        self.transition_radius = transition_radius
        self.transition_phase = transition_phase
        self.root_precision = root_precision
        self.compile_root = compile_root
        self.embedding = embedding
        self.embedding_width = embedding_width
        self.embedding_layers = embedding_layers
        self.embedding_kernel = embedding_kernel
        self.causal_embedding = causal_embedding
        self.embedding_dilated = embedding_dilated
        self.embedding_norm = embedding_norm
        self.drive = drive
        self.decoding = decoding
        self.solver = solver
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.transition_lr = transition_lr
        self.input_noise = input_noise
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.lr_schedule = lr_schedule
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.scaling = scaling
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
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
        return super().fit(X, check_labels(y))

    # -- sktime hooks -------------------------------------------------------- #
    def _fit(self, X, y):
        check_choice("decoding", self.decoding, DECODINGS)
        if self.decoding == "last":
            check_choice("solver", self.solver, FINAL_STATE_METHODS)
        else:  # every state is needed: the final-state kernel cannot serve
            check_choice("solver", self.solver, SCAN_METHODS)
        targets = np.searchsorted(self.classes_, y)
        self._fit_network(X, targets, n_outputs=self.n_classes_,
                          stratify=True)
        self.history_ = {key.replace("score", "accuracy"): value
                         for key, value in self.history_.items()}
        return self

    def _predict(self, X) -> np.ndarray:
        return self.classes_[self._predict_proba(X).argmax(axis=1)]

    def _predict_proba(self, X) -> np.ndarray:
        logits = self._predict_outputs(X)
        return torch.softmax(logits.double(), dim=1).numpy()

    def weight_trajectory(self, X) -> np.ndarray:
        """The state ``theta_t`` (the root network's weights) at every step.

        Parameters
        ----------
        X : sktime-compatible panel
            Series in any form ``predict`` takes.

        Returns
        -------
        trajectories : ndarray of shape (n_series, n_timepoints, n_params)
            ``theta_0 .. theta_{T-1}`` of each series (float32); ``n_timepoints``
            is the longest series' length, and shorter series repeat their last
            state after their end. ``trajectories[:, -1]`` is the state the
            classifier decodes. Plot with
            :func:`skwarp.plotting.plot_weight_trajectories`.

        Examples
        --------
        >>> from sktime.datasets import load_basic_motions
        >>> from skwarp import WarpClassifier
        >>> X, y = load_basic_motions(split="train", return_type="numpy3D")
        >>> clf = WarpClassifier(n_epochs=1, root_width=8, random_state=0).fit(X, y)
        >>> clf.weight_trajectory(X[:3]).shape
        (3, 100, 116)
        """
        self.check_is_fitted()
        X = self._check_convert_X_for_predict(X)
        with torch_threads(self.n_threads), torch.no_grad():
            network, data = self._prediction_data(X)
            return self._states(network, data.x, data.lengths)

    # -- WarpEstimatorMixin hooks ------------------------------------------- #
    def _outputs(self, network, batch: Batch) -> Tensor:
        if self.decoding == "last":
            return network(batch.x, batch.lengths, method=self.solver)
        outputs = network.forward_all(batch.x, batch.lengths, method=self.solver)
        valid = valid_mask(batch.lengths, batch.x.shape[1])
        weights = valid.to(outputs.dtype) / batch.lengths[:, None].to(outputs.dtype)
        return (outputs * weights.unsqueeze(-1)).sum(1)

    def _loss(self, network, batch: Batch) -> tuple[Tensor, Tensor]:
        logits = self._outputs(network, batch)
        loss = torch.nn.functional.cross_entropy(logits, batch.y)
        accuracy = (logits.argmax(1) == batch.y).to(logits.dtype).mean()
        return loss, accuracy

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Tiny configurations for sktime's estimator checks."""
        return [
            {"n_epochs": 2, "root_width": 4, "n_frequencies": 1, "batch_size": 8,
             "device": "cpu", "random_state": 0},
            {"n_epochs": 3, "root_width": 6, "root_depth": 2, "initial_state": "learned",
             "time_channel": True, "decoding": "mean", "validation_fraction": 0.2,
             "patience": 2, "scaling": "minmax", "transition": "lowrank",
             "transition_rank": 2, "device": "cpu", "random_state": 1},
        ]

