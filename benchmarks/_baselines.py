"""Torch GRU / LSTM forecasters with a parameter budget, shared by the benchmarks.

One-step-ahead recurrent models rolled out autoregressively after a context.
``train_rnn`` trains them with full teacher forcing (every input is the truth,
one fused call per mini-batch) by default, or with WARP's recurrent-mode
schedule: the truth over a context, then the model's own prediction except with
probability ``p_forcing`` (``forced_outputs``).
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


def forced_outputs(model: RNNForecaster, x: torch.Tensor, n_context: int, p_forcing: float,
                   generator: torch.Generator) -> torch.Tensor:
    """Predictions of ``x[:, 1:]`` (N, T-1, d) under WARP's recurrent-mode teacher
    forcing (``skwarp.core.warp.WarpNetwork.teacher_forced``): the first
    ``n_context`` inputs are the truth (one fused call); after that each
    series' input is the truth with probability ``p_forcing`` (a coin per series
    and step, from ``generator``) and otherwise the model's previous prediction,
    not detached, so the loss sees the effect of feeding its own output."""
    n_out = x.shape[1] - 1
    n_forced = min(max(n_context, 1), n_out)
    pred, h = model(x[:, :n_forced])
    outputs = [pred]
    y = pred[:, -1:]
    for t in range(n_forced, n_out):
        keep = torch.rand(len(x), 1, 1, generator=generator) < p_forcing
        y, h = model(torch.where(keep, x[:, t:t + 1], y), h)
        outputs.append(y)
    return torch.cat(outputs, dim=1)


def train_rnn(model: RNNForecaster, series: np.ndarray, n_epochs: int, batch_size: int,
              seed: int, on_epoch: Callable[[], None] | None = None, lr: float = 1e-3,
              n_context: int | None = None, p_forcing: float = 1.0) -> None:
    """AdamW with a cosine schedule on the one-step MSE of ``series`` (N, T, d);
    ``on_epoch()`` runs after each epoch (a benchmark's clock). With
    ``p_forcing < 1`` and ``n_context``, inputs after the first ``n_context``
    are the model's own predictions except with probability ``p_forcing``
    (``forced_outputs``); otherwise every input is the truth."""
    generator = torch.Generator().manual_seed(seed)
    forcing = torch.Generator().manual_seed(seed + 1)
    x = torch.tensor(series, dtype=torch.float32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, n_epochs * -(-len(x) // batch_size))
    recurrent = n_context is not None and p_forcing < 1.0
    for _ in range(n_epochs):
        for idx in torch.randperm(len(x), generator=generator).split(batch_size):
            if recurrent:
                pred = forced_outputs(model, x[idx], n_context, p_forcing, forcing)
            else:
                pred, _ = model(x[idx, :-1])
            loss = (pred - x[idx, 1:]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
        if on_epoch is not None:
            on_epoch()
