"""Property-based tests (hypothesis) over shapes, lengths and label sets."""

import warnings

import numpy as np
import pandas as pd
import pytest
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skwarp import WarpClassifier, WarpForecaster
from skwarp._preprocessing import hold_last, panel_to_padded
from skwarp._validation import check_labels

# each example fits a tiny model: keep the count small and the deadline off
FIT_SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                        suppress_health_check=[HealthCheck.too_slow])
FAST_SETTINGS = settings(max_examples=100, deadline=None, derandomize=True)

LABEL_SETS = st.sampled_from([
    ["a", "b"], ["x", "y", "z", "w"], [0, 1, 2], [-5, 10], [True, False], [0.5, 1.5, 2.5],
    ["only"],
])


EQUAL_OR_NOT = st.booleans()


@st.composite
def panels(draw, unequal=EQUAL_OR_NOT):
    """A panel as numpy3D or df-list with 1-3 channels, 1-40 steps, and labels."""
    labels = draw(LABEL_SETS)
    n_instances = draw(st.integers(max(2, len(labels)), 10))
    n_channels = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    y = np.array([labels[i % len(labels)] for i in range(n_instances)])
    if draw(unequal):
        lengths = draw(st.lists(st.integers(1, 40), min_size=n_instances,
                                max_size=n_instances))
        X = [pd.DataFrame(rng.standard_normal((n, n_channels)).cumsum(axis=0))
             for n in lengths]
    else:
        n_steps = draw(st.integers(1, 40))
        X = rng.standard_normal((n_instances, n_channels, n_steps)).cumsum(axis=2)
    return X, y


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return WarpClassifier(**{**TINY_CLASSIFIER, **params}).fit(X, y)


def _subset(X, order):
    return X[order] if isinstance(X, np.ndarray) else [X[i] for i in order]


@FIT_SETTINGS
@given(data=panels())
def test_classifier_outputs_are_valid_for_any_shape_and_label_set(data):
    X, y = data
    clf = _fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), len(np.unique(y)))
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    predicted = clf.predict(X)
    assert predicted.shape == (len(y),)
    assert set(predicted) <= set(np.unique(y))


@FIT_SETTINGS
@given(data=panels(), seed=st.integers(0, 1000))
def test_predictions_follow_the_instances(data, seed):
    """Permuting the instances permutes the predictions; a series predicts the
    same alone as inside a padded batch."""
    X, y = data
    clf = _fit(X, y)
    proba = clf.predict_proba(X)
    order = np.random.default_rng(seed).permutation(len(y))
    np.testing.assert_allclose(clf.predict_proba(_subset(X, order)), proba[order],
                               rtol=1e-5, atol=1e-6)
    alone = clf.predict_proba(_subset(X, [int(order[0])]))
    np.testing.assert_allclose(alone[0], proba[order[0]], rtol=1e-5, atol=1e-6)


@FIT_SETTINGS
@given(data=panels(unequal=st.just(False)),
       log_scale=st.floats(-6, 6), offset=st.floats(-100, 100))
def test_standard_scaling_makes_the_model_affine_invariant(data, log_scale, offset):
    X, y = data
    scale = 10.0 ** log_scale
    reference = _fit(X, y).predict_proba(X)
    moved = X * scale + offset * scale
    np.testing.assert_allclose(_fit(moved, y).predict_proba(moved), reference, atol=1e-4)


@FIT_SETTINGS
@given(data=panels(unequal=st.just(False)), n_gaps=st.integers(1, 5),
       seed=st.integers(0, 1000))
def test_missing_values_give_finite_predictions(data, n_gaps, seed):
    X, y = data
    rng = np.random.default_rng(seed)
    gappy = X.copy()
    for _ in range(n_gaps):  # never the whole first channel of a series
        i, c = rng.integers(len(X)), rng.integers(X.shape[1])
        start = rng.integers(1, X.shape[2]) if X.shape[2] > 1 else None
        if start is not None:
            gappy[i, c, start:start + rng.integers(1, 4)] = np.nan
    proba = _fit(gappy, y).predict_proba(gappy)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@FIT_SETTINGS
