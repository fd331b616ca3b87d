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

The FLOP bound of the paper step is measured in the same run, interleaved
with the steps (after each timed step, so both see the same machine speed):
``3 T`` back-to-back products of the step's shape, ``(batch, D) x (D, D)`` or
``(D, D) x (D, batch)``, whichever BLAS runs faster, timed as one (median over
the steps): the forward loop, the backward loop and the gradient of ``A`` are
each ``T`` such products' worth of arithmetic. The quoted JAX seconds are
the authors' code on the 2-core development CPU on another day (developers'
guide); ratios against them are only meaningful for rows from that CPU. With
``--jax-python`` and ``--warp-src``, the JAX step is also timed in this run:
``benchmarks._jax_reference`` (the authors' model imported from their checkout,
our training step) runs under that Python in a subprocess right after each
shape's torch rows, at the root width and depth whose state size is nearest the
shape's.

    python -m benchmarks.step                        # CPU, all cores
    python -m benchmarks.step --devices cuda cpu     # GPU and its host's CPU
    python -m benchmarks.step --quick                # tiny shapes, a smoke test
    python -m benchmarks.step --jax-python ../jaxenv/bin/python --warp-src ../warp

Writes benchmarks/results/step.md and step.json, whatever the devices (the
header names them).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import statistics
import subprocess
import sys
import time

import torch

from benchmarks._harness import ROOT, machine_header, markdown_table, write_report
from benchmarks._measure import autograd_dense_loop

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
                   "embedding_dilated": False, "embedding_norm": True, "drive": "value",
                   "running_average": True}
CONFIGS = {"paper": {}, "defaults": DEFAULT_NETWORK}


def root_width_for(n_state: int) -> int:
    """The root width whose WarpNetwork state size is closest to ``n_state``."""
    from skwarp.core.root import RootNetwork

    return min(range(1, 512), key=lambda w: abs(
        RootNetwork(9, N_CLASSES, w, 1, "relu").n_params - n_state))


def authors_root(n_state: int) -> tuple[int, int]:
    """The (width, depth) of the authors' classification root (an MLP from the
    time to the class logits) whose weight count is nearest ``n_state``; depth 2
    (their UEA configurations' usual depth) on ties."""

    def count(width: int, depth: int) -> int:
        return 2 * width + (depth - 1) * (width + 1) * width + (width + 1) * N_CLASSES

    return min(((w, d) for d in (2, 1) for w in range(1, 1024)),
               key=lambda wd: abs(count(*wd) - n_state))


def jax_reference(args, n_steps: int, n_state: int, batch: int) -> dict | None:
    """One run of ``benchmarks._jax_reference`` under ``--jax-python``, with the
    authors' checkout on its ``PYTHONPATH``: its JSON line plus the root's shape."""
    width, depth = authors_root(n_state)
    command = [args.jax_python, "-m", "benchmarks._jax_reference",
               "--warp-src", args.warp_src, "--steps", str(n_steps), "--batch", str(batch),
               "--root-width", str(width), "--root-depth", str(depth),
               "--channels", str(N_CHANNELS), "--classes", str(N_CLASSES),
               "--repeats", str(args.repeats)]
    env = {**os.environ, "PYTHONPATH": os.path.abspath(args.warp_src)}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        print(f"JAX reference failed (exit {done.returncode}):\n{done.stderr[-2000:]}",
              file=sys.stderr, flush=True)
        return None
    return {**result, "root_width": width, "root_depth": depth}


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
    from skwarp.core.warp import WarpNetwork

    torch.manual_seed(0)
    extra = {"reference_length": n_steps} if config == "defaults" else {}
    network = WarpNetwork(N_CHANNELS, N_CLASSES, root_width=root_width_for(n_state),
                          **CONFIGS[config], **extra)
    network.to(device)
    # the estimators' optimizer: AdamW, the transition in a group of its own
    named = list(network.named_parameters())
    groups = [{"params": [p for n, p in named if not n.startswith("transition.")],
               "lr": 1e-3},
              {"params": [p for n, p in named if n.startswith("transition.")], "lr": 1e-4}]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]], weight_decay=0.0)
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


