"""Long-range task: WarpClassifier at T=16,384 beside InceptionTime, time and memory.

The class of each series is set by one short bump in the first 5% of a
16,384-step, 6-channel noise sequence (``skwarp.datasets.make_long_range_events``;
200 training series, 100 test series from another seed). Each model trains in
its own subprocess with the same epoch budget and torch thread count, so its
peak resident memory (``ru_maxrss``, interpreter, libraries and data included)
is its own.

    python -m benchmarks.long_range            # T=16,384: both at 2 epochs, WARP at 10
    python -m benchmarks.long_range --quick    # T=2,048: both at 1 epoch, WARP at 3
    python -m benchmarks.long_range --models WarpClassifier --warp-epochs 100 \
        --seeds 0 1 2 --warp-params '{}' '{"stride": 1}'   # variants of WARP, 3 seeds

InceptionTime trains with batch 8 (WarpClassifier with its default): with
sktime's default of 64 its activations at T=16,384 would need about 25 GB.
On 2 CPU cores one InceptionTime epoch at T=16,384 takes minutes, so the equal
budget is small; WarpClassifier also runs at a longer budget.

Writes benchmarks/results/long_range.md (long_range_quick.md with --quick).
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import numpy as np

from benchmarks._harness import RESULTS, command, machine_header, markdown_table, run_isolated

N_TRAIN, N_TEST, N_CHANNELS = 200, 100, 6
MEMORY_BUDGET_MB = 4096
MODELS = ("WarpClassifier", "InceptionTimeClassifierTorch")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


BATCH_SIZE = 8


def build(model: str, epochs: int, threads: int, seed: int, params: dict):
    if model == "WarpClassifier":
        from skwarp import WarpClassifier

        return WarpClassifier(**{"n_epochs": epochs, "n_threads": threads,
                                 "random_state": seed, **params})
    from sktime.classification.deep_learning import InceptionTimeClassifierTorch

    return InceptionTimeClassifierTorch(num_epochs=epochs, batch_size=BATCH_SIZE,
                                        random_state=seed)


def worker(model: str, n_timepoints: int, epochs: int, threads: int, seed: int,
           params: dict) -> dict:
    """Fit and score one model; runs in a fresh process."""
    import warnings

    import torch
    import torch._dynamo  # noqa: F401  (torch's optimizers import it on first use: untimed)

    from skwarp.datasets import make_long_range_events

    torch.set_num_threads(threads)
    X, y = make_long_range_events(N_TRAIN, n_timepoints, N_CHANNELS, random_state=seed)
    X_test, y_test = make_long_range_events(N_TEST, n_timepoints, N_CHANNELS,
                                            random_state=seed + 1000)
    before_fit = peak_rss_mb()
    clf = build(model, epochs, threads, seed, params)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        clf.fit(X, y)
    fit_s = time.perf_counter() - start
    diverged = any("diverged" in str(w.message) for w in caught)
    start = time.perf_counter()
    accuracy = float(np.mean(clf.predict(X_test) == y_test))
    predict_s = time.perf_counter() - start
    return {"model": model, "epochs": epochs, "accuracy": accuracy, "fit_s": fit_s,
            "predict_s": predict_s, "diverged": diverged,
            "epochs_run": getattr(clf, "n_epochs_", epochs), "seed": seed,
            "params": json.dumps(params) if params else "",
            "stride": getattr(clf, "stride_", None),
            "rss_before_fit_mb": before_fit, "peak_rss_mb": peak_rss_mb(),
            "threads": torch.get_num_threads()}


def run_in_subprocess(model: str, epochs: int, seed: int, params: str,
                      args: argparse.Namespace) -> dict:
    shown = json.dumps(json.loads(params)) if json.loads(params) else ""
    return run_isolated(["-m", "benchmarks.long_range", "--worker", model,
                         "--timepoints", str(args.timepoints), "--epochs", str(epochs),
                         "--threads", str(args.threads), "--seeds", str(seed),
                         "--warp-params", params], None,
                        {"model": model, "epochs": epochs, "seed": seed, "params": shown})


def report(rows: list[dict], args: argparse.Namespace) -> str:
    seeds = ", ".join(str(seed) for seed in args.seeds)
    lines = [f"# Long-range task: T = {args.timepoints:,} steps, {N_CHANNELS} channels",
             "", machine_header(),
             f"- {N_TRAIN} training and {N_TEST} test series "
             "(`skwarp.datasets.make_long_range_events`, class set by a 64-step bump in "
             "the first 5% of the series; each seed draws its own data and weights)",
             f"- equal budget: {args.epochs} epochs for both (InceptionTime at batch "
             f"{BATCH_SIZE}, WarpClassifier at its own), "
             f"{args.threads} torch threads, seeds {seeds}; WarpClassifier also at "
             f"{args.warp_epochs} epochs; each run in its own process",
             f"- command: `{command('long_range')}`",
             "- params: WarpClassifier's parameters besides the defaults; stride: the "
             "recurrence's time points per step after `stride=\"auto\"` is resolved",
             "- peak RSS: the process's maximum resident set (interpreter, torch, data "
             "and training); 'before fit' is after imports and data generation",
             "- epochs (run): the budget and the epochs actually run; 'diverged': "
             "WarpClassifier stopped on a non-finite loss and kept its best weights",
             "", "| model | params | stride | seed | epochs (run) | test accuracy | fit s | "
             f"predict s | peak RSS MB | RSS before fit MB | within {MEMORY_BUDGET_MB} MB |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        head = f"| {row['model']} | {row.get('params', '')} |"
        if "error" in row:
            lines.append(f"{head} | {row['seed']} | {row['epochs']} | failed: "
                         f"{row['error']} | | | | | |")
            continue
        within = "yes" if row["peak_rss_mb"] <= MEMORY_BUDGET_MB else "no"
        run = f"{row['epochs']} ({row.get('epochs_run', row['epochs'])}"
        run += ", diverged)" if row.get("diverged") else ")"
        stride = "" if row.get("stride") is None else row["stride"]
        lines.append(f"{head} {stride} | {row['seed']} | {run} | {row['accuracy']:.3f} | "
                     f"{row['fit_s']:.1f} | {row['predict_s']:.1f} | "
                     f"{row['peak_rss_mb']:.0f} | {row['rss_before_fit_mb']:.0f} | "
                     f"{within} |")
    lines += ["", "Over seeds: mean test accuracy (min - max), mean fit seconds, largest "
              "peak RSS.", ""]
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        if "error" not in row:
            groups.setdefault((row["model"], row.get("params", ""), row["epochs"]),
                              []).append(row)
    table = []
    for (model, params, epochs), group in groups.items():
        accuracy = [row["accuracy"] for row in group]
        table.append([model, params, epochs, len(group),
                      f"{np.mean(accuracy):.3f} ({min(accuracy):.3f} - {max(accuracy):.3f})",
                      f"{np.mean([row['fit_s'] for row in group]):.1f}",
                      f"{max(row['peak_rss_mb'] for row in group):.0f}"])
    lines += markdown_table(
        ["model", "params", "epochs", "seeds", "accuracy", "fit s", "peak RSS MB"], table)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=None, help="equal budget")
    parser.add_argument("--warp-epochs", type=int, default=None)
    parser.add_argument("--timepoints", type=int, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--warp-params", nargs="+", default=["{}"],
                        help="WarpClassifier variants, each a JSON dict of parameters")
    parser.add_argument("--worker", choices=MODELS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs is None:
        args.epochs = 1 if args.quick else 2
    if args.warp_epochs is None:
        args.warp_epochs = 3 if args.quick else 10
    if args.timepoints is None:
        args.timepoints = 2048 if args.quick else 16_384
    if args.worker:
        print(json.dumps(worker(args.worker, args.timepoints, args.epochs, args.threads,
                                args.seeds[0], json.loads(args.warp_params[0]))))
        return
    runs = []
    for model in args.models:
        variants = args.warp_params if model == "WarpClassifier" else ["{}"]
        budgets = [args.epochs]
        if model == "WarpClassifier" and args.warp_epochs != args.epochs:
            budgets = [args.warp_epochs] if "InceptionTimeClassifierTorch" not in \
                args.models else [args.warp_epochs, args.epochs]
        runs += [(model, epochs, params, seed) for params in variants
                 for epochs in budgets for seed in args.seeds]
    rows = []
    for model, epochs, params, seed in runs:
        rows.append(run_in_subprocess(model, epochs, seed, params, args))
        print(rows[-1], flush=True)
    text = report(rows, args)
    print(text)
    out = RESULTS / f"long_range{'_quick' if args.quick else ''}.md"
    out.write_text(text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
