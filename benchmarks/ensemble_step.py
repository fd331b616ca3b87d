"""Seconds per training epoch of WarpClassifier's ensemble: the members one
after the other against the members stacked into one batched model.

Data of GunPoint's size (50 series of 150 points, one channel, two classes;
random numbers: the time does not depend on the values) and BasicMotions'
(40 series of 100 points, six channels, four classes); WarpClassifier's
default network and training step (n_networks members, AdamW, gradient
clipping, the transition guard). Rows, all in one process, one torch thread,
interleaved over ``--repeats`` rounds (median seconds per epoch):

- ``sequential, squarings``: the members one after the other, the LRU final
  state by repeated squaring of ``A`` (the chunked kernel of
  ``skwarp.core.scan``: what WarpClassifier did before the batched ensemble);
- ``sequential, closed form``: the same with the LRU final state contracted
  with the eigenvalues' powers in closed form (``LRUTransition.final_state``);
- ``stacked``: all members as one batched model (``fit_networks(...,
  stacked=True)``: ``torch.func.vmap`` over the stacked parameters, one
  backward and one optimizer step for all), closed form;
- each also at batch size 32 (the default is 8): fewer, larger steps (a
  different recipe: its accuracy is not measured here).

    python -m benchmarks.ensemble_step
    python -m benchmarks.ensemble_step --quick      # 2 members, 1 epoch, 1 round

Writes benchmarks/results/ensemble_step.md.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from contextlib import contextmanager
from functools import partial

import numpy as np
import torch

from benchmarks._report import command, machine_header, write_report

SHAPES = {"GunPoint-sized": (50, 150, 1, 2), "BasicMotions-sized": (40, 100, 6, 4)}


@contextmanager
def squarings():
    """LRUTransition.final_state as it was: the generic solvers (squarings of A)."""
    from skwarp.core.transitions import LRUTransition, Transition

    closed_form = LRUTransition.final_state
    LRUTransition.final_state = Transition.final_state
    try:
        yield
    finally:
        LRUTransition.final_state = closed_form


def epoch_seconds(shape, n_members: int, batch_size: int, n_epochs: int, stacked: bool,
                  closed_form: bool) -> float:
    """Seconds per epoch of one ``fit_networks`` run (network building included)."""
    from dataclasses import replace

    from skwarp._training import Batch, Seeds, TrainingConfig, fit_networks
    from skwarp.classification import CLASSIFIER_NETWORK, classification_loss

    n_series, n_points, n_channels, n_classes = shape
    g = np.random.default_rng(0)
    x = g.standard_normal((n_series, n_points, n_channels)).astype(np.float32)
    y = np.arange(n_series) % n_classes
    train = Batch.from_numpy(x, np.full(n_series, n_points), y, torch.device("cpu"))
    spec = replace(CLASSIFIER_NETWORK, reference_length=n_points)
    config = TrainingConfig(n_epochs=n_epochs, batch_size=batch_size, lr=1e-3,
                            transition_lr=1e-3, optimizer="adamw", weight_decay=0.0,
                            grad_clip=1.0, lr_schedule="cosine", patience=20, verbose=False)
    loss = partial(classification_loss, decoding="last", solver="auto")
    with (squarings() if not closed_form else _nothing()):
        start = time.perf_counter()
        fit_networks(spec, n_channels, n_classes, train, None, lambda seeds: loss, config,
                     Seeds.from_random_state(0), n_members, stacked=stacked)
        return (time.perf_counter() - start) / n_epochs


@contextmanager
def _nothing():
    yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per timed fit")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.members, args.epochs, args.repeats = 2, 1, 1
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message=".*batching rule.*")  # vmap's lerp_ fallback
    variants = [("sequential, squarings", False, False), ("sequential, closed form", False, True),
                ("stacked", True, True)]
    rows = []
    for name, shape in SHAPES.items():
        times = {(v, b): [] for v in variants for b in (8, 32)}
        epoch_seconds(shape, args.members, 8, 1, True, True)  # warm-up
        for _ in range(args.repeats):
            for key in times:
                (label, stacked, closed_form), batch_size = key
                times[key].append(epoch_seconds(shape, args.members, batch_size, args.epochs,
                                                stacked, closed_form))
                print(name, label, batch_size, f"{times[key][-1]:.3f} s/epoch", flush=True)
        today = statistics.median(times[(variants[0], 8)])
        for (variant, batch_size), seconds in times.items():
            median = statistics.median(seconds)
            rows.append(f"| {name} | {variant[0]} | {batch_size} | {median:.3f} | "
                        f"{today / median:.2f}x |")
    lines = ["# Ensemble training step: members one after the other vs stacked", "",
             machine_header(), f"- command: `{command('ensemble_step')}`",
             f"- {args.members} members, WarpClassifier's default network, "
             f"{args.epochs} epochs per timed fit, median of {args.repeats} interleaved "
             "rounds, one torch thread", "",
             "| data | variant | batch size | s / epoch | speed-up vs sequential, "
             "squarings, batch 8 |", "|---|---|---|---|---|", *rows]
    write_report("ensemble_step", lines, quick=args.quick)


if __name__ == "__main__":
    main()
