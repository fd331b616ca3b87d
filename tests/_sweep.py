"""A randomised numerical-stability sweep of both estimators.

Run by the test suite (``tests/test_extreme_values.py``: 50 short runs by default,
200 under ``-m slow``).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from _cases import one_line
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER

from skwarp import WarpClassifier, WarpForecaster

# --------------------------------------------------------------------------- #
# stability sweep
# --------------------------------------------------------------------------- #
SIGNALS = ("random walk", "sine", "noise", "spikes", "steps")


@dataclass(frozen=True)
class SweepRun:
    """One randomised training run and what came out."""

    estimator: str
    signal: str
    length: int
    scale: float
    offset: float
    scaling: str
    n_predictions: int
    n_non_finite: int
    n_non_finite_losses: int
    error: str
    seconds: float


def signal(kind: str, n_series: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """(n_series, length) raw signals of order one."""
    t = np.arange(length)
    noise = rng.standard_normal((n_series, length))
    if kind == "random walk":
        return np.cumsum(noise, axis=1) / np.sqrt(max(length, 1))
    if kind == "sine":
        periods = rng.uniform(3, max(4, length / 2), size=(n_series, 1))
        return np.sin(2 * np.pi * t / periods) + 0.05 * noise
    if kind == "spikes":
        return noise * (rng.random((n_series, length)) < 0.01) * 100
    if kind == "steps":
        return np.cumsum(rng.random((n_series, length)) < 0.005, axis=1) + 0.01 * noise
    return noise


def sweep_settings(n_runs: int, max_length: int = 16384, seed: int = 0) -> list[dict]:
    """Random run settings: lengths log-uniform up to ``max_length`` (the first
    two runs, one per estimator, at ``max_length``), scales 10^U(-6, 6), offsets
    up to 10 scales, signals from :data:`SIGNALS`, both scalings, learning
    rates 10^U(-3, -1) and transition learning rates 10^U(-5, -2) (up to 1000
    times the default, to stress the transition guard)."""
    rng = np.random.default_rng(seed)
    settings = []
    for i in range(n_runs):
        estimator = "WarpForecaster" if i % 3 == 1 else "WarpClassifier"
        shortest = TINY_FORECASTER["context_length"] + 2 if estimator == "WarpForecaster" \
            else 1
        length = max_length if i < 2 else int(np.exp(rng.uniform(np.log(shortest),
                                                                  np.log(max_length))))
        settings.append({
            "estimator": estimator, "length": max(length, shortest),
            "signal": SIGNALS[rng.integers(len(SIGNALS))],
            "scale": float(10 ** rng.uniform(-6, 6)),
            "offset": float(rng.uniform(-10, 10)) if rng.random() < 0.5 else 0.0,
            "scaling": str(rng.choice(["standard", "minmax"])),
            "lr": float(10 ** rng.uniform(-3, -1)),
            "transition_lr": float(10 ** rng.uniform(-5, -2)),
            "seed": int(rng.integers(2**31)),
        })
    return settings


def sweep_run(setting: dict, n_epochs: int = 1) -> SweepRun:
    """Train on one randomised setting; count non-finite predictions and losses."""
    rng = np.random.default_rng(setting["seed"])
    is_classifier = setting["estimator"] == "WarpClassifier"
    n_series = 4 if is_classifier else 2
    raw = signal(setting["signal"], n_series, setting["length"], rng)
    values = (raw + setting["offset"]) * setting["scale"]
    start = time.perf_counter()
    record = {"predictions": np.zeros(0), "losses": []}
    error = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = _sweep_classifier if is_classifier else _sweep_forecaster
            run(values, setting, n_epochs, record)
    except Exception as exc:  # noqa: BLE001 - reported, and counted as a failure
        error = f"{type(exc).__name__}: {one_line(str(exc), 100)}"
    predictions, losses = record["predictions"], np.asarray(record["losses"], dtype=float)
    return SweepRun(setting["estimator"], setting["signal"], setting["length"],
                    setting["scale"], setting["offset"], setting["scaling"],
                    predictions.size, int((~np.isfinite(predictions)).sum()),
                    int((~np.isfinite(losses)).sum()), error, time.perf_counter() - start)


def _training(setting: dict, n_epochs: int) -> dict:
    return {"n_epochs": n_epochs, "scaling": setting["scaling"], "lr": setting["lr"],
            "transition_lr": setting["transition_lr"], "random_state": setting["seed"]}


def _sweep_classifier(values: np.ndarray, setting: dict, n_epochs: int, record: dict):
    X = values[:, None, :]
    y = np.array([0, 1] * (len(X) // 2))
    clf = WarpClassifier(**{**TINY_CLASSIFIER, **setting.get("params", {}),
                            **_training(setting, n_epochs)}).fit(X, y)
    record["losses"] = clf.history_["train_loss"]
    record["predictions"] = clf.predict_proba(X)


def _sweep_forecaster(values: np.ndarray, setting: dict, n_epochs: int, record: dict):
    index = pd.MultiIndex.from_product([range(len(values)), range(values.shape[1])])
    y = pd.DataFrame({"y": values.ravel()}, index=index)
    forecaster = WarpForecaster(**{**TINY_FORECASTER, **_training(setting, n_epochs),
                                   "batch_size": 512}).fit(y)
    record["losses"] = forecaster.history_["train_loss"]
    point = forecaster.predict(fh=[1, 2, 3]).to_numpy(dtype=float)
    interval = forecaster.predict_interval(fh=[1, 2, 3], coverage=0.9).to_numpy(dtype=float)
    record["predictions"] = np.concatenate([point.ravel(), interval.ravel()])


def stability_sweep(n_runs: int = 50, max_length: int = 16384, seed: int = 0,
                    n_epochs: int = 1) -> list[SweepRun]:
    """``n_runs`` randomised short trainings (see :func:`sweep_settings`)."""
    return [sweep_run(setting, n_epochs) for setting in sweep_settings(n_runs, max_length,
                                                                       seed)]
