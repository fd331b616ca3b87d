"""WarpClassifier beside sktime's deep classifiers, MiniRocket, aeon's MR-Hydra and
QUANT and 1-NN on the
seven classification datasets shipped with sktime and two synthetic stand-ins, in one run.

The stand-ins (``STAND_INS``, from ``skwarp.datasets``) hold traits where
the defaults once failed on data kept out of this repository: many classes
with two long training series each (``FewShotCycles``: 52 classes, 2,000
steps) and a class that is the order of two distant events
(``EventOrder``: 512 steps). They are reported beside the seven, never in
the seven's means.

Each (dataset, model) pair runs in its own forked process (so its peak resident
memory is its own) and is scored with sktime's ``evaluate`` over the official
train/test split plus stratified resamples of the pooled data with the same
train size (indices made here, from y: ``evaluate`` gets an iterable of splits).
Failed fits score NaN in ``evaluate`` instead of raising; they are reported.
Deep peers share one epoch budget, by default WarpClassifier's own default
(100 epochs); with another ``--epochs`` WarpClassifier also runs at that budget
("deep budget" row). The deep peers (InceptionTime, ResNet, LSTM-FCN) cost
minutes per epoch on the larger datasets on one core, so by default they get
the official split only (``--deep-resamples``); the summary also gives every
model's mean over the official split alone. MiniRocket's numba compilation is excluded by a
warm-up fit on a few series before the timed ones. MR-Hydra (aeon's
``MultiRocketHydraClassifier``) and QUANT (aeon's ``QUANTClassifier``) run
through a small sktime adapter; MR-Hydra's first fit in a fresh process (its
numba compilation, or the load of numba's on-disk cache of it, included: what
a user's first fit in a session costs) is timed apart on a few series
("first fit s"), and its timed fits follow it warm, as MiniRocket's do.
Models without unequal-length support get JapaneseVowels zero-padded at the
end (sktime ``PaddingTransformer``); WarpClassifier takes it as it is. One
torch thread and one numba thread everywhere.

    python -m benchmarks.classification --quick   # official split, 2 epochs
    python -m benchmarks.classification --jobs 2  # 100 epochs; + 1 resample
                                                  # (deep peers: official only)
    python -m benchmarks.classification --epochs 5 --resamples 4 --deep-resamples 4

The default run takes about an hour with two jobs on 2 CPU cores; its budget
is still far below what the deep peers were published with (InceptionTime:
1,500 epochs).

Writes benchmarks/results/classification.md, .json and .png (``_quick`` with
``--quick``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from pathlib import Path

os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # before numba is imported
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks._harness import (  # noqa: E402
    DATASETS,
    RESULTS,
    command,
    load_split,
    machine_header,
    markdown_table,
)

MODELS = ("WarpClassifier (defaults)", "WarpClassifier (paper)",
          "WarpClassifier (deep budget)", "InceptionTime", "ResNet", "LSTM-FCN", "MiniRocket",
          "MR-Hydra", "QUANT", "1-NN Euclidean")
# models whose first fit in a process compiles numba code: a warm-up fit on a
# few series precedes the timed ones (its seconds are reported for MR-Hydra)
WARMED = ("MiniRocket", "MR-Hydra")
DEEP = ("WarpClassifier (deep budget)", "InceptionTime", "ResNet", "LSTM-FCN")
# runs that get the official split only unless --deep-resamples says otherwise:
# the deep peers, and the paper's configuration (about 6 minutes per split on
# the two long datasets)
OFFICIAL_ONLY = DEEP[1:] + ("WarpClassifier (paper)",)
WARP_EPOCHS = 100  # WarpClassifier's default n_epochs (checked in main)
# stand-ins for traits where the defaults once failed (skwarp.datasets
# generators): (generator, training draw, test draw); training and test series
# from different seeds, validation sets to choose on from any other seed
STAND_INS = {
    "FewShotCycles": ("make_few_shot_cycles", {"n_per_class": 2, "random_state": 1},
                      {"n_per_class": 4, "random_state": 2}),
    "EventOrder": ("make_event_order", {"n_series": 200, "random_state": 1},
                   {"n_series": 400, "random_state": 2}),
}
COST_ORDER = ("ItalyPowerDemand", "BasicMotions", "GunPoint", "JapaneseVowels",
              "ArrowHead", "EventOrder", "ACSF1", "OSULeaf", "FewShotCycles")
# published 30-resample mean accuracies: HC2, InceptionTime, ROCKET, MiniRocket
PUBLISHED = {"ArrowHead": (.899, .880, .866, .881), "GunPoint": (.998, .995, .993, .992),
             "ItalyPowerDemand": (.963, .960, .960, .960),
             "OSULeaf": (.969, .953, .941, .958), "ACSF1": (.848, .827, .812, .822)}


def aeon_classifier():
    """An sktime classifier that fits and predicts with an aeon one (equal-length
    3D arrays only), so that sktime's ``evaluate`` and ``PaddingTransformer``
    take it like the other peers."""
    from sktime.classification.base import BaseClassifier

    class AeonClassifier(BaseClassifier):
        _tags = {"X_inner_mtype": "numpy3D", "capability:multivariate": True,
                 "capability:unequal_length": False, "capability:missing_values": False,
                 "python_dependencies": "aeon"}

        def __init__(self, name: str = "MR-Hydra", random_state=None):
            self.name, self.random_state = name, random_state
            super().__init__()

        def _fit(self, X, y):
            from aeon.classification.convolution_based import MultiRocketHydraClassifier
            from aeon.classification.interval_based import QUANTClassifier

            kind = {"MR-Hydra": MultiRocketHydraClassifier, "QUANT": QUANTClassifier}
            self.estimator_ = kind[self.name](random_state=self.random_state)
            self.estimator_.fit(X, y)
            return self

        def _predict(self, X):
            return self.estimator_.predict(X)

    return AeonClassifier


def build(model: str, epochs: int, seed: int):
    """A fresh classifier; deep peers at ``epochs`` (ResNet's batch 16, the
    size of its reference implementation, instead of sktime's 1)."""
    from sktime.classification.deep_learning import (
        InceptionTimeClassifierTorch,
        ResNetClassifierTorch,
    )
    from sktime.classification.deep_learning.lstmfcn import LSTMFCNClassifierTorch
    from sktime.classification.distance_based import KNeighborsTimeSeriesClassifier
    from sktime.classification.kernel_based import RocketClassifier

    from skwarp import PAPER_PARAMS, WarpClassifier

    return {
        "WarpClassifier (defaults)": lambda: WarpClassifier(random_state=seed),
        "WarpClassifier (paper)": lambda: WarpClassifier(random_state=seed, **PAPER_PARAMS),
        "WarpClassifier (deep budget)": lambda: WarpClassifier(n_epochs=epochs,
                                                               random_state=seed),
        "InceptionTime": lambda: InceptionTimeClassifierTorch(num_epochs=epochs,
                                                              random_state=seed),
        "ResNet": lambda: ResNetClassifierTorch(num_epochs=epochs, batch_size=16,
                                                random_state=seed),
        "LSTM-FCN": lambda: LSTMFCNClassifierTorch(num_epochs=epochs, random_state=seed),
        "MiniRocket": lambda: RocketClassifier(rocket_transform="minirocket",
                                               random_state=seed),
        "MR-Hydra": lambda: aeon_classifier()("MR-Hydra", random_state=seed),
        "QUANT": lambda: aeon_classifier()("QUANT", random_state=seed),
        "1-NN Euclidean": lambda: KNeighborsTimeSeriesClassifier(n_neighbors=1,
                                                                 distance="euclidean"),
    }[model]()


def load(dataset: str):
    """Pooled train + test panel, labels and the official train size."""
    from skwarp import datasets  # the seven ship with sktime

    if dataset in STAND_INS:
        name, train, test = STAND_INS[dataset]
        X_train, y_train = getattr(datasets, name)(**train)
        X_test, y_test = getattr(datasets, name)(**test)
    else:
        X_train, y_train, X_test, y_test = load_split(dataset)
    if isinstance(X_train, list) or isinstance(X_test, list):
        X = list(X_train) + list(X_test)
    else:
        X = np.concatenate([X_train, X_test])
    return X, np.concatenate([y_train, y_test]), len(y_train)


class FixedSplits:
    """Precomputed (train, test) index pairs as a splitter: ``evaluate`` calls
    ``cv.split(X)`` without y, so stratification happens beforehand."""

    def __init__(self, pairs: list[tuple]) -> None:
        self.pairs = pairs

    def split(self, X, y=None, groups=None):
        yield from self.pairs

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        return len(self.pairs)


def splits(y: np.ndarray, n_train: int, n_resamples: int) -> FixedSplits:
    """Official split, then stratified resamples of the same train size."""
    from sklearn.model_selection import StratifiedShuffleSplit

    official = (np.arange(n_train), np.arange(n_train, len(y)))
    resampler = StratifiedShuffleSplit(n_resamples, train_size=n_train, random_state=0)
    # sorted: sktime's evaluate takes X's rows in index order but y's in split order
    resamples = ([(np.sort(train), np.sort(test))
                  for train, test in resampler.split(np.zeros(len(y)), y)]
                 if n_resamples else [])
    return FixedSplits([official] + resamples)


def warm_up(clf, X, y: np.ndarray) -> None:
    """Fit a clone on one series per class (twice over): compiles numba code."""
    first = np.unique(y, return_index=True)[1]
    idx = np.concatenate([first, first])
    X_small = [X[i] for i in idx] if isinstance(X, list) else X[idx]
    clf.clone().fit(X_small, y[idx])


def worker(dataset: str, model: str, epochs: int, n_resamples: int) -> dict:
    """Evaluate one model on one dataset; runs in a fresh process."""
    import torch
    from sklearn.metrics import accuracy_score
    from sktime.classification.model_evaluation import evaluate
    from sktime.transformations.panel.padder import PaddingTransformer

    torch.set_num_threads(1)
    X, y, n_train = load(dataset)
    clf = build(model, epochs, seed=0)
    if isinstance(X, list) and not clf.get_tag("capability:unequal_length"):
        clf = PaddingTransformer(pad_length=max(len(x) for x in X)) * clf
    first_fit_s = None
    if model in WARMED:
        start = time.perf_counter()
        warm_up(clf, X, y)
        first_fit_s = time.perf_counter() - start
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results = evaluate(clf, cv=splits(y, n_train, n_resamples), X=X, y=y,
                       scoring=accuracy_score, error_score=np.nan)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"dataset": dataset, "model": model, "n_splits": len(results),
            "accuracy": results["test_accuracy_score"].tolist(),
            "fit_s": results["fit_time"].tolist(), "predict_s": results["pred_time"].tolist(),
            "peak_rss_mb": peak, "rss_before_mb": before, "first_fit_s": first_fit_s}


