"""Training loop, device handling and seeding shared by the estimators."""

from __future__ import annotations

import copy
import math
import os
import secrets
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

OPTIMIZERS = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}
LR_SCHEDULES = ("cosine", "constant")
DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str) -> torch.device:
    """``"auto"`` is CUDA when available, else CPU."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError('device="cuda" was asked for but CUDA is not available')
    return torch.device(device)


def seed_from_random_state(random_state) -> int:
    """An int seed from ``random_state`` without touching any global RNG."""
    if random_state is None:
        return secrets.randbits(31)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(np.random.RandomState(int(random_state)).randint(2**31 - 1))
    raise TypeError(f"random_state must be None, an int or a numpy RandomState, "
                    f"got {type(random_state).__name__}")


@contextmanager
def seeded_torch(seed: int):
    """Run a block (e.g. module construction) under ``seed`` on the CPU RNG,
    restoring the global torch RNG state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextmanager
def torch_threads(n_threads: int):
    """Let torch use ``n_threads`` intra-op threads (-1: all cores) inside the block.

    WARP's matrix products are small; on 2 cores one thread trained
    BasicMotions 30x faster than two when the other core was busy
    (benchmarks/results/scan.md has the solver timings).
    """
    if not isinstance(n_threads, (int, np.integer)) or isinstance(n_threads, bool) or \
            n_threads == 0 or n_threads < -1:
        raise ValueError(f"n_threads must be a positive integer or -1, got {n_threads!r}")
    previous = torch.get_num_threads()
    torch.set_num_threads((os.cpu_count() or 1) if n_threads == -1 else int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass
class TrainingConfig:
    """Optimisation settings, validated once."""

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

    def __post_init__(self) -> None:
        _check_positive_int("n_epochs", self.n_epochs)
        _check_positive_int("batch_size", self.batch_size)
        _check_positive_int("patience", self.patience)
        for name in ("lr", "transition_lr"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, "
                             f"got {self.lr_schedule!r}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ValueError(f"grad_clip must be None or > 0, got {self.grad_clip!r}")


def _check_positive_int(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


@dataclass
class Batch:
    """Padded inputs, their lengths and targets, all on one device."""

    x: Tensor
    lengths: Tensor
    y: Tensor

    def __len__(self) -> int:
        return self.x.shape[0]

    def take(self, index: Tensor) -> Batch:
        lengths = self.lengths[index]
        longest = int(lengths.max())
        return Batch(self.x[index, :longest], lengths, self.y[index])


LossFn = Callable[[nn.Module, Batch], tuple[Tensor, Tensor]]


def make_optimizer(network: nn.Module, config: TrainingConfig) -> torch.optim.Optimizer:
    """Two groups: the transition ``A`` (its own lr, no weight decay) and the rest."""
    transition = [p for name, p in network.named_parameters() if name == "A"]
    rest = [p for name, p in network.named_parameters() if name != "A"]
    groups = [{"params": rest, "lr": config.lr, "weight_decay": config.weight_decay},
              {"params": transition, "lr": config.transition_lr, "weight_decay": 0.0}]
    return OPTIMIZERS[config.optimizer]([g for g in groups if g["params"]])


def train_network(network: nn.Module, loss_fn: LossFn, train: Batch,
                  validation: Batch | None, config: TrainingConfig,
                  generator: torch.Generator,
                  noise_std: Tensor | None = None) -> dict[str, list[float]]:
    """Mini-batch training with early stopping; returns the per-epoch history.

    ``noise_std`` (n_channels,) adds Gaussian noise of that std to every
    training input (never to validation or prediction inputs), drawn from
    ``generator`` like the shuffling.

    ``loss_fn(network, batch)`` returns ``(mean loss, mean score)``. With a
    validation set, the weights of the epoch with the lowest validation loss
    are restored at the end, and training stops after ``config.patience``
    epochs without improvement. A non-finite loss or weight stops training and
    restores the best weights seen so far (the initial ones if the first epoch
    diverged), with a warning.
    """
    optimizer = make_optimizer(network, config)
    n_batches = -(-len(train) // config.batch_size)
    schedule = _make_schedule(optimizer, config, n_batches)
    history: dict[str, list[float]] = {"train_loss": [], "train_score": []}
    if validation is not None:
        history.update(val_loss=[], val_score=[])
    # the initial weights are the fallback if the very first epoch diverges
    best_loss, best_state, stale = math.inf, copy.deepcopy(network.state_dict()), 0
    diverged = False
    progress = _progress(config)
    for _ in progress:
        train_loss, train_score = _train_epoch(network, loss_fn, train, config, optimizer,
                                               schedule, generator, noise_std)
        history["train_loss"].append(train_loss)
        history["train_score"].append(train_score)
        monitored = train_loss
        if validation is not None:
            val_loss, val_score = evaluate(network, loss_fn, validation, config.batch_size)
            history["val_loss"].append(val_loss)
            history["val_score"].append(val_score)
            monitored = val_loss
        if not (math.isfinite(train_loss) and _all_finite(network)):
            diverged = True
            break
        if monitored < best_loss:
            best_loss, stale = monitored, 0
            best_state = copy.deepcopy(network.state_dict())
        else:
            stale += 1
            if validation is not None and stale >= config.patience:
                break
        if config.verbose:
            progress.set_postfix(loss=f"{train_loss:.4f}", refresh=False)
    if diverged:
        warnings.warn("training diverged (non-finite loss or weights); stopped and "
                      "restored the best weights seen so far (try a smaller lr or "
                      "transition_lr)", RuntimeWarning, stacklevel=3)
    if diverged or validation is not None:
        network.load_state_dict(best_state)
    network.eval()
    return history


def _train_epoch(network, loss_fn, train: Batch, config: TrainingConfig, optimizer,
                 schedule, generator, noise_std) -> tuple[float, float]:
    """One pass over shuffled mini-batches; mean loss and score."""
    network.train()
    order = torch.randperm(len(train), generator=generator).to(train.x.device)
    totals = torch.zeros(2, device=train.x.device)
    for start in range(0, len(train), config.batch_size):
        batch = train.take(order[start:start + config.batch_size])
        if noise_std is not None:
            batch = _add_noise(batch, noise_std, generator)
        loss, score = loss_fn(network, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if config.grad_clip is not None:
            nn.utils.clip_grad_norm_(network.parameters(), config.grad_clip)
        optimizer.step()
        schedule.step()
        totals += torch.stack((loss.detach(), score.detach())) * len(batch)
    loss, score = (totals / len(train)).tolist()
    return loss, score


def _add_noise(batch: Batch, noise_std: Tensor, generator: torch.Generator) -> Batch:
    noise = torch.randn(batch.x.shape, generator=generator).to(batch.x.device)
    valid = torch.arange(batch.x.shape[1], device=batch.x.device) < batch.lengths[:, None]
    noisy = batch.x + noise * noise_std * valid.unsqueeze(-1)
    return Batch(noisy, batch.lengths, batch.y)


def _all_finite(network: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in network.parameters())


@torch.no_grad()
def evaluate(network: nn.Module, loss_fn: LossFn, data: Batch,
             batch_size: int) -> tuple[float, float]:
    """Mean loss and score of ``network`` on ``data``, in eval mode."""
    network.eval()
    totals = torch.zeros(2, device=data.x.device)
    for start in range(0, len(data), batch_size):
        batch = data.take(torch.arange(start, min(start + batch_size, len(data)),
                                       device=data.x.device))
        loss, score = loss_fn(network, batch)
        totals += torch.stack((loss, score)) * len(batch)
    return tuple((totals / len(data)).tolist())


def _make_schedule(optimizer, config: TrainingConfig, n_batches: int):
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=config.n_epochs * n_batches)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)


def _progress(config: TrainingConfig):
    if not config.verbose:
        return range(config.n_epochs)
    from tqdm.auto import tqdm

    return tqdm(range(config.n_epochs), desc="epochs", unit="epoch")
