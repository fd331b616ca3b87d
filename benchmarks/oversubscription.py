"""Wall time of a small GridSearchCV over WarpClassifier with n_jobs=2, torch
limited to one thread per fit (the default n_threads=1) against every core
per fit (n_threads=-1), side by side in one run.

With n_jobs=2 and n_threads=-1 on C cores, 2 x C torch threads compete for C
cores (oversubscription); n_threads=1 gives each worker one thread. The
configurations alternate over the repeats, so background load hits all alike.

    python benchmarks/oversubscription.py              # 3 repeats
    python benchmarks/oversubscription.py --repeats 1  # one repeat
    python benchmarks/oversubscription.py --quick      # 1 repeat, fewer epochs

Budget: BasicMotions train split (40 series, 6 channels, 100 steps), grid
root_width in {8, 16} x lr in {1e-3, 1e-2}, 3-fold CV (12 fits + 1 refit),
10 epochs per fit (3 with --quick). Writes benchmarks/results/oversubscription.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GridSearchCV
from sktime.datasets import load_basic_motions

from skwarp import WarpClassifier

sys.path.insert(0, str(Path(__file__).parent))
from _report import machine_header, write_report  # noqa: E402

GRID = {"root_width": [8, 16], "lr": [1e-3, 1e-2]}
CONFIGS = [(2, 1), (2, -1), (1, 1)]  # (n_jobs, n_threads)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run(X, y, n_jobs: int, n_threads: int, n_epochs: int) -> tuple[float, float]:
    """Wall seconds of the search and the mean fit seconds it reports."""
    estimator = WarpClassifier(n_epochs=n_epochs, n_threads=n_threads, device="cpu",
                               random_state=0)
    search = GridSearchCV(estimator, GRID, cv=3, n_jobs=n_jobs)
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, float(np.mean(search.cv_results_["mean_fit_time"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n_repeats, n_epochs = (1, 3) if args.quick else (args.repeats, 10)
    load_before = os.getloadavg()[0]
    X, y = load_basic_motions(split="train", return_type="numpy3D")
    cores = _cores()
    walls = {config: [] for config in CONFIGS}
    fits = {config: [] for config in CONFIGS}
    run(X, y, 2, 1, 1)  # warm-up: start the worker pool, load the libraries
    for repeat in range(n_repeats):
        for config in CONFIGS:
            wall, fit = run(X, y, *config, n_epochs)
            walls[config].append(wall)
            fits[config].append(fit)
            print(f"repeat {repeat}: n_jobs={config[0]} n_threads={config[1]:2d} "
                  f"wall {wall:.1f}s, mean fit {fit:.2f}s", flush=True)
    reference = np.median(walls[(2, 1)])
    load_after = os.getloadavg()[0]
    arguments = " --quick" if args.quick else \
        (f" --repeats {n_repeats}" if n_repeats != 3 else "")
    lines = ["# GridSearchCV(n_jobs=2): torch threads per fit", "", machine_header(),
             f"- command: `python benchmarks/oversubscription.py{arguments}`",
             f"- 1-minute load average {load_before:.1f} before, {load_after:.1f} after "
             "(other jobs share the machine)",
             f"- cores this process may use: {cores}; n_threads=-1 means {cores} per fit",
             f"- BasicMotions train (40 series), grid {GRID}, cv=3 (12 fits + refit), "
             f"{n_epochs} epochs per fit; {n_repeats} repeat(s), configurations "
             "alternating; median wall time", "",
             "| n_jobs | n_threads | torch threads at once | wall s (median) | per repeat | "
             "mean fit s | wall / (n_jobs=2, n_threads=1) |", "|---|---|---|---|---|---|---|"]
    for (n_jobs, n_threads), times in walls.items():
        per_fit = cores if n_threads == -1 else n_threads
        lines.append(
            f"| {n_jobs} | {n_threads} | {n_jobs * per_fit} on {cores} cores | "
            f"{np.median(times):.1f} | {', '.join(f'{t:.1f}' for t in times)} | "
            f"{np.median(fits[(n_jobs, n_threads)]):.2f} | "
            f"{np.median(times) / reference:.2f} |")
    write_report("oversubscription", lines, args.quick)


if __name__ == "__main__":
    main()
