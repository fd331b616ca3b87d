"""Evidence for WarpClassifier's defaults: accuracy over seeds of the defaults
and of single-parameter variants, on BasicMotions and GunPoint.

    python benchmarks/defaults.py            # 5 seeds (BasicMotions), 3 (GunPoint)
    python benchmarks/defaults.py --quick    # 2 seeds, fewer variants

Writes benchmarks/results/defaults.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sktime.datasets import load_basic_motions, load_gunpoint

from skwarp import WarpClassifier

sys.path.insert(0, str(Path(__file__).parent))
from _report import machine_header, write_report  # noqa: E402

VARIANTS = {
    "defaults": {},
    "input_noise=0 (no regularisation, as in the paper)": {"input_noise": 0.0},
    "input_noise=0.4": {"input_noise": 0.4},
    "transition_lr=1e-4": {"transition_lr": 1e-4},
    "initial_state='learned'": {"initial_state": "learned"},
    "decoding='mean'": {"decoding": "mean"},
}
QUICK_VARIANTS = ("defaults", "input_noise=0 (no regularisation, as in the paper)")
DATASETS = {"BasicMotions": (load_basic_motions, 5), "GunPoint": (load_gunpoint, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows = []
    for dataset, (loader, n_seeds) in DATASETS.items():
        X, y = loader(split="train", return_type="numpy3D")
        X_test, y_test = loader(split="test", return_type="numpy3D")
        for name, params in VARIANTS.items():
            if args.quick and name not in QUICK_VARIANTS:
                continue
            scores, times = [], []
            for seed in range(2 if args.quick else n_seeds):
                start = time.perf_counter()
                clf = WarpClassifier(random_state=seed, **params).fit(X, y)
                times.append(time.perf_counter() - start)
                scores.append(clf.score(X_test, y_test))
            row = (dataset, name, scores, float(np.mean(times)))
            rows.append(row)
            print(f"{dataset:12} {name:52} mean {np.mean(scores):.3f} "
                  f"{[round(s, 3) for s in scores]} fit {row[3]:.1f}s", flush=True)
    lines = ["# WarpClassifier defaults: accuracy over seeds", "", machine_header(),
             "- official train/test splits; `random_state` = 0, 1, ...; one torch thread",
             f"- command: `python benchmarks/defaults.py{' --quick' if args.quick else ''}`",
             "", "| dataset | variant (one change from the defaults) | mean test accuracy | "
             "per seed | mean fit s |", "|---|---|---|---|---|"]
    for dataset, name, scores, seconds in rows:
        per_seed = ", ".join(f"{s:.3f}" for s in scores)
        lines.append(f"| {dataset} | {name} | {np.mean(scores):.3f} | {per_seed} | "
                     f"{seconds:.1f} |")
    write_report("defaults", lines, args.quick)


if __name__ == "__main__":
    main()
