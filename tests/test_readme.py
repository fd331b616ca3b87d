"""The README's Python blocks run as written, at a small budget.

Every ``random_state=0)`` in a block becomes ``random_state=0, n_epochs=2)``
before it runs, so the suite checks the code a user copies (imports, calls,
shapes) without training the defaults' full budget; each block runs in a
fresh namespace in a temporary directory (the pretraining block writes a file).
"""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_python_blocks():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = code.replace("random_state=0)", "random_state=0, n_epochs=2)")
    assert small != code, "a block without random_state=0) would train the full budget"
    exec(compile(small, str(README), "exec"), {"__name__": "readme"})
