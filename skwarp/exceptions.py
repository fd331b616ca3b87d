"""Every exception and warning skwarp raises of its own.

Besides these, skwarp raises the built-in ``ValueError`` and ``TypeError``
for invalid input and hyper-parameters, with messages that name the problem.

    >>> from skwarp.exceptions import InSampleHorizonError, NonFiniteOutputError
    >>> issubclass(NonFiniteOutputError, ValueError)
    True
"""

from __future__ import annotations

__all__ = ["DivergenceWarning", "InSampleHorizonError", "NonFiniteOutputError",
           "SeasonalPeriodWarning"]


class NonFiniteOutputError(ValueError, FloatingPointError):
    """The fitted network produced NaN or inf for some input.

    A ``ValueError`` (the input lies too far outside what the model was fitted
    on) and a ``FloatingPointError`` (what overflowed).
    """


class InSampleHorizonError(ValueError, NotImplementedError):
    """An in-sample forecasting horizon: WarpForecaster forecasts the future only.

    A ``ValueError`` for users, and the ``NotImplementedError`` sktime raises
    for forecasters without in-sample capability.
    """


class SeasonalPeriodWarning(UserWarning):
    """``seasonal_period="auto"`` found no seasonal period, so no series is
    seasonally adjusted.

    Raised where the time index has no frequency and the autocorrelation test
    finds no candidate period in the data; pass ``seasonal_period=`` an
    integer to adjust anyway, or None to adjust nothing without the warning.
    """


class DivergenceWarning(RuntimeWarning):
    """Training diverged (a non-finite loss or weights) and was stopped; the
    network keeps its best finite weights (the initial ones where no other
    was finite on the training data).

    A ``RuntimeWarning``, so filters of those still catch it; filter this
    class to treat divergence apart, as scikit-learn's ``ConvergenceWarning``
    allows for non-convergence. A smaller ``lr`` or ``transition_lr`` usually
    avoids it.
    """
