"""WarpForecaster past its training horizon: MASE by horizon step.

On M3 monthly's validation split (each training series without its last 18
points, scored on those: the test part is never looked at), the defaults
trained for ``horizon_length=12`` and asked for 18 steps beside the defaults
trained for 18 (``--seeds``; one global model each). Columns: MASE (m = 12,
as ``forecasting_m3``) at each step 1..18, and the mean over steps 13-18,
where the first model forecasts past what it was trained on.

    python -m benchmarks.forecasting_horizon
    python -m benchmarks.forecasting_horizon --seeds 0 --n-series 200

Writes ``benchmarks/results/forecasting_horizon.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from benchmarks._harness import command, machine_header, markdown_table, write_report
from benchmarks.forecasting_m3 import HORIZON, SEASON, load_series, panel, per_series

TRAINED_FOR = (12, 18)


def mase_by_step(series, point: np.ndarray) -> np.ndarray:
    """(h,) mean over series of |a - f| at each step over the in-sample mean
    absolute seasonal difference."""
    actual = np.stack([s[2] for s in series])
    scale = np.array([np.mean(np.abs(x[SEASON:] - x[:-SEASON])) for _, x, _ in series])
    return np.mean(np.abs(actual - point) / scale[:, None], axis=0)


def run(horizon_length: int, seed: int, series) -> dict:
    from skwarp import WarpForecaster

    forecaster = WarpForecaster(horizon_length=horizon_length, random_state=seed)
    start = time.perf_counter()
    forecaster.fit(panel(series))
    fit_s = time.perf_counter() - start
    point = per_series(forecaster.predict(np.arange(1, HORIZON + 1)), series)
    return {"horizon_length": horizon_length, "seed": seed, "fit_s": fit_s,
            "mase_by_step": mase_by_step(series, point).tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-series", type=int, default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    ran, start = command("forecasting_horizon"), time.perf_counter()
    series = load_series(args.n_series, "validation")
    runs = [run(h, seed, series) for h in TRAINED_FOR for seed in args.seeds]
    rows = []
    for h in TRAINED_FOR:
        by_step = np.mean([r["mase_by_step"] for r in runs if r["horizon_length"] == h], axis=0)
        rows.append({"horizon_length": h, "mase_by_step": by_step.tolist(),
                     "mase_13_18": float(by_step[12:].mean()),
                     "mase": float(by_step.mean())})
    ratio = rows[0]["mase_13_18"] / rows[1]["mase_13_18"]
    lines = [f"# WarpForecaster past its training horizon: M3 monthly validation split "
             f"({len(series)} series)", "", machine_header(), f"- command: `{ran}`",
             f"- seeds {args.seeds}; wall time {time.perf_counter() - start:.0f} s; one torch "
             "thread", ""]
    lines += markdown_table(
        ["trained for", *range(1, HORIZON + 1), "steps 13-18", "all"],
        [[row["horizon_length"], *(f"{v:.3f}" for v in row["mase_by_step"]),
          f"{row['mase_13_18']:.3f}", f"{row['mase']:.3f}"] for row in rows])
    lines += ["", f"Over steps 13-18, trained for 12 / trained for 18: {ratio:.3f}x. MASE "
              "by step: mean over series of the absolute error at that step over the "
              "series' in-sample mean absolute lag-12 difference, averaged over the seeds."]
    out = write_report("forecasting_horizon", lines)
    out.with_suffix(".json").write_text(json.dumps(
        {"rows": rows, "runs": runs, "ratio_13_18": ratio}, indent=1) + "\n")


if __name__ == "__main__":
    main()
