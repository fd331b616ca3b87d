"""Where WarpClassifier's default fit time goes: seconds per epoch on each of
the seven classification datasets (official training splits), for the
defaults and for variants given as parameter sets.

Each (variant, dataset) fits twice in one process, with 1 and with 3 epochs,
after a warm-up fit; seconds per epoch = the difference / 2 (the per-fit cost
of building, scaling and the final pass cancels), and the full fit is
estimated as the 1-epoch fit plus ``n_epochs - 1`` epochs. One torch thread.

    python -m benchmarks.fit_cost
    python -m benchmarks.fit_cost --set 'b32={"batch_size": 32}' 'stride4={"stride": 4}'
    python -m benchmarks.fit_cost --quick                 # two small datasets

Writes benchmarks/results/fit_cost.md.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")

from benchmarks._harness import DATASETS, command, machine_header, markdown_table, write_report  # noqa: E402


def epoch_seconds(X, y, params: dict) -> tuple[float, float]:
    """(seconds per epoch, estimated seconds of the full fit)."""
    from skwarp import WarpClassifier

    seconds = []
    for n_epochs in (1, 3):
        clf = WarpClassifier(**{"random_state": 0, **params, "n_epochs": n_epochs})
        start = time.perf_counter()
        clf.fit(X, y)
        seconds.append(time.perf_counter() - start)
    per_epoch = (seconds[1] - seconds[0]) / 2
    n_epochs = params.get("n_epochs", WarpClassifier().n_epochs)
    return per_epoch, seconds[0] + per_epoch * (n_epochs - 1)


def main() -> None:
    import torch

    from skwarp import WarpClassifier
    from skwarp.datasets import load_ts

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=JSON",
                        help="variants on top of the defaults, e.g. 'b32={\"batch_size\": 32}'")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.datasets = ["BasicMotions", "ItalyPowerDemand"]
    variants = {"defaults": {}}
    for item in args.set:
        name, _, spec = item.partition("=")
        variants[name] = json.loads(spec)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    data = {d: load_ts(d, split="train") for d in args.datasets}
    X, y = data[args.datasets[0]]
    WarpClassifier(n_epochs=1, random_state=0).fit(X, y)  # warm-up (first-call costs)
    rows = {}
    for name, params in variants.items():
        for dataset, (X, y) in data.items():
            rows[name, dataset] = epoch_seconds(X, y, params)
            print(name, dataset, f"{rows[name, dataset][0]:.3f} s/epoch", flush=True)
    lines = ["# WarpClassifier: fit seconds per epoch on each dataset", "", machine_header(),
             f"- command: `{command('fit_cost')}`",
             "- official training splits; each variant on top of the defaults (5 networks "
             "trained as one batched model); one torch thread; seconds per epoch from a "
             "3-epoch and a 1-epoch fit, the full fit estimated from them", ""]
    lines += markdown_table(
        ["variant", *args.datasets, "estimated full fits, total s"],
        [[name, *(f"{rows[name, d][0]:.2f} ({rows[name, d][1]:.0f})" for d in args.datasets),
          f"{sum(rows[name, d][1] for d in args.datasets):.0f}"] for name in variants])
    lines += ["", "Cells: seconds per epoch (estimated seconds of the full fit).", "",
              "Parameters of each variant:", ""]
    lines += [f"- {name}: `{json.dumps(p)}`" for name, p in variants.items()]
    print("\n".join(lines))
    write_report("fit_cost", lines, args.quick)


if __name__ == "__main__":
    main()
