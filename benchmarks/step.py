"""One WARP training step at the shapes the authors' JAX code was timed at.

A step is what ``WarpClassifier.fit`` does per mini-batch: the final state
(forward), the root network at tau = 1, cross-entropy, backward, gradient
clipping and an AdamW step with the transition in its own group. It runs with
the estimators' ``auto`` solver and with the sequential loop (a naive torch
implementation), on each device asked for, in one process. The JAX seconds are
the authors' code on the 2-core development CPU (developers' guide); ratios
against them are only meaningful for rows from that CPU.

    python benchmarks/step.py                        # CPU, all cores
    python benchmarks/step.py --devices cuda cpu     # GPU and its host's CPU
    python benchmarks/step.py --quick                # tiny shapes, a smoke test

Writes benchmarks/results/step.md (``step_<devices>.md`` for other devices).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]
from _report import machine_header, write_report  # noqa: E402

# (T, D, batch) and the JAX seconds per training step on the 2-core CPU
JAX_CASES = {(100, 1252, 40): 0.17, (1460, 1450, 32): 2.6, (4096, 453, 16): 0.69}
QUICK_CASES = {(50, 200, 8): float("nan"), (300, 120, 4): float("nan")}
N_CHANNELS, N_CLASSES = 3, 4
METHODS = ("auto", "sequential")


def root_width_for(n_state: int) -> int:
    """The root width whose WarpNetwork state size is closest to ``n_state``."""
    from skwarp.core.root import RootNetwork

    return min(range(1, 512), key=lambda w: abs(
        RootNetwork(9, N_CLASSES, w, 1, "relu").n_params - n_state))


def make_step(n_steps: int, n_state: int, batch: int, method: str, device: str):
    """A closure running one training step, and the network's state size."""
    from skwarp._training import TrainingConfig, make_optimizer
    from skwarp.core.warp import WarpNetwork

    torch.manual_seed(0)
    network = WarpNetwork(N_CHANNELS, N_CLASSES, root_width=root_width_for(n_state))
    network.to(device)
    config = TrainingConfig(n_epochs=1, batch_size=batch, lr=1e-3, transition_lr=1e-4,
                            optimizer="adamw", weight_decay=0.0, grad_clip=1.0,
                            lr_schedule="constant", patience=1, verbose=False)
    optimizer = make_optimizer(network, config)
    x = torch.randn(batch, n_steps, N_CHANNELS, device=device).cumsum(1) / n_steps**0.5
    y = torch.randint(N_CLASSES, (batch,), device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(network(x, method=method), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
        optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()

    return step, network.n_params


def time_step(step, device: str, repeats: int, budget: float) -> tuple[float, float]:
    """Median seconds over up to ``repeats`` steps after one warm-up step, and
    peak memory in MB (CUDA allocator; NaN on the CPU)."""
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    step()  # warm-up: kernels, allocator, optimizer state
    seconds: list[float] = []
    while len(seconds) < repeats and sum(seconds) < budget:
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    peak = (torch.cuda.max_memory_allocated() - base) / 2**20 if device == "cuda" \
        else float("nan")
    return statistics.median(seconds), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--devices", nargs="+", default=["cpu"], choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds of timed steps per case, after the warm-up")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cases = QUICK_CASES if args.quick else JAX_CASES

    rows = []
    for (n_steps, n_state, batch), jax_seconds in cases.items():
        for device in args.devices:
            for method in METHODS:
                step, actual_state = make_step(n_steps, n_state, batch, method, device)
                seconds, peak = time_step(step, device, args.repeats, args.budget)
                rows.append((n_steps, actual_state, batch, device, method, seconds, peak,
                             jax_seconds / seconds))
                print(f"T={n_steps:<5} D={actual_state:<5} N={batch:<3} {device:4} "
                      f"{method:10} {seconds:8.4f} s  {peak:8.1f} MB  "
                      f"JAX/skwarp {jax_seconds / seconds:6.2f}", flush=True)
    _write(rows, args)


def _write(rows, args) -> None:
    command = "python benchmarks/step.py" + (" --quick" if args.quick else "") + \
        ("" if args.devices == ["cpu"] else " --devices " + " ".join(args.devices))
    lines = ["# One WARP training step at the JAX reference shapes", "", machine_header(),
             f"- command: `{command}`; {args.threads} torch CPU thread(s)",
             f"- d={N_CHANNELS} channels, {N_CLASSES} classes; the root width is chosen "
             "so that D (the state size: the root network's weights) is nearest the "
             "JAX shape's; batches are random walks", "",
             "`auto` is the estimators' solver (the chunked-kernel final state, or "
             "the loop where that is cheaper: short series on a CPU); "
             "`sequential` is the plain loop. Seconds: median over up to "
             f"{args.repeats} steps after a warm-up step. JAX: the authors' code, "
             "one step on the 2-core development CPU; the ratio is JAX seconds over "
             "ours (above 1: we are faster).", "",
             "| T | D | batch | device | solver | seconds per step | peak MB (CUDA) | "
             "JAX s | JAX / skwarp | loop / auto |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        n_steps, n_state, batch, device, method, seconds, peak, ratio = row
        loop = next(r[5] for r in rows if r[:4] == row[:4] and r[4] == "sequential")
        jax_seconds = seconds * ratio
        lines.append(f"| {n_steps} | {n_state} | {batch} | {device} | {method} | "
                     f"{seconds:.4f} | {peak:.0f} | {jax_seconds:.2f} | {ratio:.2f} | "
                     f"{loop / seconds:.2f} |")
    stem = "step" if args.devices == ["cpu"] else "step_" + "_".join(args.devices)
    write_report(stem, lines, args.quick)


if __name__ == "__main__":
    main()
