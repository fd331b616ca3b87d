"""Seeded generators of synthetic series (numpy; sktime data containers).

``make_mass_spring_damper`` follows the WARP paper's MSD task
(``shared/WARP.md``, section 5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MSD_TRAIN_RANGES = {"m": (0.02, 0.04), "k": (4.0, 16.0), "c": (0.01, 0.2)}
MSD_TEST_RANGES = {"m": (0.01, 0.05), "k": (2.0, 18.0), "c": (0.01, 0.3)}


def _check_ranges(ranges: dict) -> None:
    for name in ("m", "k", "c"):
        if name not in ranges:
            raise ValueError(f"ranges needs an entry for {name!r}")
        low, high = ranges[name]
        if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
            raise ValueError(f"range of {name!r} must satisfy 0 < low <= high, "
                             f"got ({low}, {high})")


def make_mass_spring_damper(n_series: int = 200, n_timepoints: int = 256,
                            ranges: dict | None = None, random_initial_state: bool = False,
                            random_state: int | None = None, substeps: int = 20
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trajectories of ``m x'' = -k x - c x'`` on ``t in [0, 1]``.

    Parameters
    ----------
    n_series, n_timepoints : int
    ranges : dict of (low, high), optional
        Uniform ranges of ``m``, ``k`` and ``c``; default the paper's training
        ranges (``MSD_TEST_RANGES`` holds its out-of-distribution test ranges).
    random_initial_state : bool
        ``(x0, v0) = (1, 0) + U(-0.5, 0.5)^2`` (MSD-Zero) instead of ``(1, 0)``.
    random_state : int or None
    substeps : int
        Semi-implicit Euler substeps per sample.

    Returns
    -------
    y : pd.DataFrame
        ``pd-multiindex`` panel (series, time) with columns position, velocity.
    params : pd.DataFrame
        m, k, c of each series.
    """
    ranges = MSD_TRAIN_RANGES if ranges is None else ranges
    _check_ranges(ranges)
    if n_series < 1 or n_timepoints < 2:
        raise ValueError("n_series must be >= 1 and n_timepoints >= 2")
    rng = np.random.default_rng(random_state)
    m, k, c = (rng.uniform(*ranges[name], n_series) for name in ("m", "k", "c"))
    x = np.ones(n_series)
    v = np.zeros(n_series)
    if random_initial_state:
        x = x + rng.uniform(-0.5, 0.5, n_series)
        v = v + rng.uniform(-0.5, 0.5, n_series)
    dt = 1.0 / (n_timepoints - 1) / substeps
    trajectory = np.empty((n_timepoints, n_series, 2))
    for t in range(n_timepoints):
        trajectory[t] = np.stack((x, v), axis=1)
        for _ in range(substeps):
            v = v + dt * (-k * x - c * v) / m
            x = x + dt * v
    index = pd.MultiIndex.from_product([range(n_series), range(n_timepoints)],
                                       names=["series", "time"])
    y = pd.DataFrame(trajectory.transpose(1, 0, 2).reshape(-1, 2), index=index,
                     columns=["position", "velocity"])
    return y, pd.DataFrame({"m": m, "k": k, "c": c})
