"""WarpClassifier at its defaults on CUDA beside the same machine's CPU.

Fits on the official train split of sktime's datasets and scores on the test
split, once per (dataset, device), in one process; the CPU runs get all the
host's cores (``n_threads``). sktime's torch deep classifiers have no device
setting (they run on the CPU), so this compares WarpClassifier with itself.

    python -m benchmarks.gpu_fit                                   # needs CUDA
    python -m benchmarks.gpu_fit --cpu-datasets BasicMotions GunPoint

Writes benchmarks/results/gpu_fit.md.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmarks._harness import (
    DATASETS,
    command,
    load_split,
    machine_header,
    markdown_table,
    write_report,
)


def fit_once(dataset: str, device: str, n_threads: int, n_networks: int | None) -> dict:
    from skwarp import WarpClassifier

    X, y, X_test, y_test = load_split(dataset)
    extra = {} if n_networks is None else {"n_networks": n_networks}
    clf = WarpClassifier(random_state=0, device=device, n_threads=n_threads, **extra)
    start = time.perf_counter()
    clf.fit(X, y)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    accuracy = float(np.mean(clf.predict(X_test) == y_test))
    return {"fit": fit_seconds, "predict": time.perf_counter() - start,
            "accuracy": accuracy, "D": clf.network_.n_params}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--cpu-datasets", nargs="*", default=[], choices=DATASETS,
                        help="datasets also fitted on the CPU")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--n-networks", type=int, default=None,
                        help="networks per fit (default: the estimator's default)")
    args = parser.parse_args()

    rows = []
    for dataset in args.datasets:
        devices = ["cuda"] + (["cpu"] if dataset in args.cpu_datasets else [])
        for device in devices:
            r = fit_once(dataset, device, args.threads if device == "cpu" else 1,
                         args.n_networks)
            rows.append((dataset, device, r))
            print(f"{dataset:17} {device:4} fit {r['fit']:7.1f} s  predict "
                  f"{r['predict']:5.2f} s  accuracy {r['accuracy']:.3f}", flush=True)
            _write(rows, args)  # after every fit: a run cut short keeps its rows


def _write(rows, args) -> None:
    lines = ["# WarpClassifier defaults on CUDA beside the host CPU", "", machine_header(),
             f"- command: `{command('gpu_fit')}`",
             "- `WarpClassifier(random_state=0)`"
             + ("" if args.n_networks is None else f" with `n_networks={args.n_networks}`")
             + ", official split; CPU fits use "
             f"{args.threads} torch threads", ""]
    table = []
    for dataset, device, r in rows:
        cuda = next(x[2] for x in rows if x[0] == dataset and x[1] == "cuda")
        ratio = f"{r['fit'] / cuda['fit']:.1f}x" if device == "cpu" else ""
        table.append([dataset, r["D"], device, f"{r['fit']:.1f}", f"{r['predict']:.2f}",
                      f"{r['accuracy']:.3f}", ratio])
    lines += markdown_table(["dataset", "D", "device", "fit s", "predict s", "test accuracy",
                             "CPU fit / CUDA fit"], table)
    write_report("gpu_fit", lines)


if __name__ == "__main__":
    main()
