"""skwarp: WARP (weight-space linear recurrent networks) for scikit-learn and sktime."""

from skwarp.classification import PAPER_PARAMS, WarpClassifier
from skwarp.forecasting import WarpForecaster

__version__ = "0.1.0"
__all__ = ["PAPER_PARAMS", "WarpClassifier", "WarpForecaster", "__version__"]
