"""Machine, versions and date for benchmark reports."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]  # the repository: run the scripts from here
RESULTS = Path(__file__).resolve().parent / "results"


def machine_header() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    import numpy

    lines = [
        f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"- machine: {cpu}, {os.cpu_count()} cores; GPU: {gpu}",
        f"- python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {numpy.__version__}",
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
