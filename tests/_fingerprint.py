"""The defaults' predictions on a few datasets, recorded so a refactor that
changes them is caught (``test_fingerprint.py``).

Each case is an estimator with its default settings except for a short
training (``n_epochs``) and one thread, fitted on data that sktime ships.
``python tests/_fingerprint.py`` rewrites ``fixtures/fingerprint.json``: do
that only for a change that is meant to alter the defaults' results, and say
so in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "fingerprint.json"


def _classifier_case(loader, **params):
    from skwarp import WarpClassifier

    X_train, y_train = loader(split="train", return_type="numpy3D")
    X_test, _ = loader(split="test", return_type="numpy3D")
    clf = WarpClassifier(n_epochs=2, random_state=0, n_threads=1, device="cpu", **params)
    return clf.fit(X_train, y_train).predict_proba(X_test[:20])


def _forecaster_case(**params):
    from sktime.datasets import load_airline

    from skwarp import WarpForecaster

    y = load_airline()
    forecaster = WarpForecaster(n_epochs=2, random_state=0, n_threads=1, device="cpu",
                                n_samples=20, **params).fit(y[:-12])
    mean = forecaster.predict(fh=range(1, 13)).to_numpy()
    interval = forecaster.predict_interval(fh=range(1, 13), coverage=0.8).to_numpy()
    return np.concatenate([mean.ravel(), interval.ravel()])


def _cases():
    from sktime.datasets import load_basic_motions, load_gunpoint, load_italy_power_demand

    from skwarp import PAPER_PARAMS

    return {
        "classifier_basic_motions": lambda: _classifier_case(load_basic_motions),
        "classifier_gunpoint": lambda: _classifier_case(load_gunpoint),
        "classifier_italy_power_demand": lambda: _classifier_case(load_italy_power_demand),
        "classifier_paper_gunpoint": lambda: _classifier_case(load_gunpoint, **PAPER_PARAMS),
        # the lru averaged over the longest series (the defaults before running_average)
        "classifier_gunpoint_reference": lambda: _classifier_case(load_gunpoint,
                                                                  running_average=False),
        "forecaster_airline": _forecaster_case,
    }


CASE_NAMES = ("classifier_basic_motions", "classifier_gunpoint",
              "classifier_italy_power_demand", "classifier_paper_gunpoint",
              "classifier_gunpoint_reference", "forecaster_airline")


def build() -> dict:
    """The build the numbers depend on beyond the code: torch's version and the
    CPU kernels it dispatches to (training amplifies their rounding)."""
    import torch

    return {"torch": torch.__version__, "cpu": torch.backends.cpu.get_cpu_capability()}


def compute(name: str) -> np.ndarray:
    """The predictions of case ``name``, flattened to float64."""
    return np.asarray(_cases()[name](), dtype=np.float64).ravel()


if __name__ == "__main__":
    FIXTURE.parent.mkdir(exist_ok=True)
    record = {name: compute(name).tolist() for name in CASE_NAMES}
    FIXTURE.write_text(json.dumps({"_build": build(), **record}, indent=1) + "\n")
    print(f"wrote {FIXTURE}")
