"""WarpClassifier's defaults over random_state 0-4 on the official splits:
mean accuracy and spread (max - min) per dataset, with fit seconds.

    python -m benchmarks.seed_spread                       # BasicMotions, ArrowHead, GunPoint
    python -m benchmarks.seed_spread --datasets GunPoint --seeds 2

One torch thread per fit, ``--jobs`` fits at a time. Writes
benchmarks/results/seed_spread.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

from benchmarks._harness import (  # noqa: E402
    RESULTS,
    command,
    load_split,
    machine_header,
    markdown_table,
    write_report,
)


def fit_one(dataset: str, seed: int, params: dict) -> dict:
    import torch

    from skwarp import WarpClassifier

    torch.set_num_threads(1)
    X_train, y_train, X_test, y_test = load_split(dataset)
    clf = WarpClassifier(random_state=seed, **params)
    start = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    return {"dataset": dataset, "seed": seed, "fit_s": fit_s,
            "accuracy": float(clf.score(X_test, y_test))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+",
                        default=["BasicMotions", "ArrowHead", "GunPoint"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--params", type=json.loads, default={})
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    rows = Parallel(n_jobs=args.jobs)(delayed(fit_one)(d, s, args.params)
                                      for d in args.datasets for s in range(args.seeds))
    wall = time.perf_counter() - start
    lines = ["# WarpClassifier over seeds, official splits", "", machine_header(),
             f"- command: `{command('seed_spread')}`",
             f"- parameters on top of the defaults: `{json.dumps(args.params)}`; "
             f"random_state 0-{args.seeds - 1}; one torch thread per fit, {args.jobs} at a "
             f"time; wall {wall / 60:.1f} min", ""]
    table = []
    for dataset in args.datasets:
        mine = [r for r in rows if r["dataset"] == dataset]
        acc = [r["accuracy"] for r in mine]
        table.append([dataset, ", ".join(f"{a:.3f}" for a in acc), f"{np.mean(acc):.3f}",
                      f"{max(acc) - min(acc):.3f}",
                      f"{np.mean([r['fit_s'] for r in mine]):.1f}"])
    lines += markdown_table(["dataset", "accuracy per seed", "mean", "spread (max - min)",
                             "mean fit s"], table)
    print("\n".join(lines))
    write_report("seed_spread", lines)
    (RESULTS / "seed_spread.json").write_text(json.dumps({"params": args.params, "rows": rows},
                                                         indent=1))


if __name__ == "__main__":
    main()