def start_run(dataset: str, model: str, args: argparse.Namespace):
    """``worker`` in a forked process: the libraries are imported once, by the
    parent, and the child's peak memory is its own. Returns the pipe the row
    arrives on and what :func:`finish_run` needs."""
    resamples = args.deep_resamples if model in OFFICIAL_ONLY else args.resamples
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child,
                              args=(sender, dataset, model, args.epochs, resamples))
    process.start()
    sender.close()
    return receiver, (process, dataset, model, time.perf_counter())


def finish_run(receiver, process, dataset: str, model: str, start: float) -> dict:
    try:
        row = receiver.recv()
    except EOFError:
        row = {"dataset": dataset, "model": model, "error": "worker died"}
    process.join()
    if process.exitcode != 0 and "error" not in row:
        row["error"] = f"exit code {process.exitcode}"
    row["wall_s"] = time.perf_counter() - start
    return row


def run_all(runs: list[tuple[str, str]], args: argparse.Namespace):
    """Yield each run's row as it finishes, ``args.jobs`` runs at a time (each
    worker uses one thread, so up to one job per core keeps timings fair)."""
    from multiprocessing.connection import wait

    pending, active = list(runs), {}
    while pending or active:
        while pending and len(active) < args.jobs:
            receiver, run = start_run(*pending.pop(0), args)
            active[receiver] = run
        for receiver in wait(list(active)):
            yield finish_run(receiver, *active.pop(receiver))


