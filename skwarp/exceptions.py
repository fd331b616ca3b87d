"""Every exception skwarp raises of its own.

Besides these, skwarp raises the built-in ``ValueError`` and ``TypeError``
for invalid input and hyper-parameters, with messages that name the problem.

    >>> from skwarp.exceptions import InSampleHorizonError, NonFiniteOutputError
    >>> issubclass(NonFiniteOutputError, ValueError)
    True
"""

from __future__ import annotations

__all__ = ["InSampleHorizonError", "NonFiniteOutputError"]  # noqa: F822 - see __getattr__


class NonFiniteOutputError(ValueError, FloatingPointError):
    """The fitted network produced NaN or inf for some input.

    A ``ValueError`` (the input lies too far outside what the model was fitted
    on) and a ``FloatingPointError`` (what overflowed).
    """


def __getattr__(name: str):
    # InSampleHorizonError is still defined in skwarp.forecasting (which
    # imports this package's validation, and so this module): fetched lazily
    # to avoid the import cycle, the same class object either way.
    if name == "InSampleHorizonError":
        from skwarp.forecasting import InSampleHorizonError

        return InSampleHorizonError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "InSampleHorizonError"])
