"""One WARP training step at the shapes the authors' JAX code was timed at.

A step is what ``WarpClassifier.fit`` does per mini-batch: the final state
(forward), the root network at tau = 1, cross-entropy, backward, gradient
clipping and an AdamW step with the transition in its own group. Two network
configurations: "paper" (dense ``A`` from the identity, input differences, no
embedding) and "defaults" (WarpClassifier's default network: conv embedding,
LRU transition, value drive). Solvers: the estimators' ``auto``, the sequential
loop (for a dense ``A`` with its own backward, ``DenseFinalState``), and
``autograd``: the same loop differentiated by autograd step by step, the naive
torch implementation. On each device asked for, in one process.

The FLOP bound of the paper step is measured in the same run: one product of
the step's shape, ``(batch, D) x (D, D)``, timed alone (median of many), times
``3 T``: the forward loop, the backward loop and the gradient of ``A`` are each
``T`` such products' worth of arithmetic. The JAX seconds are
the authors' code on the 2-core development CPU (developers' guide); ratios
against them are only meaningful for rows from that CPU.

    python benchmarks/step.py                        # CPU, all cores
    python benchmarks/step.py --devices cuda cpu     # GPU and its host's CPU
    python benchmarks/step.py --quick                # tiny shapes, a smoke test

Writes benchmarks/results/step.md and step.json (``step_<devices>.*`` for other
devices).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]
from _measure import autograd_dense_loop  # noqa: E402
from _report import machine_header, write_report  # noqa: E402

# (T, D, batch) and the JAX seconds per training step on the 2-core CPU
JAX_CASES = {(100, 1252, 40): 0.17, (1460, 1450, 32): 2.6, (4096, 453, 16): 0.69}
QUICK_CASES = {(50, 200, 8): float("nan"), (300, 120, 4): float("nan")}
N_CHANNELS, N_CLASSES = 3, 4
METHODS = ("auto", "sequential", "autograd")
# WarpClassifier's default network (checked against its signature in main when
# sktime is installed; the GPU machine has no sktime)
DEFAULT_NETWORK = {"transition": "lru", "transition_radius": (0.99, 0.99999),
                   "transition_phase": 0.0, "embedding": "conv", "embedding_width": 32,
                   "embedding_layers": 3, "embedding_kernel": 9, "causal_embedding": False,
                   "embedding_dilated": False, "embedding_norm": True, "drive": "value"}
CONFIGS = {"paper": {}, "defaults": DEFAULT_NETWORK}


def root_width_for(n_state: int) -> int:
    """The root width whose WarpNetwork state size is closest to ``n_state``."""
    from skwarp.core.root import RootNetwork

    return min(range(1, 512), key=lambda w: abs(
        RootNetwork(9, N_CLASSES, w, 1, "relu").n_params - n_state))


def check_default_network() -> None:
    try:
        from skwarp import WarpClassifier
    except ImportError:
        return
    signature = inspect.signature(WarpClassifier.__init__).parameters
    drifted = {k: v for k, v in DEFAULT_NETWORK.items() if signature[k].default != v}
    assert not drifted, f"DEFAULT_NETWORK differs from WarpClassifier's defaults: {drifted}"


def make_step(n_steps: int, n_state: int, batch: int, method: str, device: str,
              config: str):
    """A closure running one training step, and the network's state size."""
    from skwarp._training import TrainingConfig, make_optimizer
    from skwarp.core.warp import WarpNetwork

    torch.manual_seed(0)
    extra = {"reference_length": n_steps} if config == "defaults" else {}
    network = WarpNetwork(N_CHANNELS, N_CLASSES, root_width=root_width_for(n_state),
                          **CONFIGS[config], **extra)
    network.to(device)
    config = TrainingConfig(n_epochs=1, batch_size=batch, lr=1e-3, transition_lr=1e-4,
                            optimizer="adamw", weight_decay=0.0, grad_clip=1.0,
                            lr_schedule="constant", patience=1, verbose=False)
    optimizer = make_optimizer(network, config)
    x = torch.randn(batch, n_steps, N_CHANNELS, device=device).cumsum(1) / n_steps**0.5
    y = torch.randint(N_CLASSES, (batch,), device=device)

    solver = "sequential" if method == "autograd" else method

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(network(x, method=solver), y)
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

    check_default_network()
    rows = []
    for (n_steps, n_state, batch), jax_seconds in cases.items():
        for device in args.devices:
            bound = flop_bound(n_steps, n_state, batch, device)
            first_row = len(rows)
            for config in CONFIGS:
                for method in METHODS:
                    if method == "autograd" and config != "paper":
                        continue  # DenseFinalState serves dense transitions only
                    step, actual_state = make_step(n_steps, n_state, batch, method, device,
                                                   config)
                    with naive_dense_loop(method == "autograd"):
                        seconds, peak = time_step(step, device, args.repeats, args.budget)
                    rows.append({"T": n_steps, "D": actual_state, "batch": batch,
                                 "device": device, "config": config, "solver": method,
                                 "seconds": seconds, "peak_mb": peak,
                                 "flop_bound_s": bound if config == "paper" else None,
                                 "jax_s": jax_seconds})
                    print(f"T={n_steps:<5} D={actual_state:<5} N={batch:<3} {device:4} "
                          f"{config:8} {method:10} {seconds:8.4f} s  {peak:8.1f} MB  "
                          f"bound {bound:.4f} s  JAX/skwarp {jax_seconds / seconds:6.2f}",
                          flush=True)
            # the hardware's rate: the faster of the products timed before and
            # after this shape's steps (the shared machine's speed drifts)
            bound = min(bound, flop_bound(n_steps, n_state, batch, device))
            for row in rows[first_row:]:
                if row["config"] == "paper":
                    row["flop_bound_s"] = bound
    _write(rows, args)


