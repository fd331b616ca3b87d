"""Time and peak memory of the linear-recurrence solvers against the loop.

For every (task, T, D) each solver runs forward and forward+backward in a
fresh subprocess, so peak memory is not hidden by an earlier case; peak memory
is the resident-set growth over the call, sampled every millisecond (on CUDA:
torch's allocator peak, in one process, after a warm-up call). Ratios
are against the sequential loop measured in the same run (for the final state:
the plain loop differentiated by autograd, `_measure.autograd_dense_loop`).

    python -m benchmarks.scan                  # N=8, T in {256, 2048, 16384}, D in {64, 512}
    python -m benchmarks.scan --quick          # small sizes, a smoke test
    python -m benchmarks.scan --device cuda    # on a GPU (memory from torch.cuda)

Writes benchmarks/results/scan.md, whatever the device (scan_quick.md with
``--quick``); its header names the device.
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks._harness import machine_header, markdown_table, run_case, write_report
from benchmarks._measure import autograd_dense_loop, time_and_peak

N_SERIES, N_CHANNELS = 8, 6
SOLVERS = {"final": ["sequential", "parallel", "kernel"], "all": ["sequential", "parallel"]}


def _measure(task: str, method: str, n_steps: int, n_state: int, backward: bool,
             device: str, threads: int, repeats: int) -> dict:
    """Run one case in this process; returns seconds (best of repeats) and peak MB."""
    import torch

    from skwarp.core.scan import final_state, linear_scan

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    A = torch.eye(n_state) + 0.01 * torch.randn(n_state, n_state, generator=g) / n_state**0.5
    B = 0.1 * torch.randn(n_state, N_CHANNELS, generator=g)
    h0 = torch.randn(N_SERIES, n_state, generator=g)
    v = torch.randn(N_SERIES, n_steps, N_CHANNELS, generator=g)
    A, B, h0, v = (t.to(device).requires_grad_(backward and t is not v) for t in (A, B, h0, v))

    def run():
        if task == "final" and method == "sequential":
            out = autograd_dense_loop(A, B, v, h0)
        elif task == "final":
            out = final_state(A, B, v, h0, method=method)
        else:
            out = linear_scan(A, v @ B.T, h0, method=method)
        if backward:
            out.square().mean().backward()
        if device == "cuda":
            torch.cuda.synchronize()

    def drop_grads():
        for t in (A, B, h0):
            t.grad = None

    if device != "cuda":
        seconds, peak = time_and_peak(run, repeats=repeats, budget=float("inf"),
                                      reset=drop_grads)
        return {"seconds": seconds, "peak_mb": peak / 2**20}
    run()  # warm-up: kernel loading and cuBLAS handles stay out of the times
    drop_grads()
    peak, times = 0, []
    for _ in range(max(repeats, 3)):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        peak = max(peak, torch.cuda.max_memory_allocated() - base)
        drop_grads()
    return {"seconds": min(times), "peak_mb": peak / 2**20}


def _run_case(args, **case) -> dict:
    if case["device"] == "cuda":  # the allocator's own peak: no subprocess needed
        import torch

        try:
            return _measure(**case)
        except torch.cuda.OutOfMemoryError:
            torch.cuda.empty_cache()
            return {"seconds": float("nan"), "peak_mb": float("nan")}
    return run_case("benchmarks.scan", case, timeout=1800)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--states", nargs="+", type=int, help="state sizes D")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(_measure(**json.loads(args.case))))
        return

    lengths = [64, 256] if args.quick else [256, 2048, 16384]
    states = args.states or ([16, 64] if args.quick else [64, 512])
    rows = []
    for task, methods in SOLVERS.items():
        for n_state in states:
            for n_steps in lengths:
                for backward in (False, True):
                    results = {}
                    for method in methods:
                        repeats = 1 if n_steps * n_state >= 2048 * 512 else 3
                        results[method] = _run_case(
                            args, task=task, method=method, n_steps=n_steps,
                            n_state=n_state, backward=backward, device=args.device,
                            threads=args.threads, repeats=repeats)
                    loop = results["sequential"]
                    for method, r in results.items():
                        row = (task, n_steps, n_state, "fwd+bwd" if backward else "fwd",
                               method, r["seconds"], loop["seconds"] / r["seconds"],
                               r["peak_mb"], loop["peak_mb"] / max(r["peak_mb"], 1e-3))
                        rows.append(row)
                        task_, t, d, mode, name, sec, speed, peak, mem = row
                        print(f"{task_:5} T={t:<6} D={d:<4} {mode:8} {name:10} {sec:8.4f}s "
                              f"x{speed:6.2f} {peak:9.1f} MB x{mem:6.1f}", flush=True)
    _write(rows, args)


def _write(rows, args) -> None:
    lines = [
        "# Linear-recurrence solvers against the sequential loop", "",
        machine_header(),
        f"- N={N_SERIES} series, d={N_CHANNELS} input channels, float32, device "
        f"{args.device}, {args.threads} torch thread(s)",
        "- command: `python -m benchmarks.scan"
        + (" --quick" if args.quick else "") + f" --device {args.device}"
        + (f" --states {' '.join(map(str, args.states))}" if args.states else "") + "`",
        "- seconds NaN: out of device memory",
        "",
        "Task `final`: the last state only (classification); `all`: every state.",
        "Speed-up and memory ratio are the loop's time / peak over the solver's "
        "(higher is better). Peak memory is the growth of the resident set "
        "(CPU; sampled in a first call of its own, then timed without the sampler) or "
        "of torch's allocator (CUDA) over the call, inputs excluded.", "",
    ]
    headline = [r for r in rows if r[0] == "final" and r[1] == max(x[1] for x in rows)
                and r[2] == max(x[2] for x in rows) and r[3] == "fwd+bwd"
                and r[4] == "kernel"]
    for _, t, d, _, _, _, speed, peak, mem in headline:
        lines[lines.index("") + 1:lines.index("") + 1] = [
            f"**Headline**: final state at T={t}, D={d}, forward+backward: the kernel "
            f"path is {speed:.1f}x faster than the loop with autograd and uses "
            f"{mem:.1f}x less peak memory ({peak:.0f} MB).", ""]
    lines += markdown_table(
        ["task", "T", "D", "pass", "solver", "seconds", "speed-up vs loop", "peak MB",
         "memory ratio vs loop"],
        [[task, t, d, mode, method, f"{sec:.4f}", f"{speed:.2f}x", f"{peak:.1f}", f"{mem:.1f}x"]
         for task, t, d, mode, method, sec, speed, peak, mem in rows])
    write_report("scan", lines, args.quick)


if __name__ == "__main__":
    main()
