"""The recurrent step's cost: WARP's recurrent training and rollouts against a
parameter-matched torch GRU (and LSTM), per epoch, in one run.

The data and budget are the dynamics benchmark's MSD task (``benchmarks.dynamics``:
series of 256 steps, 100 training series, batch 16, root width 16, seed 0).

* WARP, train: ``WarpForecaster`` in recurrent mode exactly as the dynamics
  benchmark fits its WARP row (``fit_warp``: teacher forcing 0.25 after a
  100-step context, ``WARP_PARAMS``, and the loss the dynamics benchmark gives
  WARP, ``WARP_LOSSES``, or ``--warp-loss``); seconds of each epoch of its own
  training loop (every mini-batch: the recurrent forward, backward, clipping,
  AdamW and the transition guard).
* GRU, LSTM, train: ``torch.nn.GRU`` / ``nn.LSTM``, the widest with at most
  WARP's parameters, one-step-ahead with teacher forcing, called once on each
  whole mini-batch of sequences (torch's own loop over time, not a Python loop
  over cells), same epochs and batch size (``benchmarks._baselines.train_rnn``
  with full teacher forcing, the matched fused ``nn.GRU`` issue 25 asks for;
  the dynamics benchmark now trains them with WARP's forcing instead).
* rollout: one autoregressive forecast of the 156-step test horizon after a
  100-step context for each of the 100 training series (one epoch's worth of
  series): WARP's ``predict`` of the fitted forecaster (it holds the
  training series), the GRU's / LSTM's ``rollout`` of the same series' last
  100 (standardised) points.

Seconds per epoch: the median over the epochs (rollouts) of every round after
each fit's first (a warm-up); models are interleaved round by round, so all see
the same machine. One torch thread.

    python -m benchmarks.recurrent            # 3 rounds of 4 epochs: about 1 minute
    python -m benchmarks.recurrent --quick    # smoke test

Writes benchmarks/results/recurrent.md and recurrent.json (``{"rows": [{"model",
"mode", "seconds_per_epoch", ...}]}``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
import warnings

import numpy as np
import torch

import skwarp._training
from benchmarks._baselines import matching_rnn, n_params, train_rnn
from benchmarks._harness import command, machine_header, markdown_table, write_report
from benchmarks.dynamics import (
    CONTEXT,
    HORIZON,
    TASKS,
    WARP_LOSSES,
    Budget,
    as_array,
    fit_warp,
)

MODELS = ("WARP", "GRU", "LSTM")
MODES = ("train", "rollout")


@contextlib.contextmanager
def epoch_clock(seconds: list[float]):
    """Append the seconds of every epoch of ``skwarp``'s training loop run
    inside the block to ``seconds``."""
    original = skwarp._training._train_epoch

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            seconds.append(time.perf_counter() - start)

    skwarp._training._train_epoch = timed
    try:
        yield
    finally:
        skwarp._training._train_epoch = original


def timed_calls(run, n_calls: int) -> list[float]:
    """Seconds of each of ``n_calls`` calls of ``run()``."""
    seconds = []
    for _ in range(n_calls):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return seconds


def warp_round(train, budget: Budget, n_rollouts: int,
               loss: str) -> tuple[list[float], list[float], object]:
    """One WARP fit (seconds of each epoch) and ``n_rollouts`` forecasts of the
    training series' horizon (seconds of each); and the forecaster."""
    epochs: list[float] = []
    with epoch_clock(epochs):
        forecaster = fit_warp(train, budget, None, seed=0, loss=loss)
    fh = np.arange(1, HORIZON + 1)
    rollouts = timed_calls(lambda: forecaster.predict(fh=fh), n_rollouts)
    return epochs, rollouts, forecaster


