"""Bad input to both estimators: each case of the catalogue in ``_cases.py``
(wrong shapes, dtypes, lengths, indices, labels, mtypes, exogenous X) gives the
right output or an error of the right type whose message names the problem;
the catalogue holds at least 30 cases per estimator and one for every sktime
mtype this environment admits, and ``run_case`` reports a wrong outcome as a
failure. The labels' check (``check_labels``) names what is wrong with bad
labels and passes clean ones through untouched."""

import numpy as np
import pandas as pd
import pytest
from _cases import (
    CLASSIFIER_PANEL_MTYPES,
    FORECASTER_PANEL_MTYPES,
    FORECASTER_SERIES_MTYPES,
    Case,
    bad_input_cases,
    run_case,
)
from _helpers import random_walk_panel, sine_series

from skwarp._validation import check_labels

CASES = bad_input_cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.estimator}: {c.name}" for c in CASES])
def test_bad_input_gives_the_right_output_or_a_named_error(case):
    outcome = run_case(case)
    assert outcome.passed, f"expected {case.expected}, got {outcome.result}"


def test_at_least_30_cases_per_estimator():
    for name in ("WarpClassifier", "WarpForecaster"):
        assert sum(c.estimator == name for c in CASES) >= 30


def _admitted(example, candidates, scitype):
    """The mtypes sktime can produce from ``example`` and recognises as
    ``scitype`` in this environment (soft dependencies installed)."""
    from sktime.datatypes import check_is_scitype, convert_to

    admitted = set()
    for mtype in candidates:
        try:
            converted = convert_to(example, to_type=mtype)
        except (NotImplementedError, ImportError, TypeError):
            continue
        if check_is_scitype(converted, scitype=scitype, return_metadata=[])[0]:
            admitted.add(mtype)
    return admitted


def test_every_admitted_sktime_mtype_has_a_case():
    from sktime.datatypes import MTYPE_LIST_PANEL, MTYPE_LIST_SERIES

    X, _ = random_walk_panel()
    panel = pd.concat({i: sine_series(20).to_frame() for i in range(2)}, names=["s", "t"])
    assert _admitted(X, MTYPE_LIST_PANEL, "Panel") <= set(CLASSIFIER_PANEL_MTYPES)
    assert _admitted(sine_series(), MTYPE_LIST_SERIES, "Series") <= set(FORECASTER_SERIES_MTYPES)
    assert _admitted(panel, MTYPE_LIST_PANEL, "Panel") <= set(FORECASTER_PANEL_MTYPES)
    # 2D arrays (numpyflat) are converted by sktime's classifiers before the check
    assert "numpyflat" in CLASSIFIER_PANEL_MTYPES


def test_run_case_reports_a_wrong_error_as_a_failure():
    def raises():
        raise ValueError("something else")

    assert not run_case(Case("x", "wrong message", raises, ValueError, "expected")).passed
    assert not run_case(Case("x", "wrong type", raises, TypeError, "")).passed
    assert not run_case(Case("x", "error where output was due", raises)).passed
    assert not run_case(Case("x", "output where an error was due", lambda: "ok",
                             ValueError, "")).passed
    assert run_case(Case("x", "right", raises, ValueError, "else")).passed


@pytest.mark.parametrize("labels, error, match", [
    ([1, "a"], TypeError, "mixes numbers and strings"),
    (np.array([1.5, np.inf]), ValueError, "infinite"),
    (pd.Series(["a", None]), ValueError, "missing"),
    (np.array([("a", 1), ("b", 2)], dtype=object)[:, 0].tolist() + [(1, 2)], TypeError,
     "numbers or strings"),
    (pd.DataFrame({"c": ["a", "b"], "d": [1, np.nan]}), ValueError, "NaN"),
])
def test_check_labels_names_the_problem(labels, error, match):
    with pytest.raises(error, match=match):
        check_labels(labels)


def test_check_labels_passes_clean_labels_through():
    for labels in (np.array(["a", "b"]), pd.Series([1, 2]), np.array([True, False]),
                   np.array([0.5, 2.0]), np.array(["a", "b"], dtype=object)):
        assert check_labels(labels) is labels
    np.testing.assert_array_equal(check_labels(["a", "b"]), np.array(["a", "b"]))
