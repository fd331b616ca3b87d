"""The examples use skwarp's public API only."""

import ast
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.py"))


def _skwarp_imports(path: Path) -> list[str]:
    """Every ``skwarp...`` module and name an example imports, dotted."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "skwarp":
            names += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names
                      if alias.name.split(".")[0] == "skwarp"]
    return names


def test_there_are_examples():
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_imports_only_public_names(path):
    names = _skwarp_imports(path)
    assert names, "the example imports nothing from skwarp"
    private = [name for name in names if any(part.startswith("_")
                                             for part in name.split("."))]
    assert private == []