def time_step(step, device: str, repeats: int, budget: float,
              bound=None) -> tuple[float, float, float | None]:
    """Median seconds over up to ``repeats`` steps after one warm-up step, peak
    memory in MB (CUDA allocator; NaN on the CPU) and, with ``bound`` (a
    closure running the bound's products), the median seconds of ``bound``
    timed right after each step: step and bound see the same machine speed,
    which drifts on a shared host."""
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    step()  # warm-up: kernels, allocator, optimizer state
    seconds: list[float] = []
    bounds: list[float] = []
    while len(seconds) < repeats and sum(seconds) < budget:
        seconds.append(_seconds(step, device))
        if bound is not None:
            bounds.append(_seconds(bound, device))
    peak = (torch.cuda.max_memory_allocated() - base) / 2**20 if device == "cuda" \
        else float("nan")
    return statistics.median(seconds), peak, statistics.median(bounds) if bounds else None


def _seconds(run, device: str) -> float:
    start = time.perf_counter()
    run()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--devices", nargs="+", default=["cpu"], choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=30.0,
                        help="seconds of timed steps per case, after the warm-up")
    parser.add_argument("--jax-python", metavar="PATH",
                        help="a Python with jax, equinox and optax, for a same-run JAX step")
    parser.add_argument("--warp-src", metavar="DIR", help="a checkout of ddrous/warp")
    args = parser.parse_args()
    if (args.jax_python is None) != (args.warp_src is None):
        parser.error("--jax-python and --warp-src go together")
    torch.set_num_threads(args.threads)
    cases = QUICK_CASES if args.quick else JAX_CASES

    check_default_network()
    rows, jax_runs = [], {}
    for (n_steps, n_state, batch), jax_seconds in cases.items():
        shape_first_row = len(rows)
        for device in args.devices:
            bound = bound_products(n_steps, n_state, batch, device)
            for config in CONFIGS:
                for method in METHODS:
                    if method == "autograd" and config != "paper":
                        continue  # DenseFinalState serves dense transitions only
                    step, actual_state = make_step(n_steps, n_state, batch, method, device,
                                                   config)
                    with naive_dense_loop(method == "autograd"):
                        seconds, peak, bound_s = time_step(
                            step, device, args.repeats, args.budget,
                            bound if config == "paper" else None)
                    rows.append({"T": n_steps, "D": actual_state, "batch": batch,
                                 "device": device, "config": config, "solver": method,
                                 "seconds": seconds, "peak_mb": peak, "flop_bound_s": bound_s,
                                 "jax_s": jax_seconds, "jax_run_s": None})
                    bound_text = "" if bound_s is None else f"bound {bound_s:.4f} s  "
                    print(f"T={n_steps:<5} D={actual_state:<5} N={batch:<3} {device:4} "
                          f"{config:8} {method:10} {seconds:8.4f} s  {peak:8.1f} MB  "
                          f"{bound_text}JAX/skwarp {jax_seconds / seconds:6.2f}", flush=True)
        if args.jax_python:  # right after this shape's torch rows
            run = jax_runs[n_steps, n_state, batch] = jax_reference(args, n_steps, n_state,
                                                                    batch)
            if run is not None:
                print(f"T={n_steps:<5} D={run['D']:<5} N={batch:<3} JAX {run['platform']} "
                      f"(root {run['root_width']}x{run['root_depth']}) "
                      f"{run['seconds']:8.4f} s", flush=True)
                for row in rows[shape_first_row:]:
                    row["jax_run_s"] = run["seconds"]
    _write(rows, args, jax_runs)