def _child(sender, dataset: str, model: str, epochs: int, resamples: int) -> None:
    try:
        sender.send(worker(dataset, model, epochs, resamples))
    except Exception as error:  # reported in the table, not raised
        sender.send({"dataset": dataset, "model": model,
                     "error": f"{type(error).__name__}: {error}"})


def preload() -> None:
    """Import the heavy libraries once, before forking."""
    import sktime.classification.deep_learning  # noqa: F401
    import sktime.classification.kernel_based  # noqa: F401
    try:  # the MR-Hydra and QUANT rows (their fits fail without aeon)
        import aeon.classification.convolution_based  # noqa: F401
        import aeon.classification.interval_based  # noqa: F401
    except ImportError:
        pass
    import torch
    import torch._dynamo  # noqa: F401  (torch's optimizers import it on first use)

    import skwarp  # noqa: F401

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


# -- report ------------------------------------------------------------------ #
def _mean(values) -> float:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def _failures(row: dict) -> int:
    if "error" in row:
        return -1
    return int(np.sum(~np.isfinite(np.asarray(row["accuracy"], dtype=float))))


def _models(rows: list[dict]) -> list[str]:
    """The models this run holds, in MODELS order."""
    return [m for m in MODELS if any(r["model"] == m for r in rows)]


def table(rows: list[dict]) -> list[str]:
    by_key = {(r["dataset"], r["model"]): r for r in rows}
    models = _models(rows)
    table = []
    for dataset in (*DATASETS, *STAND_INS):
        if not any(r["dataset"] == dataset for r in rows):
            continue
        cells = []
        for model in models:
            row = by_key.get((dataset, model))
            if row is None or "error" in row:
                cells.append("failed" if row else "")
            else:
                cells.append(f"{_mean(row['accuracy']):.3f}")
        published = " / ".join(f"{p:.3f}" for p in PUBLISHED.get(dataset, ())) or "-"
        table.append([dataset, *cells, published])
    return markdown_table(
        ["dataset", *models, "published HC2 / InceptionTime / ROCKET / MiniRocket"], table)


