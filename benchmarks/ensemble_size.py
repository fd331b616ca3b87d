"""How WarpClassifier's accuracy and its spread over seeds depend on ``n_networks``.

For each dataset and seed one classifier with ``n_networks=K_max`` is fitted;
its first ``k`` networks are exactly the ``n_networks=k`` model with the same
``random_state`` (network ``i`` is seeded from ``random_state`` and ``i``), so
one fit per seed scores every ensemble size from 1 to ``K_max``. Modes as in
``benchmarks.ablation``: "test" scores on the official test split, "select" on a
stratified third of the training split. One torch thread per fit, ``--jobs``
fits at a time.

    python -m benchmarks.ensemble_size --datasets ArrowHead GunPoint --seeds 5 --jobs 2
    python -m benchmarks.ensemble_size --quick

Writes benchmarks/results/ensemble_size.md and .json.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

from benchmarks._harness import command, machine_header, markdown_table, write_report  # noqa: E402
from benchmarks.ablation import fit_and_eval_data  # noqa: E402

SCORED_ON = {"test": "official test split",
             "select": "a stratified third of the training split"}


def run_one(dataset: str, seed: int, mode: str, max_networks: int, params: dict) -> list:
    """Accuracy of the first k networks, k = 1 .. max_networks, and fit seconds."""
    import torch

    from skwarp import WarpClassifier

    torch.set_num_threads(1)
    X_fit, y_fit, X_eval, y_eval = fit_and_eval_data(dataset, seed, mode)
    clf = WarpClassifier(random_state=seed, **{**params, "n_networks": max_networks})
    start = time.perf_counter()
    clf.fit(X_fit, y_fit)
    fit_s = time.perf_counter() - start
    rows = []
    for k in range(1, max_networks + 1):
        first = copy.copy(clf)
        first.networks_ = clf.networks_[:k]
        rows.append({"dataset": dataset, "seed": seed, "n_networks": k,
                     "accuracy": float(first.score(X_eval, y_eval)),
                     "fit_s": fit_s * k / max_networks})
    print(dataset, seed, [round(r["accuracy"], 3) for r in rows], f"{fit_s:.0f} s",
          flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("select", "test"), default="test")
    parser.add_argument("--datasets", nargs="+", default=["ArrowHead", "GunPoint"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-networks", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 epochs, 2 seeds")
    args = parser.parse_args()
    params = {"n_epochs": 2} if args.quick else {}
    seeds = range(2 if args.quick else args.seeds)
    start = time.perf_counter()
    results = Parallel(n_jobs=args.jobs)(
        delayed(run_one)(d, s, args.mode, args.max_networks, params)
        for d in args.datasets for s in seeds)
    rows = [row for result in results for row in result]
    report(rows, args, time.perf_counter() - start)


def report(rows: list, args, wall_s: float) -> None:
    lines = ["# WarpClassifier: accuracy and seed spread by n_networks", "",
             machine_header(), f"- command: `{command('ensemble_size')}`",
             f"- scored on: {SCORED_ON[args.mode]}; "
             f"wall {wall_s / 60:.1f} min; fit seconds of k networks are k/K_max of the "
             "K_max-network fit", "",
             "Mean accuracy over seeds, spread (max - min) in brackets, and mean fit "
             "seconds per seed; every other parameter at its default.", ""]
    table = []
    for k in range(1, args.max_networks + 1):
        cells, fit = [], 0.0
        for dataset in args.datasets:
            acc = [r["accuracy"] for r in rows if r["dataset"] == dataset and
                   r["n_networks"] == k]
            fit += np.mean([r["fit_s"] for r in rows if r["dataset"] == dataset and
                            r["n_networks"] == k])
            cells.append(f"{np.mean(acc):.3f} ({np.ptp(acc):.3f})")
        table.append([k, *cells, f"{fit:.0f}"])
    lines += markdown_table(["n_networks", *args.datasets, "fit s"], table)
    lines += ["", "Per seed:", ""]
    lines += markdown_table(
        ["dataset", "n_networks", *(f"seed {s}" for s in sorted({r["seed"] for r in rows}))],
        [[dataset, k, *(f"{r['accuracy']:.3f}" for r in sorted(rows, key=lambda r: r["seed"])
                        if r["dataset"] == dataset and r["n_networks"] == k)]
         for dataset in args.datasets for k in range(1, args.max_networks + 1)])
    out = write_report("ensemble_size", lines, args.quick)
    out.with_suffix(".json").write_text(json.dumps({"mode": args.mode, "rows": rows},
                                                   indent=1))


if __name__ == "__main__":
    main()
