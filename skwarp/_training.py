"""Training shared by the estimators: building and training networks on a
device, the training loop with early stopping, named random streams,
devices and threads."""

from __future__ import annotations

import math
import os
import secrets
import statistics
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from skwarp._validation import check_choice, check_int
from skwarp.core.scan import valid_mask
from skwarp.core.spec import NetworkSpec
from skwarp.core.stability import TransitionGuard, transition_cap
from skwarp.core.warp import WarpNetwork
from skwarp.exceptions import DivergenceWarning

__all__ = ["DEVICES", "LR_SCHEDULES", "MAX_TRANSITION_GAIN", "OPTIMIZERS", "Batch", "Seeds",
           "TrainingConfig", "check_device", "check_threads", "evaluate", "fit_networks",
           "input_noise_std", "make_optimizer", "resolve_device", "seeded_torch",
           "torch_threads", "train_network", "train_on_device", "train_stacked"]

OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}
LR_SCHEDULES = ("cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")


def check_device(name: str, device) -> None:
    """One of ``DEVICES``, and CUDA only where it is available."""
    check_choice(name, device, DEVICES)
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(f'{name}="cuda" was asked for but CUDA is not available')


def check_threads(name: str, n_threads) -> None:
    """-1 (every core) or an integer >= 1."""
    if n_threads != -1:
        check_int(name, n_threads, minimum=1)


def resolve_device(device: str) -> torch.device:
    """``"auto"`` is CUDA when available, else CPU."""
    check_device("device", device)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


@dataclass(frozen=True)
class Seeds:
    """One independent seed per random stream of a fit, all from ``random_state``.

    ``init``: weights; ``shuffle``, ``noise``, ``forcing``: mini-batch order,
    input noise and teacher-forcing coin flips in ``fit``; ``split``: the
    validation split; ``forecast``: Monte Carlo rollouts; ``update_*``: the
    same three streams for fine-tuning in ``update``.
    """

    init: int
    shuffle: int
    split: int
    noise: int
    forcing: int
    forecast: int
    update_shuffle: int
    update_noise: int
    update_forcing: int

    @classmethod
    def from_random_state(cls, random_state) -> Seeds:
        """Derive the seeds from ``random_state`` (None, an int or a numpy
        RandomState, which gives one draw) without touching any global RNG."""
        if random_state is None:
            entropy = secrets.randbits(64)
        elif isinstance(random_state, np.random.RandomState):
            entropy = int(random_state.randint(2**31 - 1))
        else:
            entropy = int(random_state)
        words = np.random.SeedSequence(entropy).generate_state(len(fields(cls)))
        return cls(*(int(w) for w in words))

    def member(self, index: int) -> Seeds:
        """The seeds of network ``index`` of an ensemble: ``self`` for the first,
        fresh streams from ``init`` and ``index`` for the others; every member
        keeps ``split``, so all see the same validation split and scaling."""
        if index == 0:
            return self
        entropy = int(np.random.SeedSequence([self.init, index]).generate_state(1)[0])
        return replace(Seeds.from_random_state(entropy), split=self.split)

    def for_update(self) -> Seeds:
        """The seeds with ``update``'s streams in place of ``fit``'s."""
        return replace(self, shuffle=self.update_shuffle, noise=self.update_noise,
                       forcing=self.update_forcing)


@contextmanager
def seeded_torch(seed: int):
    """Run a block (e.g. module construction) under ``seed`` on the CPU RNG,
    restoring the global torch RNG state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextmanager
def torch_threads(n_threads: int):
    """Let torch use ``n_threads`` intra-op threads (-1: every core this process
    may use) inside the block, restoring the previous count afterwards.

    The thread count is process-wide: concurrent fits in threads of one process
    share it. WARP's matrix products are small, so extra threads pay little
    and oversubscribe a CPU that other fits share.
    """
    check_threads("n_threads", n_threads)
    previous = torch.get_num_threads()
    torch.set_num_threads(_available_cores() if n_threads == -1 else int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass
class TrainingConfig:
    """Optimisation settings (checked with the other hyper-parameters;
    :meth:`of` reads them off an estimator)."""

    n_epochs: int
    batch_size: int
    lr: float
    transition_lr: float
    optimizer: str
    weight_decay: float
    grad_clip: float | None
    lr_schedule: str
    patience: int
    verbose: bool
    epoch_size: int | None = None  # samples per epoch; None: all

    @classmethod
    def of(cls, estimator, **changes) -> TrainingConfig:
        """The estimator's settings of these names, with ``changes``."""
        config = cls(**{f.name: getattr(estimator, f.name) for f in fields(cls)})
        return replace(config, **changes)


