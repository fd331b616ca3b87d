"""Determinism: fit and predict of both estimators never touch the global
random number generators (torch's, numpy's, Python's), whatever the
``random_state``; and the same ``random_state`` gives bit-identical
predictions across fits, whatever the global RNG state, and across fresh
processes with different hash seeds."""

import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER, random_walk_panel, sine_series

import skwarp
from skwarp import WarpClassifier, WarpForecaster

ROOT = Path(skwarp.__file__).resolve().parent.parent


def _rng_states():
    return torch.get_rng_state(), np.random.get_state(), random.getstate()


def _assert_same_rng_states(before, after):
    assert torch.equal(before[0], after[0])
    assert all(np.array_equal(a, b) for a, b in zip(before[1], after[1], strict=True))
    assert before[2] == after[2]


@pytest.mark.parametrize("random_state", [0, None, np.random.RandomState(3)])
def test_fit_and_predict_never_touch_the_global_rngs(random_state):
    X, y = random_walk_panel()
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    before = _rng_states()
    clf = WarpClassifier(**{**TINY_CLASSIFIER, "random_state": random_state,
                            "validation_fraction": 0.25, "input_noise": 0.3}).fit(X, y)
    clf.predict_proba(X)
    forecaster = WarpForecaster(**{**TINY_FORECASTER, "random_state": random_state,
                                   "training_mode": "recurrent"}).fit(sine_series())
    forecaster.predict_interval(fh=[1, 2])
    forecaster.update(sine_series(70).iloc[60:], update_params=True)
    forecaster.predict(fh=[1])
    _assert_same_rng_states(before, _rng_states())


def test_same_random_state_same_predictions_across_fits():
    X, y = random_walk_panel()
    params = {**TINY_CLASSIFIER, "n_epochs": 3, "validation_fraction": 0.25}
    first = WarpClassifier(**params).fit(X, y).predict_proba(X)
    torch.manual_seed(999)  # the global RNG state must not matter
    np.random.seed(999)
    np.testing.assert_array_equal(first, WarpClassifier(**params).fit(X, y).predict_proba(X))
    forecasts = [WarpForecaster(**{**TINY_FORECASTER, "training_mode": "recurrent"})
                 .fit(sine_series()).predict_quantiles(fh=[1, 3], alpha=[0.1, 0.9])
                 for _ in range(2)]
    pd.testing.assert_frame_equal(*forecasts)


_PROCESS_SCRIPT = """
import numpy as np, pandas as pd, warnings
warnings.simplefilter("ignore")
from skwarp import WarpClassifier, WarpForecaster
rng = np.random.default_rng(0)
X = rng.standard_normal((12, 2, 30)).cumsum(axis=2)
y = np.array(["a", "b", "c"] * 4)
clf = WarpClassifier(**{classifier!r})
t = np.arange(60)
series = pd.Series(10 + np.sin(2 * np.pi * t / 12) + 0.1 * np.cos(t), name="y")
forecaster = WarpForecaster(**{forecaster!r})
print(clf.fit(X, y).predict_proba(X).tobytes().hex())
print(forecaster.fit(series).predict_interval(fh=[1, 2]).to_numpy().tobytes().hex())
""".format(classifier={**TINY_CLASSIFIER, "n_epochs": 3, "random_state": 7,
                       "validation_fraction": 0.25},
           forecaster={**TINY_FORECASTER, "n_epochs": 2, "random_state": 7,
                       "training_mode": "recurrent"})


def _in_fresh_process(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-c", _PROCESS_SCRIPT], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=300, check=True)
    return result.stdout.split()


def test_same_random_state_same_predictions_across_processes():
    here = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(_PROCESS_SCRIPT, {"print": here.append})
    assert len(here) == 2
    assert _in_fresh_process("1") == here
    assert _in_fresh_process("2") == here
