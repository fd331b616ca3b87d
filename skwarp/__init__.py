"""skwarp: WARP (weight-space linear recurrent networks) for scikit-learn and sktime.

The estimators are imported on first use, so that ``import skwarp.core`` (the
plain-torch core) does not import sktime.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0.dev8"
__all__ = ["PAPER_FORECASTER_PARAMS", "PAPER_PARAMS", "WarpClassifier", "WarpForecaster",
           "__version__"]

_LAZY = {"PAPER_PARAMS": "skwarp.classification", "WarpClassifier": "skwarp.classification",
         "PAPER_FORECASTER_PARAMS": "skwarp.forecasting", "WarpForecaster": "skwarp.forecasting"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