@dataclass
class Batch:
    """Padded inputs, their lengths and targets, all on one device.

    ``host_lengths`` is a CPU copy of ``lengths``, so that cutting a batch to
    its longest series needs no device-to-host sync.
    """

    x: Tensor
    lengths: Tensor
    y: Tensor
    host_lengths: Tensor

    @classmethod
    def from_numpy(cls, x: np.ndarray, lengths: np.ndarray, y: np.ndarray,
                   device: torch.device) -> Batch:
        host_lengths = torch.from_numpy(lengths)
        return cls(torch.from_numpy(x).to(device), host_lengths.to(device),
                   torch.as_tensor(y).to(device), host_lengths)

    def __len__(self) -> int:
        return self.x.shape[0]

    def take(self, index: Tensor) -> Batch:
        """Series ``index`` (a CPU index tensor), cut to the longest of them."""
        longest = int(self.host_lengths[index].max())
        on_device = index.to(self.x.device)
        return Batch(self.x[on_device, :longest], self.lengths[on_device], self.y[on_device],
                     self.host_lengths[index])

    def batches(self, batch_size: int, order: Tensor | None = None) -> Iterator[Batch]:
        """Consecutive mini-batches, in ``order`` when given."""
        order = torch.arange(len(self)) if order is None else order
        for start in range(0, len(order), batch_size):
            yield self.take(order[start:start + batch_size])


LossFn = Callable[[nn.Module, Batch], tuple[Tensor, Tensor]]
# Bound on the growth of A's powers over the longest training series: the
# transition's spectral norm is capped at MAX_TRANSITION_GAIN^(1/(T-1)).
MAX_TRANSITION_GAIN = 1e3


def fit_networks(spec: NetworkSpec, n_channels: int, n_outputs: int, train: Batch,
                 validation: Batch | None, make_loss: Callable[[Seeds], LossFn],
                 config: TrainingConfig, seeds: Seeds, n_networks: int = 1,
                 noise_std: Tensor | None = None, score_name: str = "score",
                 stacked: bool = False) -> tuple[list[WarpNetwork], list[dict]]:
    """Build and train ``n_networks`` networks of ``spec`` on ``train`` (a
    :class:`Batch` on the training device), each with its own seeds
    (:meth:`Seeds.member`; network 0 uses ``seeds`` itself) and its own loss
    (``make_loss(member_seeds)``). Returns the networks, on the CPU, and
    their histories.

    ``stacked``: train several networks as one batched model
    (:func:`train_stacked`: one forward, backward and optimizer step for all
    of them per mini-batch); the loss must then be the same function for
    every member, draw no random numbers and run under ``torch.func.vmap``
    (``make_loss`` is called with the first member's seeds only). Each
    member still has its own initialisation, batch order, input noise,
    transition guard, early stopping and history; its result equals a
    one-network fit under its seeds up to float rounding.
    """
    members = [seeds.member(index) for index in range(n_networks)]
    networks = []
    for member in members:
        with seeded_torch(member.init):
            networks.append(WarpNetwork(n_channels, n_outputs, spec))
    if stacked and n_networks > 1:
        histories = train_stacked(networks, make_loss(members[0]), train, validation, config,
                                  members, noise_std, score_name)
        return networks, histories
    histories = []
    for index, (network, member) in enumerate(zip(networks, members, strict=True)):
        label = f"network {index + 1}/{n_networks}" if n_networks > 1 else "epochs"
        histories.append(train_on_device(network, make_loss(member), train, validation,
                                         config, member, noise_std, label, score_name))
    return networks, histories


