"""The installed package is the product: no test cases in it, and its
docstrings and comments cite nothing outside it."""

import re
from pathlib import Path

import pytest

import skwarp

PACKAGE = Path(skwarp.__file__).resolve().parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
# a path into the repository around the package (not installed with it)
OUTSIDE = re.compile(r"\b(benchmarks|shared|tests|examples)/|\bWARP\.md\b")


def _param(path: Path):
    return pytest.param(path, id=path.relative_to(PACKAGE).as_posix())


@pytest.mark.parametrize("path", [_param(p) for p in SOURCES])
def test_source_cites_no_file_outside_the_package(path):
    lines = [f"{number}: {line.strip()}"
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if OUTSIDE.search(line)]
    assert lines == []


def test_no_module_holds_test_cases():
    holders = [p.relative_to(PACKAGE).as_posix() for p in SOURCES
               if re.search(r"\b(WrongOutput|bad_input_cases|stability_sweep|TINY_[A-Z]+)\b",
                            p.read_text())]
    assert holders == []