def summary(rows: list[dict]) -> dict[str, dict]:
    """Per model over the seven datasets (not the stand-ins): mean accuracy,
    total fit/predict seconds (mean over splits, summed over datasets),
    largest peak RSS, failures."""
    out = {}
    rows = [r for r in rows if r["dataset"] in DATASETS]
    for model in _models(rows):
        mine = [r for r in rows if r["model"] == model and "error" not in r]
        out[model] = {
            "accuracy": _mean([_mean(r["accuracy"]) for r in mine]),
            "official": _mean([r["accuracy"][0] for r in mine]),
            "fit_s": sum(_mean(r["fit_s"]) for r in mine),
            "predict_s": sum(_mean(r["predict_s"]) for r in mine),
            "peak_rss_mb": max((r["peak_rss_mb"] for r in mine), default=float("nan")),
            "growth_mb": max((r["peak_rss_mb"] - r["rss_before_mb"] for r in mine),
                             default=float("nan")),
            "datasets": len(mine),
            "failures": sum(max(_failures(r), 0) for r in rows if r["model"] == model)
            + sum(1 for r in rows if r["model"] == model and "error" in r),
        }
    return out


def stand_in_check(rows: list[dict]) -> list[str]:
    """Per stand-in: the defaults' accuracy against MiniRocket's less 0.02."""
    by_key = {(r["dataset"], r["model"]): r for r in rows if "error" not in r}
    lines = []
    for dataset in STAND_INS:
        ours = by_key.get((dataset, "WarpClassifier (defaults)"))
        peer = by_key.get((dataset, "MiniRocket"))
        if ours is None or peer is None:
            continue
        mine, bar = _mean(ours["accuracy"]), _mean(peer["accuracy"]) - 0.02
        lines.append(f"- {dataset}: defaults {mine:.3f}, MiniRocket less 0.02 {bar:.3f}: "
                     + ("holds" if mine >= bar else "does not hold"))
    return (["", "## Stand-ins: the defaults against MiniRocket less 0.02", ""] + lines
            if lines else [])


def first_fits(rows: list[dict]) -> list[str]:
    """A note on the untimed warm-up fits: MiniRocket's, and MR-Hydra's as a
    user's first fit in a session costs (numba compilation)."""
    lines = []
    for model in WARMED:
        seconds = [r["first_fit_s"] for r in rows if r["model"] == model
                   and r.get("first_fit_s") is not None]
        if not seconds:
            continue
        lines += ["", f"{model}: the fit and predict seconds above exclude its first fit "
                  "in each fresh worker process, a warm-up on two series per class whose "
                  "time is mostly numba compiling (or loading numba's on-disk cache of) "
                  f"its kernels: {np.mean(seconds):.1f} s on average over the datasets "
                  f"(min {min(seconds):.1f}, max {max(seconds):.1f}), paid once per "
                  "session by a user before the first fit finishes."]
    return lines


def detail(rows: list[dict]) -> list[str]:
    lines = ["| dataset | model | accuracy per split | mean fit s | mean predict s | "
             "peak RSS MB | RSS growth MB |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['model']} | failed: {r['error']} | | | | |")
            continue
        accs = ", ".join(f"{a:.3f}" for a in r["accuracy"])
        lines.append(f"| {r['dataset']} | {r['model']} | {accs} | {_mean(r['fit_s']):.2f} | "
                     f"{_mean(r['predict_s']):.2f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['peak_rss_mb'] - r['rss_before_mb']:.0f} |")
    return lines