def rnn_round(cell: str, series: np.ndarray, n_target: int, budget: Budget,
              n_rollouts: int) -> tuple[list[float], list[float], torch.nn.Module]:
    """The dynamics benchmark's GRU / LSTM training (seconds of each epoch) and
    ``n_rollouts`` rollouts of the series' last CONTEXT points (seconds of each)."""
    offset, scale = series.mean(axis=(0, 1)), series.std(axis=(0, 1))
    standard = (series - offset) / scale
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = matching_rnn(n_target, series.shape[2], cell)
    stamps = [time.perf_counter()]
    train_rnn(model, standard, budget.n_epochs, budget.batch_size, seed=0,
              on_epoch=lambda: stamps.append(time.perf_counter()))
    context = torch.tensor(standard[:, -CONTEXT:], dtype=torch.float32)
    rollouts = timed_calls(lambda: model.rollout(context, HORIZON), n_rollouts)
    return list(np.diff(stamps)), rollouts, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs per fit (the first of each fit is a warm-up)")
    parser.add_argument("--warp-loss", choices=("nll", "mse"), default=WARP_LOSSES["WARP"][0],
                        help="WARP's loss (default: the dynamics benchmark's for WARP)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    budget = Budget(16, 0, 2) if args.quick else Budget(100, 0, 4)
    budget.n_epochs = args.epochs or budget.n_epochs
    rounds = args.rounds or (1 if args.quick else 3)
    n_rollouts = budget.n_epochs
    task = next(t for t in TASKS if t.name == "MSD")
    train, _ = task.make(budget.n_train, False, 0)
    series = as_array(train)

    seconds = {(m, mode): [] for m in MODELS for mode in MODES}
    sizes: dict[str, tuple[int, str]] = {}
    start = time.perf_counter()
    for round_ in range(rounds):
        epochs, rollouts, forecaster = warp_round(train, budget, n_rollouts, args.warp_loss)
        seconds["WARP", "train"] += epochs[1:]
        seconds["WARP", "rollout"] += rollouts[1:]
        warp_size = n_params(forecaster.network_)
        sizes["WARP"] = (warp_size, f"state D = {forecaster.network_.n_params}")
        for cell in ("GRU", "LSTM"):
            epochs, rollouts, model = rnn_round(cell.lower(), series, warp_size, budget,
                                                n_rollouts)
            seconds[cell, "train"] += epochs[1:]
            seconds[cell, "rollout"] += rollouts[1:]
            sizes[cell] = (n_params(model), f"hidden {model.hidden_size}")
        print(f"round {round_ + 1}/{rounds}: " + ", ".join(
            f"{m} {mode} {statistics.median(s):.3f} s" for (m, mode), s in seconds.items()),
            flush=True)
    wall = time.perf_counter() - start

    rows = [{"model": m, "mode": mode, "seconds_per_epoch": statistics.median(s),
             "min_seconds": min(s), "max_seconds": max(s), "n_timed": len(s),
             "params": sizes[m][0]}
            for (m, mode), s in seconds.items()]
    median = {(r["model"], r["mode"]): r["seconds_per_epoch"] for r in rows}
    lines = ["# The recurrent step: WARP against a matched nn.GRU / nn.LSTM, per epoch", "",
             machine_header(),
             f"- command: `{command('recurrent')}`; one torch thread; whole run "
             f"{wall:.0f} s",
             f"- data: the dynamics benchmark's MSD task, seed 0: {budget.n_train} training "
             f"series of {CONTEXT + HORIZON} steps, batch {budget.batch_size}, root width "
             f"{budget.root_width}; {rounds} round(s) of {budget.n_epochs}-epoch fits and "
             f"{n_rollouts} rollouts per model, models interleaved round by round; the "
             "first epoch and rollout of each round are warm-ups, not counted",
             "- WARP, train: `benchmarks.dynamics.fit_warp` (WarpForecaster, recurrent "
             "mode, teacher forcing 0.25 after the 100-step context, `WARP_PARAMS`, loss "
             f"`{args.warp_loss}`): each "
             "epoch of its training loop (forward, backward, clipping, AdamW, the "
             "transition guard)",
             "- GRU, LSTM, train: `torch.nn.GRU` / `nn.LSTM` with at most WARP's "
             "parameters, one-step-ahead, teacher-forced, one call per mini-batch on the "
             "whole sequences (`benchmarks._baselines.train_rnn` with full teacher "
             "forcing; the dynamics benchmark trains them with WARP's forcing)",
             f"- rollout: one {HORIZON}-step autoregressive forecast after a {CONTEXT}-step "
             f"context of each of the {budget.n_train} training series (WARP: the "
             "fitted forecaster's `predict`, which includes building the context's state "
             "and the output frame; GRU, LSTM: `rollout` on the same series)", ""]
    lines += markdown_table(
        ["model", "parameters", "mode", "seconds per epoch (median)", "min - max", "timed",
         "/ GRU"],
        [[row["model"], "{:,} ({})".format(*sizes[row["model"]]), row["mode"],
          f"{row['seconds_per_epoch']:.3f}",
          f"{row['min_seconds']:.3f} - {row['max_seconds']:.3f}", row["n_timed"],
          f"{row['seconds_per_epoch'] / median['GRU', row['mode']]:.2f}"] for row in rows])
    lines += ["", f"WARP / GRU: train {median['WARP', 'train'] / median['GRU', 'train']:.2f}, "
              f"rollout {median['WARP', 'rollout'] / median['GRU', 'rollout']:.2f}."]
    print("\n".join(lines))
    out = write_report("recurrent", lines, args.quick)
    out.with_suffix(".json").write_text(json.dumps({"rows": rows}, indent=1))


if __name__ == "__main__":
    main()
