"""Every bad input tried on WarpClassifier and WarpForecaster with its outcome,
and the randomised numerical-stability sweep, with and without the transition
guard, side by side.

    python benchmarks/robustness.py            # all cases; sweep 200 runs x 5 epochs
    python benchmarks/robustness.py --quick    # all cases; sweep 50 runs x 1 epoch

The cases and the sweep are the ones the test suite runs
(tests/_cases.py and tests/_sweep.py, imported from there by path).
Budget: tiny models (root_width 4, one torch thread), 1 epoch per case, 1 or 5
per sweep run; lengths up to 16,384.
Writes benchmarks/results/robustness.md (or robustness_quick.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import skwarp._estimator as estimator_module

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from _cases import bad_input_cases, run_case  # noqa: E402
from _report import machine_header, write_report  # noqa: E402
from _sweep import sweep_run, sweep_settings  # noqa: E402


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def case_table() -> tuple[list[str], int, int]:
    lines = ["| # | estimator | input | must give | outcome | as required |",
             "|---|---|---|---|---|---|"]
    n_passed = 0
    cases = bad_input_cases()
    for number, case in enumerate(cases, 1):
        outcome = run_case(case)
        n_passed += outcome.passed
        print(f"{'ok ' if outcome.passed else 'BAD'} {case.estimator:15} {case.name:45} "
              f"{outcome.result[:70]}", flush=True)
        lines.append(f"| {number} | {case.estimator} | {_cell(case.name)} | "
                     f"{_cell(case.expected)} | {_cell(outcome.result)} | "
                     f"{'yes' if outcome.passed else '**no**'} |")
    return lines, n_passed, len(cases)


def sweep(n_runs: int, n_epochs: int, guarded: bool) -> tuple[list[dict], list, float]:
    gain = estimator_module.MAX_TRANSITION_GAIN
    if not guarded:
        estimator_module.MAX_TRANSITION_GAIN = float("inf")
    try:
        settings = sweep_settings(n_runs, max_length=16384, seed=0)
        start = time.perf_counter()
        runs = [sweep_run(setting, n_epochs) for setting in settings]
        return settings, runs, time.perf_counter() - start
    finally:
        estimator_module.MAX_TRANSITION_GAIN = gain


def summary_row(label: str, runs: list, seconds: float) -> str:
    n_predictions = sum(r.n_predictions for r in runs)
    return (f"| {label} | {len(runs)} | {sum(r.n_non_finite for r in runs)} of "
            f"{n_predictions} | {sum(r.n_non_finite_losses > 0 for r in runs)} | "
            f"{sum(bool(r.error) for r in runs)} | {seconds:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n_runs, n_epochs = (50, 1) if args.quick else (200, 5)

    table, n_passed, n_cases = case_table()
    settings, guarded, seconds = sweep(n_runs, n_epochs, guarded=True)
    _, unguarded, seconds_unguarded = sweep(n_runs, n_epochs, guarded=False)
    lengths = np.array([r.length for r in guarded])
    scales = np.array([r.scale for r in guarded])
    print(f"cases: {n_passed}/{n_cases} as required; sweep: "
          f"{sum(r.n_non_finite for r in guarded)} non-finite predictions, "
          f"{sum(r.n_non_finite_losses > 0 for r in guarded)} runs with a non-finite "
          f"loss (without the guard: {sum(r.n_non_finite_losses > 0 for r in unguarded)})")

    command = f"python benchmarks/robustness.py{' --quick' if args.quick else ''}"
    lines = [
        "# Robustness: bad input and numerical stability", "", machine_header(),
        f"- command: `{command}`", "",
        f"## Bad input: {n_cases} cases, {n_passed} as required", "",
        "Each case runs and its outcome is compared with what it must give: the right "
        "output (checked against a reference, e.g. the same values as float64, the "
        "unscaled data, the input with gaps filled by hand) or an error of the given "
        "type whose message matches the pattern. Tiny models (root_width 4, 1 epoch).",
        "", *table, "",
        f"## Stability sweep: {n_runs} runs of {n_epochs} epoch(s)", "",
        f"- lengths {lengths.min()} to {lengths.max()} (median {int(np.median(lengths))}; "
        f"{int((lengths == 16384).sum())} runs at 16,384); scales "
        f"{scales.min():.1e} to {scales.max():.1e}; offsets up to 10 scales",
        f"- {sum(r.estimator == 'WarpClassifier' for r in guarded)} WarpClassifier runs "
        f"(4 series), {sum(r.estimator == 'WarpForecaster' for r in guarded)} "
        "WarpForecaster runs (2 series; point forecasts and 90% intervals for 3 steps)",
        "- signals: random walk, sine, noise, spikes, steps; scaling standard or minmax; "
        "lr 1e-3..1e-1, transition_lr 1e-5..1e-2 (up to 1000x the default)",
        "- 'without the guard': the same runs with the transition norm cap off "
        "(MAX_TRANSITION_GAIN = inf); a diverged epoch then falls back to finite weights",
        "", "| transition guard | runs | non-finite predictions | runs with a non-finite "
        "training loss | errors | seconds |", "|---|---|---|---|---|---|",
        summary_row("on (default)", guarded, seconds),
        summary_row("off", unguarded, seconds_unguarded), "",
        "### Every run (guard on)", "",
        "| estimator | signal | length | scale | offset | scaling | lr | transition_lr | "
        "predictions | non-finite | non-finite losses (guard off) | error | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for setting, run, off in zip(settings, guarded, unguarded, strict=True):
        lines.append(
            f"| {run.estimator} | {run.signal} | {run.length} | {run.scale:.2e} | "
            f"{run.offset:.2f} | {run.scaling} | {setting['lr']:.1e} | "
            f"{setting['transition_lr']:.1e} | {run.n_predictions} | {run.n_non_finite} | "
            f"{run.n_non_finite_losses} ({off.n_non_finite_losses}) | "
            f"{_cell(run.error) or '-'} | {run.seconds:.2f} |")
    write_report("robustness", lines, args.quick)


if __name__ == "__main__":
    main()
