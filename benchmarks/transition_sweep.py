"""Does a transition that moves help on the univariate datasets WARP is weak on?

WarpClassifier's defaults keep ``A`` near the identity (``transition_lr=1e-5``),
so a short univariate series is seen mostly through its first and last values.
This sweep compares the defaults with faster transition learning rates and
structured transitions, under the stability guard, over seeds.

    python benchmarks/transition_sweep.py            # 3 datasets x 5 settings x 2 seeds
    python benchmarks/transition_sweep.py --quick    # 1 dataset, 1 seed, 10 epochs

Writes benchmarks/results/transition_sweep.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

sys.path.insert(0, str(Path(__file__).parent))
from _report import machine_header, write_report  # noqa: E402

SETTINGS = {
    "dense, transition_lr 1e-5 (default)": {},
    "dense, transition_lr 1e-4": {"transition_lr": 1e-4},
    "diagonal, transition_lr 1e-3": {"transition": "diagonal", "transition_lr": 1e-3},
    "blockdiag, transition_lr 1e-3": {"transition": "blockdiag", "transition_lr": 1e-3},
    "lowrank, transition_lr 1e-3": {"transition": "lowrank", "transition_lr": 1e-3},
}
DATASETS = ("GunPoint", "ItalyPowerDemand", "ArrowHead")


def _load(name: str):
    from sktime.datasets import load_arrow_head, load_gunpoint, load_italy_power_demand

    load = {"GunPoint": load_gunpoint, "ItalyPowerDemand": load_italy_power_demand,
            "ArrowHead": load_arrow_head}[name]
    X, y = load(split="train", return_type="numpy3D")
    X_test, y_test = load(split="test", return_type="numpy3D")
    return X, y, X_test, y_test


def run(dataset: str, setting: str, seed: int, n_epochs: int | None) -> dict:
    import warnings

    from skwarp import WarpClassifier

    X, y, X_test, y_test = _load(dataset)
    params = dict(SETTINGS[setting], random_state=seed, device="cpu")
    if n_epochs is not None:
        params["n_epochs"] = n_epochs
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf = WarpClassifier(**params).fit(X, y)
    fit_seconds = time.perf_counter() - start
    diverged = any("diverged" in str(w.message) for w in caught)
    return {"dataset": dataset, "setting": setting, "seed": seed,
            "accuracy": float(clf.score(X_test, y_test)), "fit_seconds": fit_seconds,
            "diverged": diverged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    datasets = DATASETS[:1] if args.quick else DATASETS
    seeds = [0] if args.quick else [0, 1]
    n_epochs = 10 if args.quick else None
    start = time.perf_counter()
    jobs = [(d, s, seed) for d in datasets for s in SETTINGS for seed in seeds]
    rows = Parallel(n_jobs=2)(delayed(run)(d, s, seed, n_epochs) for d, s, seed in jobs)
    minutes = (time.perf_counter() - start) / 60
    lines = ["# Transition learning rate and structure on WARP's weak datasets", "",
             machine_header(),
             f"- command: `python benchmarks/transition_sweep.py"
             f"{' --quick' if args.quick else ''}` ({minutes:.0f} minutes, 2 fits at a "
             "time, one torch thread each)",
             f"- WarpClassifier defaults except the setting; seeds {seeds}; "
             f"{n_epochs or 100} epochs; official train/test split", "",
             "Mean test accuracy over seeds (fit seconds in brackets; `div` counts "
             "fits whose training diverged and fell back to earlier weights):", "",
             "| setting | " + " | ".join(datasets) + " | mean |",
             "|---|" + "---|" * (len(datasets) + 1)]
    for setting in SETTINGS:
        cells, means = [], []
        for dataset in datasets:
            runs = [r for r in rows if r["dataset"] == dataset and r["setting"] == setting]
            accuracy = np.mean([r["accuracy"] for r in runs])
            seconds = np.mean([r["fit_seconds"] for r in runs])
            n_div = sum(r["diverged"] for r in runs)
            means.append(accuracy)
            cells.append(f"{accuracy:.3f} ({seconds:.0f} s{f', {n_div} div' if n_div else ''})")
        lines.append(f"| {setting} | " + " | ".join(cells) + f" | {np.mean(means):.3f} |")
        print(lines[-1], flush=True)
    write_report("transition_sweep", lines, args.quick)


if __name__ == "__main__":
    main()
