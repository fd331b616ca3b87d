"""Fixtures shared by the test modules.

The tiny configurations and the reference recurrence live in ``_helpers.py``
(the case catalogue in ``_cases.py``, the stability sweep in ``_sweep.py``):
plain modules next to this file, importable by the tests because pytest puts
this directory on ``sys.path``; this file makes sure of it whatever the import
mode.
"""

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from _helpers import TINY_CLASSIFIER, TINY_FORECASTER  # noqa: E402


@pytest.fixture
def tiny_classifier_params() -> dict:
    """A fresh copy of :data:`_helpers.TINY_CLASSIFIER`."""
    return dict(TINY_CLASSIFIER)


@pytest.fixture
def tiny_forecaster_params() -> dict:
    """A fresh copy of :data:`_helpers.TINY_FORECASTER`."""
    return dict(TINY_FORECASTER)


@pytest.fixture(scope="session")
def airline_defaults():
    """``WarpForecaster(random_state=0)`` fitted on airline less its last 12
    months: one fit of the defaults, shared by the tests of the defaults
    themselves (they only read it)."""
    from sktime.datasets import load_airline

    from skwarp import WarpForecaster

    return WarpForecaster(random_state=0).fit(load_airline()[:-12])