def plot(totals: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for model, s in totals.items():
        if np.isfinite(s["accuracy"]) and s["fit_s"] > 0:
            ax.scatter(s["fit_s"], s["accuracy"], s=50)
            ax.annotate(model, (s["fit_s"], s["accuracy"]), fontsize=8,
                        xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("total fit time over the seven datasets, s (one CPU thread)")
    ax.set_ylabel("mean test accuracy over the seven datasets")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def report(rows: list[dict], args: argparse.Namespace, wall_s: float, png: Path,
           n_runs: int) -> str:
    totals = summary(rows)
    n_splits = 1 + args.resamples
    partial = (f"- **partial: {len(rows)} of {n_runs} (dataset, model) runs so far**"
               if len(rows) < n_runs else f"- all {n_runs} (dataset, model) runs")
    lines = ["# Classification: WarpClassifier beside sktime's and aeon's classifiers", "",
             machine_header(),
             f"- command: `{command('classification')}`",
             f"- {n_splits} split(s) per dataset: the official train/test split"
             + (f" and {args.resamples} stratified resamples (same train size); deep "
                f"peers and the paper row: {1 + args.deep_resamples} split(s)"
                if args.resamples else ""),
             f"- deep models' epoch budget: {args.epochs} (InceptionTime, ResNet with batch "
             "16, LSTM-FCN" + (", and `WarpClassifier(n_epochs=...)`); `WarpClassifier "
                               f"(defaults)` runs its default {WARP_EPOCHS} epochs"
                               if args.epochs != WARP_EPOCHS else
                               f"): equal to WarpClassifier's default {WARP_EPOCHS}"),
             "- one torch thread, one numba thread; each (dataset, model) in its own "
             f"forked process, {args.jobs} at a time; seed 0",
             f"- wall time of the run: {wall_s / 60:.1f} min", partial, "",
             "## Mean test accuracy over splits", ""] + table(rows) + [
             "", "## Per model over the seven datasets", ""] + markdown_table(
        ["model", "mean accuracy", "official split only", "datasets", "total fit s",
         "total predict s", "max peak RSS MB", "max RSS growth MB", "failed fits"],
        [[model, f"{s['accuracy']:.3f}", f"{s['official']:.3f}", s["datasets"],
          f"{s['fit_s']:.1f}", f"{s['predict_s']:.1f}", f"{s['peak_rss_mb']:.0f}",
          f"{s['growth_mb']:.0f}", s["failures"]] for model, s in totals.items()])
    lines += ["", f"![accuracy against fit time]({png.name})", "",
              "Fit and predict seconds are sktime `evaluate`'s per-split times, averaged "
              "over splits and summed over datasets. Peak RSS is the worker process's "
              "maximum resident set (interpreter and libraries included); growth is over "
              "the RSS after loading the data."] + stand_in_check(rows) + first_fits(rows) + [
              "", "## Every run", ""] + detail(rows)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--resamples", type=int, default=None)
    parser.add_argument("--deep-resamples", type=int, default=0,
                        help="resamples for InceptionTime, ResNet and LSTM-FCN")
    parser.add_argument("--datasets", nargs="+", default=[*DATASETS, *STAND_INS],
                        choices=[*DATASETS, *STAND_INS])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--jobs", type=int, default=1,
                        help="(dataset, model) runs at a time, one thread each")
    args = parser.parse_args()
    from skwarp import WarpClassifier

    assert WarpClassifier().n_epochs == WARP_EPOCHS, "update WARP_EPOCHS"
    args.epochs = args.epochs if args.epochs is not None else (
        2 if args.quick else WARP_EPOCHS)
    args.resamples = (args.resamples if args.resamples is not None
                      else (0 if args.quick else 1))
    if args.epochs == WARP_EPOCHS:  # the same model as "WarpClassifier (defaults)"
        args.models = [m for m in args.models if m != "WarpClassifier (deep budget)"]
    preload()
    start, rows = time.perf_counter(), []
    # the costly datasets first, so that parallel jobs end together
    order = sorted(args.datasets, key=lambda d: -COST_ORDER.index(d))
    runs = [(dataset, model) for dataset in order for model in args.models]
    for r in run_all(runs, args):
        rows.append(r)
        dataset, model = r["dataset"], r["model"]
        status = r.get("error") or (f"acc {_mean(r['accuracy']):.3f} fit "
                                    f"{_mean(r['fit_s']):.1f}s wall {r['wall_s']:.0f}s")
        print(f"{dataset:16} {model:30} {status}", flush=True)
        text = write(rows, args, time.perf_counter() - start, len(runs))  # after each run
    print(text)


def write(rows: list[dict], args: argparse.Namespace, wall_s: float, n_runs: int) -> str:
    suffix = "_quick" if args.quick else ""
    png = RESULTS / f"classification{suffix}.png"
    plot(summary(rows), png)
    text = report(rows, args, wall_s, png, n_runs)
    (RESULTS / f"classification{suffix}.md").write_text(text)
    (RESULTS / f"classification{suffix}.json").write_text(json.dumps(rows, indent=1))
    return text


if __name__ == "__main__":
    main()
