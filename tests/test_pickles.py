"""Persistence of both estimators. A fitted model round-trips exactly through
pickle and sktime's ``save``/``load`` (in memory and to a zip file); every
tensor a pickle writes is on the CPU, once per network of an ensemble, while
the model itself stays where it was, and a model fitted on the GPU (where
there is one) loads and predicts in a process that sees no GPU. The pickle
policy: a pickle loads only under the skwarp version that wrote it; one
written by another version, earlier or later, or before versions were
recorded, is refused at load, naming both versions, never accepted and then
broken.

``fixtures/pickles`` holds a classifier and a forecaster pickled at two
earlier commits (``make_pickles.py`` wrote them, run with that commit's
checkout on ``PYTHONPATH``): 64a7ded, whose pickles loaded without complaint
and then failed in predict, and 2d92276, the last commit before the policy.
"""

import copy
import io
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER, random_walk_panel, sine_series

import skwarp
from skwarp import WarpClassifier, WarpForecaster

ROOT = Path(skwarp.__file__).resolve().parent.parent
PICKLES = Path(__file__).resolve().parent / "fixtures" / "pickles"


@pytest.fixture(scope="module")
def fitted():
    X, y = random_walk_panel()
    clf = WarpClassifier(**{**TINY_CLASSIFIER, "n_epochs": 2}).fit(X, y)
    forecaster = WarpForecaster(**TINY_FORECASTER).fit(sine_series())
    return clf, forecaster, X


def _same_predictions(a, b, X):
    if isinstance(a, WarpClassifier):
        np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    else:
        pd.testing.assert_frame_equal(a.predict_interval(fh=[1, 2]),
                                      b.predict_interval(fh=[1, 2]))
        pd.testing.assert_series_equal(a.predict(fh=[1, 2]), b.predict(fh=[1, 2]))


@pytest.mark.parametrize("which", [0, 1], ids=["classifier", "forecaster"])
def test_pickle_and_sktime_save_load_round_trip_exactly(fitted, which, tmp_path):
    from sktime.base import load

    model, X = fitted[which], fitted[2]
    _same_predictions(model, pickle.loads(pickle.dumps(model)), X)
    _same_predictions(model, load(model.save()), X)
    model.save(tmp_path / "model")
    _same_predictions(model, load(tmp_path / "model.zip"), X)


class _TensorRecorder(pickle.Pickler):
    """A pickler that records every tensor it writes."""

    def __init__(self, file):
        super().__init__(file)
        self.tensors = []

    def reducer_override(self, obj):
        if isinstance(obj, torch.Tensor):
            self.tensors.append(obj)
        return NotImplemented


class _OnAnotherDevice(torch.Tensor):
    """A CPU tensor that says it is on a GPU, and moves to the CPU when asked:
    lets a machine without CUDA check that pickling moves tensors off the GPU."""

    @property
    def device(self):
        return torch.device("cuda", 0)

    def cpu(self, *args, **kwargs):
        return self.as_subclass(torch.Tensor)

    def __deepcopy__(self, memo):
        return self.as_subclass(torch.Tensor).clone().as_subclass(_OnAnotherDevice)


@pytest.mark.parametrize("which", [0, 1], ids=["classifier", "forecaster"])
def test_every_pickled_tensor_is_on_the_cpu(fitted, which):
    model = copy.deepcopy(fitted[which])
    # a buffer of the network and a fitted tensor attribute "on the GPU"
    model.network_.register_buffer("moved", torch.ones(3).as_subclass(_OnAnotherDevice))
    model.extra_tensor_ = torch.ones(2).as_subclass(_OnAnotherDevice)
    assert model.network_.moved.device.type == "cuda"
    recorder = _TensorRecorder(io.BytesIO())
    recorder.dump(model)
    assert len(recorder.tensors) >= 6  # A, B, the MLPs' weights, the two above
    assert {t.device.type for t in recorder.tensors} == {"cpu"}
    assert model.network_.moved.device.type == "cuda"  # the model itself untouched


def test_pickling_moves_every_network_of_an_ensemble_to_the_cpu_once(fitted):
    model = copy.deepcopy(fitted[0])
    assert len(model.networks_) == 2 and model.network_ is model.networks_[0]
    for network in model.networks_:
        network.register_buffer("moved", torch.ones(3).as_subclass(_OnAnotherDevice))
    recorder = _TensorRecorder(io.BytesIO())
    recorder.dump(model)
    assert {t.device.type for t in recorder.tensors} == {"cpu"}
    restored = pickle.loads(pickle.dumps(model))
    assert restored.network_ is restored.networks_[0]
    assert restored.networks_[1].moved.device.type == "cpu"


_LOAD_WITHOUT_CUDA = """
import pickle, sys, torch
assert not torch.cuda.is_available()
model = pickle.load(sys.stdin.buffer)
print(model.predict_proba(pickle.loads(bytes.fromhex(sys.argv[1]))).tobytes().hex())
"""


def test_model_fitted_on_the_available_device_loads_where_cuda_is_hidden():
    """With CUDA, fit on the GPU; either way the pickle loads and predicts
    identically in a process that sees no GPU."""
    X, y = random_walk_panel()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    clf = WarpClassifier(**{**TINY_CLASSIFIER, "device": device}).fit(X, y)
    expected = clf.predict_proba(X)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, "-c", _LOAD_WITHOUT_CUDA,
                             pickle.dumps(X).hex()], input=pickle.dumps(clf), env=env,
                            capture_output=True, timeout=300, check=True)
    loaded = np.frombuffer(bytes.fromhex(result.stdout.decode().strip()))
    tolerance = 0 if device == "cpu" else 1e-5
    np.testing.assert_allclose(loaded.reshape(expected.shape), expected, atol=tolerance,
                               rtol=0)


def test_pickle_from_another_version_is_refused_naming_both(fitted, monkeypatch):
    clf = fitted[0]
    for other in ("0.0.1", "9.0.0"):
        with monkeypatch.context() as patch:
            patch.setattr(skwarp, "__version__", other)
            written = pickle.dumps(clf)
        message = rf"pickled by skwarp {re.escape(other)}; this is skwarp " \
                  rf"{re.escape(skwarp.__version__)}.*Refit"
        with pytest.raises(ValueError, match=message):
            pickle.loads(written)
    unversioned = dict(clf.__dict__)
    with pytest.raises(ValueError, match="before 0.1.0"):
        WarpClassifier().__setstate__(unversioned)


@pytest.mark.parametrize("commit", ["64a7ded", "2d92276"])
@pytest.mark.parametrize("kind", ["classifier", "forecaster"])
def test_a_pickle_from_an_earlier_commit_is_refused_naming_both_versions(kind, commit):
    name = {"classifier": "WarpClassifier", "forecaster": "WarpForecaster"}[kind]
    message = (rf"this {name} was pickled by skwarp 0\.1\.0; this is skwarp "
               rf"{re.escape(skwarp.__version__)}")
    with pytest.raises(ValueError, match=message):
        pickle.loads((PICKLES / f"{kind}_{commit}.pkl").read_bytes())
