"""The examples use skwarp's public API only, and run."""

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


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_at_a_small_budget(path, tmp_path, monkeypatch):
    """Each example's ``main(n_epochs=...)`` runs end to end (its figures are
    written to a temporary directory)."""
    import importlib.util

    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location(f"example_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(n_epochs=1)
