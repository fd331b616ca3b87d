"""Evidence for WarpClassifier's defaults: accuracy over seeds of the defaults
and of single-parameter variants, on BasicMotions, GunPoint and ItalyPowerDemand.

    python benchmarks/defaults.py            # 5 seeds (BasicMotions), 3 (the others)
    python benchmarks/defaults.py --quick    # 2 seeds, fewer variants

Writes benchmarks/results/defaults.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sktime.datasets import load_basic_motions, load_gunpoint, load_italy_power_demand

from skwarp import WarpClassifier

sys.path.insert(0, str(Path(__file__).parent))
from _report import machine_header, write_report  # noqa: E402

VARIANTS = {
    "defaults": {},
    "input_noise=0 (no regularisation, as in the paper)": {"input_noise": 0.0},
    "input_noise=0.4": {"input_noise": 0.4},
    "transition_lr=1e-5 (the default until 2026-11-28)": {"transition_lr": 1e-5},
    "initial_state='learned'": {"initial_state": "learned"},
    "decoding='mean'": {"decoding": "mean"},
}
QUICK_VARIANTS = ("defaults", "input_noise=0 (no regularisation, as in the paper)")
DATASETS = {"BasicMotions": (load_basic_motions, 5), "GunPoint": (load_gunpoint, 3),
            "ItalyPowerDemand": (load_italy_power_demand, 3)}


def fit_and_score(loader, params: dict, seed: int) -> tuple[float, float]:
    """Test accuracy and fit seconds of one seed (one torch thread)."""
    X, y = loader(split="train", return_type="numpy3D")
    X_test, y_test = loader(split="test", return_type="numpy3D")
    start = time.perf_counter()
    clf = WarpClassifier(random_state=seed, **params).fit(X, y)
    return clf.score(X_test, y_test), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--jobs", type=int, default=1, help="fits at a time")
    args = parser.parse_args()
    rows = []
    for dataset, (loader, n_seeds) in DATASETS.items():
        for name, params in VARIANTS.items():
            if args.quick and name not in QUICK_VARIANTS:
                continue
            results = Parallel(n_jobs=args.jobs)(
                delayed(fit_and_score)(loader, params, seed)
                for seed in range(2 if args.quick else n_seeds))
            scores, times = [r[0] for r in results], [r[1] for r in results]
            row = (dataset, name, scores, float(np.mean(times)))
            rows.append(row)
            print(f"{dataset:12} {name:52} mean {np.mean(scores):.3f} "
                  f"{[round(s, 3) for s in scores]} fit {row[3]:.1f}s", flush=True)
    lines = ["# WarpClassifier defaults: accuracy over seeds", "", machine_header(),
             "- official train/test splits; `random_state` = 0, 1, ...; one torch thread "
             f"per fit, {args.jobs} fit(s) at a time",
             f"- command: `python {' '.join(sys.argv)}`",
             "", "| dataset | variant (one change from the defaults) | mean test accuracy | "
             "per seed | mean fit s |", "|---|---|---|---|---|"]
    for dataset, name, scores, seconds in rows:
        per_seed = ", ".join(f"{s:.3f}" for s in scores)
        lines.append(f"| {dataset} | {name} | {np.mean(scores):.3f} | {per_seed} | "
                     f"{seconds:.1f} |")
    write_report("defaults", lines, args.quick)


if __name__ == "__main__":
    main()