def bound_products(n_steps: int, n_state: int, batch: int, device: str):
    """A closure running the FLOP bound's arithmetic: ``3 T`` products of the
    step's shape, in the faster of its two layouts, ``(batch, D) x (D, D)`` or
    ``(D, D) x (D, batch)`` (BLAS runs them at different rates; the faster is
    picked on a median of 20 products each)."""
    from skwarp.core.root import RootNetwork

    D = RootNetwork(9, N_CLASSES, root_width_for(n_state), 1, "relu").n_params
    h, A = torch.randn(batch, D, device=device), torch.randn(D, D, device=device)
    h_columns = h.T.contiguous()
    layouts = (lambda: h @ A, lambda: A @ h_columns)
    product = min(layouts, key=lambda p: statistics.median(
        _seconds(p, device) for _ in range(20)))

    def run() -> None:
        for _ in range(3 * n_steps):
            product()

    return run


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


def _write(rows, args, jax_runs) -> None:
    command = "python -m benchmarks.step" + (" --quick" if args.quick else "") + \
        ("" if args.devices == ["cpu"] else " --devices " + " ".join(args.devices)) + \
        (f" --jax-python {args.jax_python} --warp-src {args.warp_src}" if args.jax_python
         else "")
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
             "FLOP bound (paper rows): 3 T back-to-back `(batch, D) x (D, D)` products (or "
             "`(D, D) x (D, batch)`, the faster), timed right after each of the row's steps "
             "(median), so step and bound see the same machine speed. JAX s: the authors' code, "
             "one step on the 2-core development CPU, measured on another day (quoted "
             "constants); the ratio is JAX seconds over ours (above 1: we are faster).", "",
             _jax_run_text(jax_runs, args.repeats), ""]
    table = []
    for row in rows:
        bound, run = row["flop_bound_s"], row["jax_run_s"]
        table.append([
            row["T"], row["D"], row["batch"], row["device"], row["config"], row["solver"],
            f"{row['seconds']:.4f}",
            *(["-", "-"] if bound is None else [f"{bound:.4f}", f"{row['seconds'] / bound:.2f}"]),
            f"{row['peak_mb']:.0f}", f"{row['jax_s']:.2f}", f"{row['jax_s'] / row['seconds']:.2f}",
            *(["-", "-"] if run is None else [f"{run:.4f}", f"{run / row['seconds']:.2f}"])])
    lines += markdown_table(
        ["T", "D", "batch", "device", "config", "solver", "seconds per step", "FLOP bound s",
         "step / bound", "peak MB (CUDA)", "JAX s", "JAX / skwarp", "JAX this run s",
         "JAX this run / skwarp"], table)
    out = write_report("step", lines, args.quick)
    keys = ("T", "D", "batch", "device", "config", "solver", "seconds", "flop_bound_s",
            "jax_run_s")
    out.with_suffix(".json").write_text(json.dumps(
        {"rows": [{k: row[k] for k in keys} for row in rows]}, indent=1))


def _jax_run_text(jax_runs, repeats: int) -> str:
    if not jax_runs:
        return ("JAX this run: not measured (run with `--jax-python` and `--warp-src`); "
                "`-` in its columns.")
    done = [r for r in jax_runs.values() if r is not None]
    about = "" if not done else (
        f"jax {done[0]['jax']} on {done[0]['platform']}, ddrous/warp checkout at "
        f"{done[0]['commit'] or 'an unknown commit'}; ")
    shapes = "; ".join(
        f"({t}, {d}, {n}): " + ("failed, `-`" if r is None else
                                f"D = {r['D']}, root width {r['root_width']}, "
                                f"depth {r['root_depth']}")
        for (t, d, n), r in jax_runs.items())
    return ("JAX this run: the authors' model (their `WSM` classifier, imported from "
            "their checkout, not vendored) with our own jitted training step "
            "(cross-entropy of the last step's logits, value and gradient, gradient "
            "clipping and AdaBelief as in their UEA configurations), timed by "
            "`benchmarks._jax_reference` in a subprocess right after each shape's "
            f"torch rows, so on the same machine state: median over {repeats} steps "
            f"after compilation and two warm-up steps; {about}the root is the one whose "
            f"state size is nearest the shape's: {shapes}.")


if __name__ == "__main__":
    main()
