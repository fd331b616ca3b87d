"""Cost of ``WarpForecaster.update(update_params=False)`` against ``fit``.

    python -m benchmarks.update            # 5 repeats
    python -m benchmarks.update --quick    # 2 repeats

A monthly series of 1,132 points: fit on the first 132 (30 epochs, root width
8, one torch thread), then update with the remaining 1,000 without changing
the weights (one pass of the recurrence over the new points). Writes
benchmarks/results/update.md (or update_quick.md). This measurement replaced a
timing assertion in the test suite, which flaked on a loaded machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch

from benchmarks._harness import command, machine_header, markdown_table, write_report
from skwarp import WarpForecaster

PARAMS = {"context_length": 6, "horizon_length": 4, "n_epochs": 30, "epoch_size": None,
          "root_width": 8,
          "n_frequencies": 1, "init_layers": 1, "n_samples": 20, "device": "cpu",
          "n_threads": 1}


def measure(seed: int) -> tuple[float, float]:
    index = pd.period_range("1900-01", periods=1132, freq="M")
    t = np.arange(1132)
    y = pd.Series(100 + 10 * np.sin(2 * np.pi * t / 12) + 0.2 * t, index=index)
    start = time.perf_counter()
    forecaster = WarpForecaster(**PARAMS, random_state=seed).fit(y[:132])
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    forecaster.update(y[132:], update_params=False)
    return fit_seconds, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [measure(seed) for seed in range(2 if args.quick else 5)]
    lines = ["# update(update_params=False) against fit", "", machine_header(),
             f"- command: `{command('update')}`",
             f"- WarpForecaster({', '.join(f'{k}={v!r}' for k, v in PARAMS.items())}); fit on "
             "132 points, update with 1,000", ""]
    lines += markdown_table(["seed", "fit s", "update s", "update / fit"],
                            [[seed, f"{fit:.3f}", f"{update:.4f}", f"{update / fit:.2%}"]
                             for seed, (fit, update) in enumerate(rows)])
    ratios = [update / fit for fit, update in rows]
    lines += ["", f"Median update / fit: {np.median(ratios):.2%} "
              f"(largest {max(ratios):.2%})."]
    print("\n".join(lines[-len(rows) - 4:]))
    write_report("update", lines, args.quick)


if __name__ == "__main__":
    main()
