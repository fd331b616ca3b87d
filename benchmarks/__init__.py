"""Measurement scripts, run from the repository root as ``python -m
benchmarks.<name>``; each writes its table, with machine, versions, date and
command, to ``benchmarks/results/<name>.md``. Not part of the installed package."""
