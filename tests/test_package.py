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


def test_every_module_says_what_it_exports():
    import importlib
    import inspect
    import pkgutil

    import skwarp

    names = ["skwarp"] + [m.name for m in pkgutil.walk_packages(skwarp.__path__, "skwarp.")]
    assert "skwarp.core.spec" in names
    for name in names:
        module = importlib.import_module(name)
        exported = module.__all__
        assert len(set(exported)) == len(exported), name
        for attribute in exported:
            value = getattr(module, attribute)  # every exported name exists
            if inspect.isclass(value) or inspect.isfunction(value):
                assert value.__module__.startswith("skwarp"), (name, attribute)
        assert not {"annotations", "Path", "np", "torch"} & set(exported), name


def test_no_docstring_or_comment_in_the_library_quotes_a_measurement():
    """Figures live in benchmarks/results, so a rerun never edits the library."""
    import re
    from pathlib import Path

    import skwarp

    measurement = re.compile(
        r"measured (on|at|with)|\b\d+(\.\d+)?x (faster|slower|the)\b|\b20\d\d-\d\d-\d\d\b|"
        r"accuracy (of |from |to )?0\.\d{2}|\b0\.\d{3} (mean|accuracy)|\b\d+(\.\d+)? ?(ms|s) "
        r"(per|a|for)\b")
    found = [f"{path.name}:{number}: {line.strip()}"
             for path in Path(skwarp.__file__).parent.rglob("*.py")
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if measurement.search(line)]
    assert not found, found