def train_on_device(network: WarpNetwork, loss_fn: LossFn, train: Batch,
                    validation: Batch | None, config: TrainingConfig, seeds: Seeds,
                    noise_std: Tensor | None = None, label: str = "epochs",
                    score_name: str = "score") -> dict[str, list[float]]:
    """Train ``network`` (new, or fitted for fine-tuning) in place on the
    device of ``train``, under the transition guard, and move it back to the
    CPU; returns the history (:func:`train_network`)."""
    network.to(train.x.device)
    n_steps = network.recurrence_steps(train.host_lengths.max())
    guard = TransitionGuard(transition_cap(MAX_TRANSITION_GAIN, n_steps - 1))
    history = train_network(network, loss_fn, train, validation, config, seeds, noise_std,
                            guard, label, score_name)
    network.cpu()
    return history


def input_noise_std(train: Batch, input_noise: float) -> Tensor | None:
    """Training-noise std per channel: ``input_noise`` times the std of the
    step differences ``x_t - x_{t-1}`` (what drives the recurrence); None
    when there is no noise."""
    if input_noise == 0 or train.x.shape[1] < 2:
        return None
    steps = train.x[:, 1:] - train.x[:, :-1]
    valid = valid_mask(train.lengths - 1, steps.shape[1])
    return input_noise * steps[valid].std(dim=0, unbiased=False)


