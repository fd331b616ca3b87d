"""Does the forecaster's state read its whole context, or only its ends?

The defaults are fitted on airline less its last 12 months; the context is
the last 24 months, which no training window had as its context (their
contexts end 18 months before the training data does) and half of which the
model never saw. Each check reorders the context's interior (its first and
last points, mean and standard deviation unchanged) and measures how far the
state at the cutoff moves, in units of the state's net displacement over the
context, ``norm(theta_T - theta_0)``.
"""

import numpy as np
import pytest
import torch
from sktime.datasets import load_airline


@pytest.fixture(scope="module")
def fitted(airline_defaults):
    y = load_airline().to_numpy(float)
    return airline_defaults, y[-airline_defaults.context_length:]


def _states(forecaster, context: np.ndarray):
    """theta_0, theta_T and the decayed theta_0 (``A^(T-1) theta_0``) of one
    context in the forecaster's units, as a forecast builds them."""
    key = next(iter(forecaster._recent))
    x = forecaster._in_model_units(key, context[:, None])
    x = forecaster.scaler_.transform(x[None], np.array([len(context)]))
    x, _, _ = forecaster._normalise(torch.from_numpy(x))
    network = forecaster.network_
    with torch.no_grad():
        theta0 = network.initial_state(x[:, 0])
        decayed = network.transition.decay(theta0, torch.tensor([float(len(context) - 1)]))
        return theta0[0].numpy(), network.final_state(x)[0].numpy(), decayed[0].numpy()


def _reversed_interior(context: np.ndarray, start: int, stop: int) -> np.ndarray:
    out = context.copy()
    out[start:stop] = out[start:stop][::-1]
    return out


def _moves(fitted, start: int, stop: int, unit: str) -> float:
    forecaster, context = fitted
    theta0, final, decayed = _states(forecaster, context)
    _, moved, _ = _states(forecaster, _reversed_interior(context, start, stop))
    scale = final - theta0 if unit == "displacement" else final - decayed
    return float(np.linalg.norm(moved - final) / np.linalg.norm(scale))


def test_reversing_the_interior_moves_the_driven_state(fitted):
    # in units of the part of the state the context drives (theta_T less
    # what is left of theta_0): the order of the interior points counts
    n = len(fitted[1])
    assert _moves(fitted, 1, n - 1, "driven") >= 1 / 3


def test_reversing_the_interior_moves_the_state_by_a_third_of_its_displacement(fitted):
    n = len(fitted[1])
    assert _moves(fitted, 1, n - 1, "displacement") >= 1 / 3


def test_reversing_the_older_half_moves_the_state_by_a_tenth_of_its_displacement(fitted):
    n = len(fitted[1])
    assert _moves(fitted, 1, n // 2, "displacement") >= 1 / 10
