"""Write your own physics prior (WARP-Phys) in a few lines.

    python examples/physics_prior.py

Newton's law of cooling, ``T' = -r T`` (``T`` above the ambient temperature):
each series is an object cooling at its own rate ``r``. The prior below makes
the root network output ``r`` (positive) and predicts the next temperature
with one Euler step; the state ``theta_t`` identifies ``r`` from the context,
with no gradient step at forecast time. The script compares it with plain
WARP on held-out series, including rates outside the training range.
"""

import time

import numpy as np
import pandas as pd
import torch

from skwarp import WarpForecaster
from skwarp.core import PhysicsPrior
from skwarp.core.physics import positive

N_TIMEPOINTS, CONTEXT, DT = 64, 24, 0.1


class Cooling(PhysicsPrior):
    """One Euler step of ``T' = -r T``, the rate ``r > 0`` from the root network."""

    def __init__(self, dt: float) -> None:
        super().__init__(n_parameters=1, n_outputs=1)
        self.dt = dt

    def forward(self, params, tau, x):
        return x - self.dt * positive(params, 0.5) * x


def cooling_curves(n_series: int, seed: int, rates=(0.2, 1.0)) -> pd.DataFrame:
    """Exact solutions ``T_0 exp(-r t)`` with random rate r and start T_0."""
    rng = np.random.default_rng(seed)
    rate = rng.uniform(*rates, (n_series, 1))
    start = rng.uniform(0.5, 2.0, (n_series, 1))
    t = DT * np.arange(N_TIMEPOINTS)
    values = start * np.exp(-rate * t)
    index = pd.MultiIndex.from_product([range(n_series), range(N_TIMEPOINTS)])
    return pd.DataFrame({"temperature": values.ravel()}, index=index)


def test_mse(forecaster: WarpForecaster, test: pd.DataFrame) -> float:
    """Forecast every test series from its first CONTEXT points."""
    context = test[test.index.get_level_values(1) < CONTEXT].copy()
    context.index = context.index.set_levels(context.index.levels[0] + 1000, level=0)
    forecaster.update(context, update_params=False)  # new series, no gradient step
    horizon = N_TIMEPOINTS - CONTEXT
    forecast = forecaster.predict(fh=np.arange(1, horizon + 1))
    forecast = forecast[forecast.index.get_level_values(0) >= 1000].to_numpy()
    truth = test.to_numpy().reshape(-1, N_TIMEPOINTS)[:, CONTEXT:]
    return float(np.mean((forecast.reshape(truth.shape) - truth) ** 2))


def main(n_epochs: int = 30) -> None:
    torch.set_num_threads(1)
    train = cooling_curves(64, seed=0)
    test = cooling_curves(32, seed=1, rates=(0.1, 1.5))  # reaches past the training rates
    common = dict(context_length=CONTEXT, horizon_length=N_TIMEPOINTS - CONTEXT,
                  decoding="autoregressive", training_mode="recurrent", n_epochs=n_epochs,
                  epoch_size=None, transition="dense", drive="difference", embedding=None,
                  initial_state="mlp",
                  seasonality=None, transform=None, root_width=8,
                  transition_lr=1e-3, random_state=0)
    models = {
        "WARP": WarpForecaster(**common),
        "WARP + Cooling prior": WarpForecaster(**common, physics=Cooling(DT),
                                               scaling=None, window_norm=False),
    }
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(train)
        print(f"{name:22s} test MSE {test_mse(model, test):.2e} "
              f"(fit {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
