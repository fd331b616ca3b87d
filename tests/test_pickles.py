"""The pickle policy: a pickle loads only under the skwarp version that wrote
it; one written by an earlier commit is refused at load, naming both
versions, never accepted and then broken.

``fixtures/pickles`` holds a classifier and a forecaster pickled at two
earlier commits (``make_pickles.py`` wrote them, run with that commit's
checkout on ``PYTHONPATH``): 64a7ded, whose pickles loaded without complaint
and then failed in predict, and 2d92276, the last commit before the policy.
"""

import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER

import skwarp
from skwarp import WarpClassifier, WarpForecaster

PICKLES = Path(__file__).resolve().parent / "fixtures" / "pickles"


@pytest.mark.parametrize("commit", ["64a7ded", "2d92276"])
@pytest.mark.parametrize("kind", ["classifier", "forecaster"])
def test_a_pickle_from_an_earlier_commit_is_refused_naming_both_versions(kind, commit):
    name = {"classifier": "WarpClassifier", "forecaster": "WarpForecaster"}[kind]
    message = (rf"this {name} was pickled by skwarp 0\.1\.0; this is skwarp "
               rf"{re.escape(skwarp.__version__)}")
    with pytest.raises(ValueError, match=message):
        pickle.loads((PICKLES / f"{kind}_{commit}.pkl").read_bytes())


def test_a_pickle_of_this_version_predicts_exactly_as_before():
    X = np.random.default_rng(0).normal(size=(8, 2, 12))
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(X, np.array([0, 1] * 4))
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    y = pd.Series(np.sin(np.arange(30.0)))
    forecaster = WarpForecaster(**TINY_FORECASTER).fit(y)
    loaded = pickle.loads(pickle.dumps(forecaster))
    pd.testing.assert_series_equal(loaded.predict(fh=[1, 2, 3]), forecaster.predict(fh=[1, 2, 3]))
