"""WarpForecaster on a panel of many series: time and memory of each method.

A synthetic panel of ``--n-series`` monthly series of ``--length`` points
(level, trend, multiplicative season and noise, each drawn per series;
``numpy.random.default_rng(0)``) as a ``pd-multiindex`` frame with a monthly
``PeriodIndex``. One process fits the defaults once, then calls ``predict``,
``predict_interval(coverage=0.8)`` and ``predict_proba`` for fh 1..18 in turn;
each row gives the method's seconds and the process's peak resident memory
(``ru_maxrss``, Python and the libraries included) after it.

    python -m benchmarks.forecasting_panel                  # 20,000 series of 72 points
    python -m benchmarks.forecasting_panel --n-series 2000  # a smaller panel

Writes ``benchmarks/results/forecasting_panel.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import warnings

import numpy as np

from benchmarks._harness import command, machine_header, markdown_table, write_report

HORIZON = 18


def make_panel(n_series: int, length: int):
    """Positive monthly series: level x exp(trend) x season x noise."""
    import pandas as pd

    rng = np.random.default_rng(0)
    t = np.arange(length)
    level = rng.uniform(100, 10_000, (n_series, 1))
    trend = rng.normal(0, 0.01, (n_series, 1)) * t
    season = 1 + rng.uniform(0, 0.3, (n_series, 1)) * np.sin(
        2 * np.pi * (t + rng.integers(0, 12, (n_series, 1))) / 12)
    noise = np.exp(rng.normal(0, 0.05, (n_series, length)))
    values = level * np.exp(trend) * season * noise
    index = pd.MultiIndex.from_product(
        [[f"s{i}" for i in range(n_series)],
         pd.period_range(end="2020-12", periods=length, freq="M")], names=["series", "time"])
    return pd.DataFrame({"y": values.ravel()}, index=index)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-series", type=int, default=20_000)
    parser.add_argument("--length", type=int, default=72)
    parser.add_argument("--seed", type=int, default=0, help="WarpForecaster random_state")
    args = parser.parse_args()
    import torch

    from skwarp import WarpForecaster

    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    ran = command("forecasting_panel")
    y = make_panel(args.n_series, args.length)
    forecaster = WarpForecaster(random_state=args.seed)
    fh = np.arange(1, HORIZON + 1)
    steps = {"fit": lambda: forecaster.fit(y),
             "predict": lambda: forecaster.predict(fh),
             "predict_interval(coverage=0.8)": lambda: forecaster.predict_interval(
                 fh, coverage=0.8),
             "predict_proba": lambda: forecaster.predict_proba(fh)}
    rows = []
    for name, step in steps.items():
        start = time.perf_counter()
        step()
        rows.append({"method": name, "seconds": time.perf_counter() - start,
                     "peak_mb": peak_mb()})
        print(json.dumps(rows[-1]), flush=True)
    lines = [f"# WarpForecaster on a panel of {args.n_series:,} monthly series of "
             f"{args.length} points", "", machine_header(), f"- command: `{ran}`",
             "- one torch thread; defaults, random_state "
             f"{args.seed}; fh 1..{HORIZON}", ""]
    lines += markdown_table(["method", "seconds", "peak memory after it (MB)"],
                            [[f"`{r['method']}`", f"{r['seconds']:.1f}", f"{r['peak_mb']:.0f}"]
                             for r in rows])
    lines += ["", "Peak memory: the process's maximum resident set so far (Python, the "
              "libraries and the panel included); the methods run in turn in one process."]
    out = write_report("forecasting_panel", lines)
    out.with_suffix(".json").write_text(json.dumps(
        {"n_series": args.n_series, "length": args.length, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
