"""WarpForecaster's defaults, each ingredient removed, on data to choose on.

Every row is ``WarpForecaster()`` with one change (``VARIANTS``), fitted as
one global model on M3 monthly's *validation* split (each training series
without its last 18 points, scored on those 18: the test part is never
looked at), over ``--seeds``; and, with ``--airline``, the defaults on the
airline expanding-window folds (initial 96, step 12, fh 1..12), whose
cutoffs also lie inside the data. Columns: mean sMAPE and MASE over the seeds (and each
seed's), 80% interval coverage, fit seconds, the defaults' airline mean MAPE
per seed and the folds where it is below seasonal naive's.

    python -m benchmarks.forecasting_ablation --seeds 0 --airline
    python -m benchmarks.forecasting_ablation --variants defaults "transform=None"
    python -m benchmarks.forecasting_ablation --variants defaults --params '{"loss": "nll"}'
    python -m benchmarks.forecasting_ablation --quick

Writes benchmarks/results/forecasting_ablation.md and .json.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from benchmarks._harness import command, machine_header, markdown_table, write_report
from benchmarks.forecasting_m3 import HORIZON, load_series, panel, per_series, score

# the defaults of 2026-12-07 (autoregressive rollouts of the paper's network)
PREVIOUS_DEFAULTS = {"decoding": "autoregressive", "context_length": 12, "loss": "nll",
                     "transition": "dense", "drive": "difference", "embedding": None,
                     "transition_lr": 1e-5, "batch_size": 32, "epoch_size": 512,
                     "n_epochs": 40, "initial_state": "mlp"}
# each ingredient of the defaults, removed (or swapped) one at a time
VARIANTS: dict[str, dict] = {
    "defaults": {},
    "no seasonal adjustment (seasonality=None)": {"seasonality": None},
    "no logs (transform=None)": {"transform": None},
    "Gaussian NLL (loss=\"nll\")": {"loss": "nll"},
    "every window of every series (windows_per_series=None)": {"windows_per_series": None},
    "slow lru memories (transition_radius=(0.99, 0.99999))": {
        "transition_radius": (0.99, 0.99999)},
    "no embedding (embedding=None)": {"embedding": None},
    "theta_0 = phi(x_0) (initial_state=\"mlp\")": {"initial_state": "mlp"},
    "the paper's network (dense A at transition_lr 1e-5, differences, no embedding)": {
        "transition": "dense", "drive": "difference", "embedding": None,
        "transition_lr": 1e-5, "initial_state": "mlp"},
    "context_length=12": {"context_length": 12},
    "the defaults of 2026-12-07 (autoregressive, the paper's network)": PREVIOUS_DEFAULTS,
    "the paper's forecaster (PAPER_FORECASTER_PARAMS), 1 epoch over every window":
        {"preset": "paper", "n_epochs": 1},
}
# the rows of the committed table (the paper's forecaster has its row in
# forecasting_m3.md, on the official split)
DEFAULT_VARIANTS = [name for name in VARIANTS if not name.startswith("the paper's f")]


def make(params: dict, seed: int):
    from skwarp import PAPER_FORECASTER_PARAMS, WarpForecaster

    params = dict(params)
    base = PAPER_FORECASTER_PARAMS if params.pop("preset", None) == "paper" else {}
    return WarpForecaster(**{**base, **params, "random_state": seed})


def m3_scores(params: dict, seed: int, series, quick: bool) -> dict:
    from sktime.forecasting.base import ForecastingHorizon

    y = panel(series)
    forecaster = make({**params, **({"n_epochs": 1} if quick else {})}, seed)
    fh = ForecastingHorizon(np.arange(1, HORIZON + 1), is_relative=True)
    start = time.perf_counter()
    forecaster.fit(y)
    fit_s = time.perf_counter() - start
    point = per_series(forecaster.predict(fh), series)
    bounds = forecaster.predict_interval(fh, coverage=[0.8, 0.95])
    intervals = {}
    for level in (80, 95):
        sub = bounds.xs(level / 100, axis=1, level=1)
        intervals[level] = (per_series(sub, series, sub.columns[0][:1] + ("lower",)),
                            per_series(sub, series, sub.columns[0][:1] + ("upper",)))
    return {**score(series, point, intervals), "fit_s": fit_s}


def airline_folds(params: dict, seed: int, quick: bool) -> dict:
    """MAPE of each expanding-window fold, beside seasonal naive's (sp = 12)."""
    from sktime.datasets import load_airline
    from sktime.forecasting.model_evaluation import evaluate
    from sktime.forecasting.naive import NaiveForecaster
    from sktime.performance_metrics.forecasting import MeanAbsolutePercentageError
    from sktime.split import ExpandingWindowSplitter

    cv = ExpandingWindowSplitter(initial_window=96, step_length=12, fh=np.arange(1, 13))

    def folds(forecaster) -> list[float]:
        result = evaluate(forecaster, cv, load_airline(),
                          scoring=MeanAbsolutePercentageError(), error_score="raise")
        return result.iloc[:, 0].astype(float).tolist()

    warp = folds(make({**params, **({"n_epochs": 1} if quick else {})}, seed))
    naive = folds(NaiveForecaster(strategy="last", sp=12))
    return {"mape": float(np.mean(warp)), "folds": warp, "naive_folds": naive,
            "below_naive": int(sum(w < b for w, b in zip(warp, naive, strict=True)))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS,
                        choices=list(VARIANTS))
    parser.add_argument("--params", type=json.loads, default=None,
                        help="JSON of WarpForecaster parameters: one more row, e.g. "
                             "'{\"context_length\": 36}'")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-series", type=int, default=None,
                        help="a random subset of the M3 monthly series")
    parser.add_argument("--airline", action="store_true", help="add the airline column")
    parser.add_argument("--quick", action="store_true", help="smoke test: 20 series, 1 epoch")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if args.quick:
        args.n_series, args.seeds = args.n_series or 20, args.seeds[:1]
    series = load_series(args.n_series, "validation")
    ran, start = command("forecasting_ablation"), time.perf_counter()
    rows = []
    variants = {name: VARIANTS[name] for name in args.variants}
    if args.params is not None:
        variants[json.dumps(args.params)] = args.params
    for name, params in variants.items():
        runs = [m3_scores(params, seed, series, args.quick) for seed in args.seeds]
        row = {"variant": name, "params": params, "runs": runs,
               "smape": float(np.mean([r["smape"] for r in runs])),
               "mase": float(np.mean([r["mase"] for r in runs])),
               "coverage80": float(np.mean([r["coverage80"] for r in runs])),
               "fit_s": float(np.mean([r["fit_s"] for r in runs]))}
        if args.airline and name == "defaults":  # the done-when's check is on them
            row["airline"] = [airline_folds(params, seed, args.quick)
                              for seed in args.seeds]
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "runs"}), flush=True)
    wall_s = time.perf_counter() - start
    lines = [f"# WarpForecaster ablation: M3 monthly validation split ({len(series)} series, "
             f"h = {HORIZON}){' and airline' if args.airline else ''}", "", machine_header(),
             f"- command: `{ran}`", f"- seeds {args.seeds}; wall time {wall_s:.0f} s; one "
             "torch thread", ""]
    table = []
    for row in rows:
        seeds = ", ".join(f"{r['smape']:.2f} / {r['mase']:.3f}" for r in row["runs"])
        cells = [row["variant"], f"{row['smape']:.2f}", f"{row['mase']:.3f}",
                 f"{row['coverage80']:.3f}", f"{row['fit_s']:.0f}", seeds]
        if args.airline:
            cells.append(", ".join(f"{r['mape']:.4f} ({r['below_naive']} of "
                                   f"{len(r['folds'])} below naive)"
                                   for r in row.get("airline") or []) or "-")
        table.append(cells)
    lines += markdown_table(
        ["variant", "sMAPE", "MASE", "80% cov.", "fit (s)", "per seed sMAPE / MASE"]
        + (["airline mean MAPE per seed (folds below seasonal naive)"] if args.airline else []),
        table)
    lines += ["", "Each row: `WarpForecaster()` with the change named, one global model "
              "on the panel of validation-split training series (monthly PeriodIndex, so "
              "`seasonal_period=\"auto\"` finds 12). sMAPE and MASE as in "
              "`forecasting_m3.md`, averaged over the seeds."]
    out = write_report("forecasting_ablation", lines, quick=args.quick)
    out.with_suffix(".json").write_text(json.dumps({"rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