@given(length=st.integers(TINY_FORECASTER["context_length"] + 1, 80),
       n_columns=st.integers(1, 2), n_series=st.integers(1, 3),
       fh=st.lists(st.integers(1, 8), min_size=1, max_size=4, unique=True),
       seed=st.integers(0, 2**16))
def test_forecaster_outputs_are_valid_for_any_length_and_horizon(length, n_columns,
                                                                  n_series, fh, seed):
    rng = np.random.default_rng(seed)
    columns = [f"c{i}" for i in range(n_columns)]
    index = pd.MultiIndex.from_product([range(n_series), range(length)])
    y = pd.DataFrame(rng.standard_normal((n_series * length, n_columns)).cumsum(axis=0),
                     index=index, columns=columns)
    if n_series == 1:
        y = y.droplevel(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecaster = WarpForecaster(**TINY_FORECASTER).fit(y)
        prediction = forecaster.predict(fh=fh)
        interval = forecaster.predict_interval(fh=fh, coverage=0.8)
    assert prediction.shape == (n_series * len(fh), n_columns)
    assert list(prediction.columns) == columns
    assert np.isfinite(prediction.to_numpy()).all()
    times = prediction.index.get_level_values(-1)
    assert sorted(set(times)) == sorted(length - 1 + np.array(fh))
    bounds = interval.to_numpy().reshape(len(prediction), n_columns, 2)
    assert (bounds[..., 0] <= bounds[..., 1]).all()


@FAST_SETTINGS
@given(n=st.integers(1, 4), t=st.integers(1, 12), d=st.integers(1, 3),
       seed=st.integers(0, 2**16), missing=st.floats(0.0, 0.9))
def test_hold_last_repeats_the_latest_observation(n, t, d, seed, missing):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n, t, d))
    values[rng.random(values.shape) < missing] = np.nan
    lengths = rng.integers(1, t + 1, size=n)
    values[np.arange(t)[None, :] >= lengths[:, None]] = 0.0
    filled = hold_last(values.copy(), lengths)
    assert not np.isnan(filled).any()
    for i, j, c in np.ndindex(values.shape):
        if j >= lengths[i]:
            assert filled[i, j, c] == 0.0
            continue
        observed = np.flatnonzero(~np.isnan(values[i, :lengths[i], c]))
        if not np.isnan(values[i, j, c]):
            assert filled[i, j, c] == values[i, j, c]
        elif len(observed) == 0:
            assert filled[i, j, c] == 0.0
        else:
            before = observed[observed < j]
            source = before[-1] if len(before) else observed[0]
            assert filled[i, j, c] == values[i, source, c]


@FAST_SETTINGS
@given(lengths=st.lists(st.integers(1, 15), min_size=1, max_size=6),
       d=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_panel_to_padded_keeps_every_series(lengths, d, seed):
    rng = np.random.default_rng(seed)
    series = [rng.standard_normal((n, d)) for n in lengths]
    values, found = panel_to_padded(series)
    np.testing.assert_array_equal(found, lengths)
    for i, s in enumerate(series):
        np.testing.assert_array_equal(values[i, :len(s)], s)
        assert (values[i, len(s):] == 0).all()


@FAST_SETTINGS
@given(labels=st.lists(st.one_of(st.integers(-3, 3), st.text(min_size=1, max_size=3)),
                       min_size=1, max_size=8))
def test_check_labels_accepts_one_type_and_rejects_a_mix(labels):
    kinds = {isinstance(label, str) for label in labels}
    if len(kinds) > 1:
        with pytest.raises(TypeError, match="mixes numbers and strings"):
            check_labels(labels)
    else:
        np.testing.assert_array_equal(check_labels(labels), np.asarray(labels))
