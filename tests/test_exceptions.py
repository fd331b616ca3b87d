"""skwarp.exceptions holds every exception and warning class skwarp defines."""

import ast
import inspect
from pathlib import Path

import pytest
from _helpers import TINY_FORECASTER

import skwarp
import skwarp.exceptions
from skwarp import WarpForecaster

PACKAGE = Path(skwarp.__file__).resolve().parent


def _defined_exceptions() -> dict[str, str]:
    """Classes under skwarp/ whose bases name an Error, Exception or Warning: name ->
    module."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name) and (b.id.endswith(("Error", "Exception", "Warning")))
                    for b in node.bases):
                module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
                found[node.name] = module
    return found


def test_every_exception_class_is_exported_from_skwarp_exceptions():
    defined = _defined_exceptions()
    assert {"NonFiniteOutputError", "InSampleHorizonError", "SeasonalPeriodWarning"} \
        <= set(defined)
    assert set(skwarp.exceptions.__all__) == set(defined)
    for name, module in defined.items():
        cls = getattr(skwarp.exceptions, name)
        assert inspect.isclass(cls) and issubclass(cls, Exception)
        assert cls is getattr(__import__(module, fromlist=[name]), name)


def test_in_sample_horizon_is_caught_as_the_exported_class():
    import pandas as pd

    y = pd.Series(range(20), dtype=float)
    forecaster = WarpForecaster(**TINY_FORECASTER).fit(y)
    with pytest.raises(skwarp.exceptions.InSampleHorizonError):
        forecaster.predict(fh=[0, 1])
    with pytest.raises(AttributeError):
        skwarp.exceptions.NoSuchError  # noqa: B018
