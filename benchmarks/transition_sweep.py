"""Does a transition that moves help on the univariate datasets WARP is weak on?

WarpClassifier's defaults keep ``A`` near the identity (``transition_lr=1e-5``),
so a short univariate series is seen mostly through its first and last values.
This sweep compares the defaults with faster transition learning rates and
structured transitions, under the stability guard, over seeds.

    python benchmarks/transition_sweep.py            # 3 datasets x 5 settings x 2 seeds
    python benchmarks/transition_sweep.py --quick    # 1 dataset, 1 seed, 10 epochs
    python benchmarks/transition_sweep.py --datasets OSULeaf ACSF1 --settings 0 1 2 \
        --seeds 0 --tag long                          # any of the seven datasets

Writes benchmarks/results/transition_sweep{_<tag>}.md.
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
    "dense, transition_lr 3e-4": {"transition_lr": 3e-4},
    "diagonal, transition_lr 1e-3": {"transition": "diagonal", "transition_lr": 1e-3},
    "blockdiag, transition_lr 1e-3": {"transition": "blockdiag", "transition_lr": 1e-3},
    "lowrank, transition_lr 1e-3": {"transition": "lowrank", "transition_lr": 1e-3},
}
DATASETS = ("GunPoint", "ItalyPowerDemand", "ArrowHead")
ALL_DATASETS = ("BasicMotions", "JapaneseVowels", "ArrowHead", "GunPoint",
                "ItalyPowerDemand", "OSULeaf", "ACSF1")


def _load(name: str):
    from skwarp.datasets import load_ts  # the datasets ship with sktime

    X, y = load_ts(name, split="train")
    X_test, y_test = load_ts(name, split="test")
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
    parser.add_argument("--datasets", nargs="+", choices=ALL_DATASETS)
    parser.add_argument("--settings", nargs="+", type=int,
                        help="indices into SETTINGS (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int)
    parser.add_argument("--tag", default="", help="suffix of the results file name")
    args = parser.parse_args()
    datasets = args.datasets or (DATASETS[:1] if args.quick else DATASETS)
    seeds = args.seeds or ([0] if args.quick else [0, 1])
    settings = [list(SETTINGS)[i] for i in args.settings] if args.settings else list(SETTINGS)
    n_epochs = 10 if args.quick else None
    start = time.perf_counter()
    # longest datasets first, so the two workers finish together
    jobs = [(d, s, seed) for d in reversed(datasets) for s in settings for seed in seeds]
    rows = Parallel(n_jobs=2)(delayed(run)(d, s, seed, n_epochs) for d, s, seed in jobs)
    minutes = (time.perf_counter() - start) / 60
    lines = ["# Transition learning rate and structure on WARP's weak datasets", "",
             machine_header(),
             f"- command: `python {' '.join(sys.argv)}` ({minutes:.0f} minutes, 2 fits at a "
             "time, one torch thread each)",
             f"- WarpClassifier defaults except the setting; seeds {seeds}; "
             f"{n_epochs or 100} epochs; official train/test split", "",
             "Mean test accuracy over seeds (fit seconds in brackets; `div` counts "
             "fits whose training diverged and fell back to earlier weights):", "",
             "| setting | " + " | ".join(datasets) + " | mean |",
             "|---|" + "---|" * (len(datasets) + 1)]
    for setting in settings:
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
    stem = f"transition_sweep_{args.tag}" if args.tag else "transition_sweep"
    write_report(stem, lines, args.quick)


if __name__ == "__main__":
    main()
