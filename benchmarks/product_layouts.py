"""The dense loop's product in its two layouts, the evidence for
``DenseFinalState`` holding states as columns.

One step of ``h_s = A h_{s-1} + u_s`` for a mini-batch of ``N`` states is one
``D x D`` product. Rows, ``(N, D)``: ``h @ A.T`` forwards and ``g @ A``
backwards; columns, ``(D, N)``: ``A @ h`` and ``A.T @ g``. Each is timed in
rounds (median of 20 calls per round, median over rounds), interleaved so all
see the same machine speed, with all torch threads.

    python benchmarks/product_layouts.py             # D = 1252, N = 40
    python benchmarks/product_layouts.py --state 452 --batch 16

Writes benchmarks/results/product_layouts.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).parent)]
from _report import machine_header, write_report  # noqa: E402


def products(n_state: int, batch: int) -> dict:
    A = torch.randn(n_state, n_state)
    rows, bias_rows = torch.randn(batch, n_state), torch.randn(batch, n_state)
    columns, bias_columns = rows.T.contiguous(), bias_rows.T.contiguous()
    A_t = A.T.contiguous()
    return {
        "forward, rows: addmm(u, h, A.T)": lambda: torch.addmm(bias_rows, rows, A.T),
        "forward, columns: addmm(u, A, h)": lambda: torch.addmm(bias_columns, A, columns),
        "backward, rows: g @ A": lambda: rows @ A,
        "backward, columns: A.T (a view) @ g": lambda: A.T @ columns,
        "backward, columns: A.T (contiguous) @ g": lambda: A_t @ columns,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=int, default=1252)
    parser.add_argument("--batch", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    runs = products(args.state, args.batch)
    for run in runs.values():
        for _ in range(5):
            run()
    seconds = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            calls = []
            for _ in range(20):
                start = time.perf_counter()
                run()
                calls.append(time.perf_counter() - start)
            seconds[name].append(statistics.median(calls))
    flop = 2 * args.batch * args.state**2
    lines = ["# The dense loop's product in rows and in columns", "", machine_header(),
             f"- command: `python benchmarks/product_layouts.py --state {args.state} "
             f"--batch {args.batch} --rounds {args.rounds}`; {torch.get_num_threads()} "
             "torch thread(s)", "",
             f"D = {args.state}, N = {args.batch}: milliseconds per product, median over "
             f"{args.rounds} interleaved rounds of 20 calls.", "",
             "| product | ms | GFLOP/s |", "|---|---|---|"]
    for name, values in seconds.items():
        median = statistics.median(values)
        lines.append(f"| {name} | {median * 1e3:.3f} | {flop / median / 1e9:.0f} |")
        print(lines[-1], flush=True)
    write_report("product_layouts", lines)


if __name__ == "__main__":
    main()