def make_optimizer(network: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    """Two groups: the transition ``A`` (its own lr, no weight decay: decay
    would pull ``A`` from its identity start towards zero) and the rest."""
    return _optimizer(list(network.named_parameters()), config)


# Adam(W)'s fused kernel runs on the CPU from torch 2.4 (on CUDA before)
_FUSED_ON_CPU = tuple(int(part) for part in torch.__version__.split(".")[:2]) >= (2, 4)


def _optimizer(named: list[tuple[str, Tensor]], config: TrainingConfig,
               fused: bool = False) -> torch.optim.Optimizer:
    """``fused``: Adam(W)'s fused kernel (one pass over each tensor instead of
    a kernel per operation; the same update up to float rounding), where torch
    has it for these tensors."""
    transition = [p for name, p in named if name.startswith("transition.")]
    rest = [p for name, p in named if not name.startswith("transition.")]
    groups = [{"params": rest, "lr": config.lr, "weight_decay": config.weight_decay},
              {"params": transition, "lr": config.transition_lr, "weight_decay": 0.0}]
    options = {}
    devices = ("cpu", "cuda") if _FUSED_ON_CPU else ("cuda",)
    if fused and config.optimizer in ("adam", "adamw") and all(
            p.dtype == torch.float32 and p.device.type in devices for _, p in named):
        options["fused"] = True
    return OPTIMIZERS[config.optimizer]([g for g in groups if g["params"]], **options)


class _MemberTracker:
    """One network's early stopping, kept weights and divergence fallback,
    fed each epoch's losses by a training loop (:func:`train_network`, and
    :func:`train_stacked` for each member).

    ``history`` holds ``train_loss`` and ``train_<score_name>`` (and
    ``val_*``) per epoch. The monitored loss is the validation loss with a
    validation set, else the training loss; the weights of the epoch where it
    was lowest are the best. With a validation set, the network stops after
    ``patience`` epochs without improvement and keeps its best weights. A
    non-finite training loss or weight stops it as diverged, and it keeps
    its best weights seen so far (the initial ones if the first epoch
    diverged). If the kept weights' loss on the training data is not finite,
    it goes back to the initial weights, also as diverged
    (:func:`_warn_if_diverged` warns of both).
    """

    def __init__(self, network: nn.Module, score_name: str, validated: bool,
                 patience: int) -> None:
        self.network, self.validated, self.patience = network, validated, patience
        self.score_key, self.val_score_key = f"train_{score_name}", f"val_{score_name}"
        self.history: dict[str, list[float]] = {"train_loss": [], self.score_key: []}
        if validated:
            self.history.update({"val_loss": [], self.val_score_key: []})
        # the initial weights are the fallback if the very first epoch diverges
        self.initial_state = _state_of(network)
        self.best_state, self.best_loss, self.stale = self.initial_state, math.inf, 0
        self.diverged = self.stopped = False

    def after_epoch(self, train_loss: float, train_score: float,
                    val: tuple[float, float] | None = None) -> bool:
        """Record an epoch (``val``: its validation loss and score) and say
        whether the network trains on. Once it has stopped, epochs are
        ignored: a stopped member of a stacked ensemble is still stepped with
        the others, and those updates are not its own."""
        if self.stopped:
            return False
        self.history["train_loss"].append(train_loss)
        self.history[self.score_key].append(train_score)
        monitored = train_loss
        if val is not None:
            self.history["val_loss"].append(val[0])
            self.history[self.val_score_key].append(val[1])
            monitored = val[0]
        if not (math.isfinite(train_loss) and _all_finite(self.network)):
            self.diverged = self.stopped = True
        elif monitored < self.best_loss:
            self.best_loss, self.stale = monitored, 0
            self.best_state = _state_of(self.network)
        else:
            self.stale += 1
            self.stopped = self.validated and self.stale >= self.patience
        return not self.stopped

    def restore_kept(self) -> None:
        """Load the weights training keeps: the best with a validation set or
        after a divergence, else the last."""
        if self.diverged or self.validated:
            self.network.load_state_dict(self.best_state)

    def check_kept(self, train_loss: float) -> None:
        """``train_loss``: the kept weights' loss on the training data. They
        were never run on it (they are the weights after an epoch); if it is
        not finite, start over from the initial weights, as diverged."""
        if not math.isfinite(train_loss):
            self.network.load_state_dict(self.initial_state)
            self.diverged = True


def _state_of(network: nn.Module) -> dict[str, Tensor]:
    """A copy of the network's state (its own storage, also where the
    network's tensors are views of a stack)."""
    return {name: value.clone() for name, value in network.state_dict().items()}


def _warn_if_diverged(trackers: list[_MemberTracker], numbered: bool) -> None:
    """One :class:`DivergenceWarning` for the networks that diverged;
    ``numbered``: name them by their place in the ensemble."""
    which = [str(k + 1) for k, tracker in enumerate(trackers) if tracker.diverged]
    if not which:
        return
    if numbered:
        what = f" in network(s) {', '.join(which)}; stopped them and restored their"
    else:
        what = "; stopped and restored the"
    # stacklevel 4: the caller of the training loop's caller
    warnings.warn(f"training diverged (non-finite loss or weights){what} best finite "
                  "weights (the initial ones if no other was finite on the training "
                  "data; try a smaller lr or transition_lr)", DivergenceWarning, stacklevel=4)


def train_network(network: nn.Module, loss_fn: LossFn, train: Batch,
                  validation: Batch | None, config: TrainingConfig, seeds: Seeds,
                  noise_std: Tensor | None = None,
                  guard: Callable[[nn.Module], None] | None = None,
                  progress_label: str = "epochs",
                  score_name: str = "score") -> dict[str, list[float]]:
    """Mini-batch training with early stopping; returns the per-epoch history.

    ``loss_fn(network, batch)`` returns ``(mean loss, mean score)``; the
    history holds ``train_loss`` and ``train_<score_name>`` (and ``val_*``)
    per epoch. Early stopping (after ``config.patience`` epochs without a
    lower validation loss), the kept weights and the fallback from a
    divergence, with a :class:`DivergenceWarning`, are those of
    :class:`_MemberTracker`. ``noise_std`` (n_channels,) adds Gaussian noise
    of that std to every training input, never to validation inputs.
    ``seeds.shuffle`` drives shuffling (CPU generator) and ``seeds.noise`` the
    noise (a generator on the data's device, so CPU and GPU runs draw
    different noise). ``guard(network)`` runs
    after every optimizer step (e.g. a :class:`skwarp.core.stability.TransitionGuard`).
    """
    optimizer = make_optimizer(network, config)
    epoch_size = len(train) if config.epoch_size is None else config.epoch_size
    n_batches = -(-epoch_size // config.batch_size)
    schedule = _make_schedule(optimizer, config, n_batches)
    shuffler = torch.Generator().manual_seed(seeds.shuffle)
    noise = None if noise_std is None else _Noise(noise_std, seeds.noise)
    tracker = _MemberTracker(network, score_name, validation is not None, config.patience)
    progress = _progress(config, progress_label)
    for _ in progress:
        order = _epoch_order(len(train), epoch_size, shuffler)
        train_loss, train_score = _train_epoch(network, loss_fn, train.batches(
            config.batch_size, order), epoch_size, config, optimizer, schedule, noise, guard)
        val = (None if validation is None
               else evaluate(network, loss_fn, validation, config.batch_size))
        if not tracker.after_epoch(train_loss, train_score, val):
            break
        if config.verbose:
            progress.set_postfix(loss=f"{train_loss:.4f}", refresh=False)
    tracker.restore_kept()
    tracker.check_kept(evaluate(network, loss_fn, train, config.batch_size)[0])
    _warn_if_diverged([tracker], numbered=False)
    network.eval()
    return tracker.history


def _epoch_order(n_samples: int, epoch_size: int, shuffler: torch.Generator) -> Tensor:
    """The samples of one epoch: ``epoch_size`` of them, drawn without
    replacement; an epoch longer than the data goes through fresh random
    orders of every sample one after the other (so an epoch is a fixed
    number of optimiser steps, whatever the data's size)."""
    n_orders = -(-epoch_size // n_samples)
    orders = [torch.randperm(n_samples, generator=shuffler) for _ in range(n_orders)]
    return torch.cat(orders)[:epoch_size]


class _Noise:
    """Gaussian input noise on the valid steps of a batch."""

    def __init__(self, std: Tensor, seed: int) -> None:
        self.std = std
        self.generator = torch.Generator(device=std.device).manual_seed(seed)

    def __call__(self, batch: Batch) -> Batch:
        noise = torch.randn(batch.x.shape, generator=self.generator, device=batch.x.device)
        valid = valid_mask(batch.lengths, batch.x.shape[1]).unsqueeze(-1)
        return Batch(batch.x + noise * self.std * valid, batch.lengths, batch.y,
                     batch.host_lengths)


def _fills(batch: Batch) -> bool:
    """Whether every series of ``batch`` is as long as the batch: no step of it
    needs masking, and the loss may be given no lengths (the same values,
    fewer kernels)."""
    return bool((batch.host_lengths == batch.x.shape[1]).all())


def _train_epoch(network, loss_fn, batches: Iterator[Batch], n_series: int,
                 config: TrainingConfig, optimizer, schedule,
                 noise: _Noise | None,
                 guard: Callable[[nn.Module], None] | None = None) -> tuple[float, float]:
    """One pass over the mini-batches; mean loss and score."""
    network.train()
    totals = None
    for batch in batches:
        if noise is not None:
            batch = noise(batch)
        if _fills(batch):
            batch = Batch(batch.x, None, batch.y, batch.host_lengths)
        loss, score = loss_fn(network, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(network.parameters(), config.grad_clip)
        optimizer.step()
        if guard is not None:
            guard(network)
        schedule.step()
        step = torch.stack((loss.detach(), score.detach())) * len(batch)
        totals = step if totals is None else totals + step
    loss, score = (totals / n_series).tolist()
    return loss, score


def _all_finite(network: nn.Module) -> bool:
    return bool(torch.stack([torch.isfinite(p).all() for p in network.parameters()]).all())


@torch.no_grad()
def evaluate(network: nn.Module, loss_fn: LossFn, data: Batch,
             batch_size: int) -> tuple[float, float]:
    """Mean loss and score of ``network`` on ``data``, in eval mode."""
    network.eval()
    totals = sum(torch.stack(loss_fn(network, batch)) * len(batch)
                 for batch in data.batches(batch_size))
    loss, score = (totals / len(data)).tolist()
    return loss, score


def _make_schedule(optimizer, config: TrainingConfig, n_batches: int):
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.n_epochs * n_batches)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def _progress(config: TrainingConfig, label: str):
    if not config.verbose:
        return range(config.n_epochs)
    from tqdm.auto import tqdm

    return tqdm(range(config.n_epochs), desc=label, unit="epoch")


# -- the batched ensemble ---------------------------------------------------- #
class _Stack:
    """The members' parameters and buffers stacked along a leading member
    dimension. Each member network's own tensors become views of its slice,
    so per-member code (the guard, finiteness checks, state dicts, loading
    the best weights) works on the networks unchanged, and :meth:`release`
    gives every member its own storage back."""

    def __init__(self, networks: list[nn.Module]) -> None:
        self.networks = networks
        params = [dict(n.named_parameters()) for n in networks]
        buffers = [dict(n.named_buffers()) for n in networks]
        self.params = {name: torch.stack([p[name].detach() for p in params]).requires_grad_()
                       for name in params[0]}
        self.buffers = {name: torch.stack([b[name] for b in buffers]) for name in buffers[0]}
        for k, network in enumerate(networks):
            for name, stacked in self.params.items():
                params[k][name].data = stacked.detach()[k]
            for name, stacked in self.buffers.items():
                owner, _, leaf = name.rpartition(".")
                network.get_submodule(owner)._buffers[leaf] = stacked[k]

    def release(self) -> None:
        for network in self.networks:
            for p in network.parameters():
                p.data = p.data.clone()
            for module in network.modules():
                for leaf, buffer in module._buffers.items():
                    if buffer is not None:
                        module._buffers[leaf] = buffer.clone()


class _Functional:
    """A module whose parameters and buffers are ``state`` (one member's
    slice under vmap): calling it, or any of its methods, runs the module on
    that state (``torch.func.functional_call``); other attributes are the
    module's own."""

    def __init__(self, caller: _MethodCaller, state: dict[str, Tensor]) -> None:
        self._caller, self._state = caller, state

    def __call__(self, *args, **kwargs):
        return functional_call(self._caller, self._state, ("forward", *args), kwargs)

    def __getattr__(self, name: str):
        attr = getattr(self._caller.network, name)
        if callable(attr) and getattr(attr, "__self__", None) is self._caller.network:
            return lambda *args, **kwargs: functional_call(self._caller, self._state,
                                                           (name, *args), kwargs)
        return attr


class _MethodCaller(nn.Module):
    """Calls a method of ``network`` by name, so that ``functional_call`` can
    run any of them (it runs ``forward`` only)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, name: str, *args, **kwargs):
        return getattr(self.network, name)(*args, **kwargs)


def _stack_batches(batches: list[Batch]) -> tuple[Tensor, Tensor, Tensor]:
    """The members' mini-batches (each cut to its own longest series) as
    (M, n, T, d) inputs padded to the longest of all, (M, n) lengths and
    targets."""
    longest = max(b.x.shape[1] for b in batches)
    x = torch.stack([nn.functional.pad(b.x, (0, 0, 0, longest - b.x.shape[1]))
                     for b in batches])
    return x, torch.stack([b.lengths for b in batches]), torch.stack([b.y for b in batches])


def _clip_per_member(grads: list[Tensor], max_norm: float) -> None:
    """``clip_grad_norm_`` on each member's slice of the stacked gradients
    (None where a parameter took no part, e.g. series of one step)."""
    grads = [g for g in grads if g is not None]
    if not grads:
        return
    norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads])
    total = torch.linalg.vector_norm(norms, dim=0)
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.ndim - 1))))


def train_stacked(networks: list[WarpNetwork], loss_fn: LossFn, train: Batch,
                  validation: Batch | None, config: TrainingConfig, members: list[Seeds],
                  noise_std: Tensor | None = None,
                  score_name: str = "score") -> list[dict[str, list[float]]]:
    """:func:`train_on_device` for several networks at once, as one batched
    model: per mini-batch, one vmapped forward and backward of every member
    on its own batch (its own ``seeds.shuffle`` order and ``seeds.noise``),
    per-member gradient clipping, one optimizer step over the stacked
    parameters (the same update as one optimizer per member: Adam(W) and SGD
    act elementwise) and each member's transition guard. Each member keeps
    its own history, early stopping, best weights and divergence fallback
    (:class:`_MemberTracker`); a member that has stopped is still stepped with
    the others (its updates are discarded when its kept weights are
    restored) until all have stopped. Returns the histories; the networks are
    trained in place and moved back to the CPU."""
    device = train.x.device
    for network in networks:
        network.to(device)
    n_members = len(networks)
    n_steps = networks[0].recurrence_steps(train.host_lengths.max())
    guards = [TransitionGuard(transition_cap(MAX_TRANSITION_GAIN, n_steps - 1))
              for _ in networks]
    stack = _Stack(networks)
    caller = _MethodCaller(networks[0])
    names = list(stack.params)

    def member_loss(params, buffers, x, lengths, y):
        state = {f"network.{k}": v for k, v in {**params, **buffers}.items()}
        return loss_fn(_Functional(caller, state), Batch(x, lengths, y, None))

    def quiet(fn):
        """``fn`` without vmap's note that BatchNorm's ``lerp_`` of its running
        statistics runs member by member (correct, and a small cost here)."""
        def call(*args):
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="There is a performance drop",
                                        category=UserWarning)
                return fn(*args)
        return call

    batched_loss = quiet(vmap(member_loss))
    # every member's batch filled by its series (_fills): no lengths
    full_length_loss = quiet(vmap(member_loss, in_dims=(0, 0, 0, None, 0)))
    shared_loss = quiet(vmap(member_loss, in_dims=(0, 0, None, None, None)))

    @torch.no_grad()
    def evaluate_all(data: Batch) -> Tensor:
        """(M, 2): each member's mean loss and score on ``data``, in eval mode."""
        for network in networks:
            network.eval()
        totals = sum(torch.stack(shared_loss(stack.params, stack.buffers, b.x, b.lengths,
                                             b.y), 1) * len(b)
                     for b in data.batches(config.batch_size))
        return totals / len(data)

    optimizer = _optimizer(list(stack.params.items()), config, fused=True)
    epoch_size = len(train) if config.epoch_size is None else config.epoch_size
    n_batches = -(-epoch_size // config.batch_size)
    schedule = _make_schedule(optimizer, config, n_batches)
    shufflers = [torch.Generator().manual_seed(m.shuffle) for m in members]
    noises = [None if noise_std is None else _Noise(noise_std, m.noise) for m in members]
    trackers = [_MemberTracker(network, score_name, validation is not None, config.patience)
                for network in networks]
    progress = _progress(config, f"networks 1-{n_members}")
    for _ in progress:
        orders = [_epoch_order(len(train), epoch_size, g) for g in shufflers]
        for network in networks:
            network.train()
        totals = torch.zeros(n_members, 2, device=device)
        for start in range(0, epoch_size, config.batch_size):
            batches = [train.take(order[start:start + config.batch_size]) for order in orders]
            batches = [b if noise is None else noise(b) for b, noise in zip(batches, noises,
                                                                            strict=True)]
            x, lengths, y = _stack_batches(batches)
            if all(_fills(b) and b.x.shape[1] == x.shape[2] for b in batches):
                losses, scores = full_length_loss(stack.params, stack.buffers, x, None, y)
            else:
                losses, scores = batched_loss(stack.params, stack.buffers, x, lengths, y)
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            if config.grad_clip is not None:
                _clip_per_member([stack.params[k].grad for k in names], config.grad_clip)
            optimizer.step()
            for network, guard in zip(networks, guards, strict=True):
                guard(network)
            schedule.step()
            totals += torch.stack((losses.detach(), scores.detach()), 1) * len(batches[0])
        train_stats = (totals / epoch_size).tolist()
        val_stats = [None] * n_members if validation is None else evaluate_all(
            validation).tolist()
        for tracker, train_stat, val_stat in zip(trackers, train_stats, val_stats, strict=True):
            tracker.after_epoch(*train_stat, val_stat)
        if config.verbose:
            mean_loss = statistics.fmean(row[0] for row in train_stats)
            progress.set_postfix(loss=f"{mean_loss:.4f}", refresh=False)  # members' mean
        if all(tracker.stopped for tracker in trackers):
            break
    for tracker in trackers:
        tracker.restore_kept()
    for tracker, final_loss in zip(trackers, evaluate_all(train)[:, 0].tolist(), strict=True):
        tracker.check_kept(final_loss)
    stack.release()
    for network in networks:
        network.eval()
        network.cpu()
    _warn_if_diverged(trackers, numbered=True)
    return [tracker.history for tracker in trackers]
