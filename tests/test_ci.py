"""CI runs the README's test command verbatim, with the linter before pytest."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command_after_ruff():
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"Run the tests:\n\n```bash\n(.+)\n```", readme).group(1)
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line and not line.startswith("#")]
    assert command in lines
    assert "ruff check ." in lines
    assert lines.index("ruff check .") < lines.index(command)
    install = next(i for i, line in enumerate(lines) if line.startswith("pip install -e"))
    assert install < lines.index("ruff check .")


def test_ci_runs_the_suite_again_under_pandas_2():
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if line and not line.startswith("#")]
    downgrade = next(i for i, line in enumerate(lines) if '"pandas<3"' in line)
    assert lines[-1] == "python -m pytest" and downgrade < len(lines) - 1
