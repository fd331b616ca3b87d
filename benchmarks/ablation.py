"""Accuracy research for WarpClassifier: variants x datasets x seeds.

Two modes, so that defaults are chosen on training data only:

* ``--mode select``: each seed splits the official *training* set
  (stratified, 2/3 fit, 1/3 validation) and scores on the validation third;
* ``--mode test``: fit on the official training split, score on the official
  test split (what the results are reported on).

Variants are parameter dicts applied on top of a base configuration
(WarpClassifier's defaults with one network, ``n_networks=1``: the ablation is
of one network's ingredients; ``{"preset": "paper"}`` starts from
``PAPER_PARAMS`` instead). Each (dataset, variant, seed) fit runs with one torch thread;
``--jobs`` fits run at a time.

    python -m benchmarks.ablation --mode test --jobs 2            # ablation.md
    python -m benchmarks.ablation --mode select --variants defaults "drive=difference"
    python -m benchmarks.ablation --quick                          # smoke run

Writes benchmarks/results/ablation.md and .json (either mode; the header says
which).
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
    DATASETS,
    command,
    load_split,
    machine_header,
    markdown_table,
    write_report,
)

# each ingredient of the defaults, removed (or swapped) one at a time
VARIANTS: dict[str, dict] = {
    "defaults": {},
    "paper (PAPER_PARAMS)": {"preset": "paper"},
    "no embedding (drive with the series)": {"embedding": None},
    "drive=difference (the paper's drive)": {"drive": "difference"},
    "transition=dense from the identity, B=0 (transition_lr 1e-4)":
        {"transition": "dense", "transition_lr": 1e-4},
    "transition_phase=0.3 (oscillating start)": {"transition_phase": 0.3},
    "transition_radius=(0.9, 0.9999) (faster memory)": {"transition_radius": [0.9, 0.9999]},
    "embedding_norm=False": {"embedding_norm": False},
    "input_noise=0.2": {"input_noise": 0.2},
    "causal_embedding=True": {"causal_embedding": True},
}


def _take(X, index):
    return [X[i] for i in index] if isinstance(X, list) else X[index]


def fit_and_eval_data(dataset: str, seed: int, mode: str):
    """``(X_fit, y_fit, X_eval, y_eval)``: the official split ("test"), or a
    stratified 2/3 - 1/3 split of the official training set ("select")."""
    from sklearn.model_selection import train_test_split

    X_train, y_train, X_test, y_test = load_split(dataset)
    if mode != "select":
        return X_train, y_train, X_test, y_test
    fit_idx, val_idx = train_test_split(np.arange(len(y_train)), test_size=1 / 3,
                                        random_state=seed, stratify=y_train)
    return (_take(X_train, fit_idx), y_train[fit_idx], _take(X_train, val_idx),
            y_train[val_idx])


def run_one(dataset: str, params: dict, seed: int, mode: str) -> dict:
    """One fit: accuracy and fit seconds."""
    import torch

    from skwarp import WarpClassifier

    torch.set_num_threads(1)
    X_fit, y_fit, X_eval, y_eval = fit_and_eval_data(dataset, seed, mode)
    from skwarp import PAPER_PARAMS

    params = dict(params)
    if params.pop("preset", None) == "paper":
        params = {**PAPER_PARAMS, **params}
    clf = WarpClassifier(random_state=seed, **{"n_networks": 1, **params})
    start = time.perf_counter()
    clf.fit(X_fit, y_fit)
    fit_s = time.perf_counter() - start
    return {"dataset": dataset, "seed": seed, "accuracy": float(clf.score(X_eval, y_eval)),
            "fit_s": fit_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("select", "test"), default="test")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=JSON",
                        help="extra variants given inline, e.g. 'w64={\"root_width\": 64}'")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="2 epochs, 1 seed, 2 sets")
    args = parser.parse_args()
    variants = {name: VARIANTS[name] for name in args.variants if name in VARIANTS}
    for item in args.set:
        name, _, spec = item.partition("=")
        variants[name] = json.loads(spec)
    if args.quick:
        args.seeds, args.datasets = 1, ["BasicMotions", "ItalyPowerDemand"]
        variants = {name: {**p, "n_epochs": 2} for name, p in list(variants.items())[:2]}
    tasks = [(name, dataset, seed) for dataset in args.datasets for name in variants
             for seed in range(args.seeds)]
    start = time.perf_counter()
    results = Parallel(n_jobs=args.jobs, verbose=0)(
        delayed(run_one)(dataset, variants[name], seed, args.mode)
        for name, dataset, seed in tasks)
    rows = [{"variant": name, **result} for (name, _, _), result in zip(tasks, results,
                                                                        strict=True)]
    wall = time.perf_counter() - start
    lines = report(rows, variants, args, wall)
    print("\n".join(lines))
    path = write_report("ablation", lines, args.quick)
    path.with_suffix(".json").write_text(json.dumps(
        {"mode": args.mode, "variants": variants, "rows": rows}, indent=1))


def report(rows: list[dict], variants: dict, args, wall: float) -> list[str]:
    split = ("validation third of the official training split (stratified, per seed)"
             if args.mode == "select" else "official test split")
    lines = ["# WarpClassifier ablation", "", machine_header(),
             f"- command: `{command('ablation')}`",
             f"- scored on: {split}; seeds 0-{args.seeds - 1}; one torch thread per fit, "
             f"{args.jobs} at a time; wall {wall / 60:.1f} min", "",
             "Mean accuracy over seeds (spread max - min in brackets); the last columns "
             "are the mean over datasets and the total mean fit seconds per seed.", ""]
    table = []
    for name in variants:
        cells, means, fit = [], [], 0.0
        for dataset in args.datasets:
            acc = [r["accuracy"] for r in rows if r["variant"] == name
                   and r["dataset"] == dataset]
            fit += float(np.mean([r["fit_s"] for r in rows if r["variant"] == name
                                  and r["dataset"] == dataset]))
            means.append(np.mean(acc))
            cells.append(f"{np.mean(acc):.3f} ({max(acc) - min(acc):.2f})")
        table.append([name, *cells, f"{np.mean(means):.3f}", f"{fit:.0f}"])
    lines += markdown_table(["variant", *args.datasets, "mean", "fit s"], table)
    lines += ["", "Parameters of each variant (on top of the defaults with one network, "
              "`n_networks=1`):", ""]
    lines += [f"- {name}: `{json.dumps(p)}`" for name, p in variants.items()]
    return lines


if __name__ == "__main__":
    main()