def flop_bound(n_steps: int, n_state: int, batch: int, device: str) -> float:
    """``3 T`` times the median time of one ``(batch, D) x (D, D)`` product."""
    from skwarp.core.root import RootNetwork

    D = RootNetwork(9, N_CLASSES, root_width_for(n_state), 1, "relu").n_params
    h, A = torch.randn(batch, D, device=device), torch.randn(D, D, device=device)
    times = []
    for _ in range(max(20, min(200, int(2e10 / (2 * batch * D * D))))):
        start = time.perf_counter()
        h @ A
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return 3 * n_steps * statistics.median(times[2:])


@contextlib.contextmanager
def naive_dense_loop(enabled: bool):
    """Route the dense loop through autograd instead of DenseFinalState."""
    from skwarp.core import scan

    original = scan.DenseFinalState.apply
    if enabled:
        scan.DenseFinalState.apply = autograd_dense_loop
    try:
        yield
    finally:
        scan.DenseFinalState.apply = original


def _write(rows, args) -> None:
    command = "python benchmarks/step.py" + (" --quick" if args.quick else "") + \
        ("" if args.devices == ["cpu"] else " --devices " + " ".join(args.devices))
    lines = ["# One WARP training step at the JAX reference shapes", "", machine_header(),
             f"- command: `{command}`; {args.threads} torch CPU thread(s)",
             f"- d={N_CHANNELS} channels, {N_CLASSES} classes; the root width is chosen "
             "so that D (the state size: the root network's weights) is nearest the "
             "JAX shape's; batches are random walks", "",
             "config `paper`: dense `A` from the identity, input differences, no "
             "embedding; `defaults`: WarpClassifier's default network (conv embedding, "
             "LRU, value drive). Solver `auto` is the estimators' (the chunked-kernel "
             "final state, or the loop where that is cheaper: short series on a CPU); "
             "`sequential` is the loop (dense: `DenseFinalState`, its own backward); "
             "`autograd` the dense loop differentiated step by step by autograd. "
             f"Seconds: median over up to {args.repeats} steps after a warm-up step. "
             "FLOP bound (paper rows): 3 T times one `(batch, D) x (D, D)` product timed "
             "alone in this run (median of many, the faster of before and after the "
             "shape's steps). JAX: the authors' code, one step on the 2-core "
             "development CPU; the ratio is JAX seconds over ours (above 1: we are "
             "faster).", "",
             "| T | D | batch | device | config | solver | seconds per step | "
             "FLOP bound s | step / bound | peak MB (CUDA) | JAX s | JAX / skwarp |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        bound = row["flop_bound_s"]
        bound_cells = "- | -" if bound is None else \
            f"{bound:.4f} | {row['seconds'] / bound:.2f}"
        lines.append(f"| {row['T']} | {row['D']} | {row['batch']} | {row['device']} | "
                     f"{row['config']} | {row['solver']} | {row['seconds']:.4f} | "
                     f"{bound_cells} | {row['peak_mb']:.0f} | {row['jax_s']:.2f} | "
                     f"{row['jax_s'] / row['seconds']:.2f} |")
    stem = "step" if args.devices == ["cpu"] else "step_" + "_".join(args.devices)
    out = write_report(stem, lines, args.quick)
    keys = ("T", "D", "batch", "device", "config", "solver", "seconds", "flop_bound_s")
    out.with_suffix(".json").write_text(json.dumps(
        {"rows": [{k: row[k] for k in keys} for row in rows]}, indent=1))


if __name__ == "__main__":
    main()
