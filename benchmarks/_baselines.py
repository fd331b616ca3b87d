"""Torch GRU / LSTM forecasters with a parameter budget, shared by the benchmarks.

One-step-ahead recurrent models trained with teacher forcing (every input is
the truth) and rolled out autoregressively after a context.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

CELLS = {"gru": torch.nn.GRU, "lstm": torch.nn.LSTM}


class RNNForecaster(torch.nn.Module):
    """Predicts the next value of every channel from the current ones (residual)."""

    def __init__(self, n_channels: int, hidden: int, cell: str = "gru") -> None:
        super().__init__()
        self.cell = cell
        self.rnn = CELLS[cell](n_channels, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, n_channels)

    @property
    def hidden_size(self) -> int:
        return self.rnn.hidden_size

    def forward(self, x, h=None):
        out, h = self.rnn(x, h)
        return x + self.head(out), h  # residual, like WARP's default

    @torch.no_grad()
    def rollout(self, context, n_steps):
        """``n_steps`` predictions after ``context`` (N, T, d), fed back one by one."""
        pred, h = self(context)
        x = pred[:, -1:]
        outputs = [x]
        for _ in range(n_steps - 1):
            x, h = self(x, h)
            outputs.append(x)
        return torch.cat(outputs, dim=1)


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def matching_rnn(n_target: int, n_channels: int = 1, cell: str = "gru",
                 step: int = 8) -> RNNForecaster:
    """The widest model (hidden a multiple of ``step``) with at most ``n_target``
    parameters, initialised under the caller's torch RNG."""
    hidden = step
    while n_params(RNNForecaster(n_channels, hidden + step, cell)) <= n_target:
        hidden += step
    return RNNForecaster(n_channels, hidden, cell)


def train_rnn(model: RNNForecaster, series: np.ndarray, n_epochs: int, batch_size: int,
              seed: int, on_epoch: Callable[[], None] | None = None) -> None:
    """AdamW with a cosine schedule on the one-step MSE of ``series`` (N, T, d);
    ``on_epoch()`` runs after each epoch (a benchmark's clock)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.tensor(series, dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, n_epochs * -(-len(x) // batch_size))
    for _ in range(n_epochs):
        for idx in torch.randperm(len(x), generator=generator).split(batch_size):
            pred, _ = model(x[idx, :-1])
            loss = (pred - x[idx, 1:]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
        if on_epoch is not None:
            on_epoch()
