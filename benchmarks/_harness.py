"""What the benchmark scripts share: the classification datasets, running a
case in a fresh interpreter, markdown tables, and the report's header and file."""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]  # the repository: run the scripts from here
RESULTS = Path(__file__).resolve().parent / "results"

# the seven classification datasets (they ship with sktime)
DATASETS = ("BasicMotions", "JapaneseVowels", "ArrowHead", "GunPoint", "ItalyPowerDemand",
            "OSULeaf", "ACSF1")


def load_split(dataset: str):
    """``(X_train, y_train, X_test, y_test)``: the official split, labels as arrays."""
    from skwarp.datasets import load_ts

    X_train, y_train = load_ts(dataset, split="train")
    X_test, y_test = load_ts(dataset, split="test")
    return X_train, np.asarray(y_train), X_test, np.asarray(y_test)


def markdown_table(header: list, rows: list[list]) -> list[str]:
    """The lines of a markdown table: ``| a | b |``, ``|---|---|``, then the rows
    (cells already formatted, or turned into text with ``str``)."""
    def line(cells) -> str:
        return "| " + " | ".join(map(str, cells)) + " |"

    return [line(header), "|---" * len(header) + "|", *map(line, rows)]


def run_isolated(argv: list[str], timeout: float | None = 3600,
                 error_row: dict | None = None) -> dict:
    """Run ``python <argv>`` from the repository root in a fresh interpreter,
    so one case's memory never hides another's, and return the JSON it prints
    on its last line. A failure (non-zero exit, timeout) raises, or, given
    ``error_row``, returns ``{**error_row, "error": why}``."""
    try:
        done = subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                              timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        if error_row is None:
            raise
        return {**error_row, "error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        if error_row is None:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-3000:]}")
        tail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return {**error_row, "error": tail[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_case(module: str, case: dict, timeout: float | None = 3600,
             error_row: dict | None = None) -> dict:
    """``run_isolated`` of ``python -m <module> --case <json>``."""
    return run_isolated(["-m", module, "--case", json.dumps(case)], timeout, error_row)


def machine_header() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    lines = [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- machine: {cpu}, {os.cpu_count()} cores; GPU: {gpu}",
        f"- python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {np.__version__}",
    ]
    try:
        import sklearn
        import sktime

        lines.append(f"- scikit-learn {sklearn.__version__}, sktime {sktime.__version__}")
    except ImportError:
        pass
    return "\n".join(lines)


def command(name: str) -> str:
    """The command line that ran ``benchmarks.<name>``, arguments quoted as a
    shell needs them."""
    return " ".join(["python -m benchmarks." + name, *map(shlex.quote, sys.argv[1:])])


def write_report(stem: str, lines: list[str], quick: bool = False) -> Path:
    """Write ``lines`` to ``benchmarks/results/<stem>.md`` (``<stem>_quick.md``
    for a quick run, which git ignores) and say where."""
    out = RESULTS / f"{stem}{'_quick' if quick else ''}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out}")
    return out
