"""Missing values: WarpClassifier admits NaN (its capability tag says so) and
WarpForecaster does not; a gap is filled with the last observation of its
channel, trailing NaN in every channel shortens a series, a series with no
observed value is refused, and over a filled gap the network's state does not
change, so a series with a gap predicts exactly as the same series with the
gap's values held."""

import numpy as np
import pytest
from _helpers import TINY_CLASSIFIER, random_walk_panel

from skwarp import WarpClassifier, WarpForecaster
from skwarp._preprocessing import hold_last, panel_to_padded


def test_missing_values_capability_tags():
    assert WarpClassifier.get_class_tag("capability:missing_values") is True
    assert WarpForecaster.get_class_tag("capability:missing_values") is False


def test_hold_last_fills_gaps_with_the_last_observation():
    nan = np.nan
    values = np.array([[[nan, 1.0], [2.0, nan], [nan, nan], [4.0, 5.0], [0.0, 0.0]],
                       [[nan, 1.0], [nan, 2.0], [nan, 3.0], [0.0, 0.0], [0.0, 0.0]]])
    filled = hold_last(values.copy(), np.array([4, 3]))
    expected = np.array([[[2.0, 1.0], [2.0, 1.0], [2.0, 1.0], [4.0, 5.0], [0.0, 0.0]],
                         [[0.0, 1.0], [0.0, 2.0], [0.0, 3.0], [0.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(filled, expected)


def test_nan_padding_shortens_the_series_and_all_missing_series_are_rejected():
    X = np.ones((3, 2, 6))
    X[1, :, 4:] = np.nan
    X[2, 0, 5] = np.nan  # one channel missing at the end: held, not padding
    _, lengths = panel_to_padded(X, allow_missing=True)
    np.testing.assert_array_equal(lengths, [6, 4, 6])
    X[0] = np.nan
    with pytest.raises(ValueError, match=r"series \[0\] of X have no observed value"):
        panel_to_padded(X, allow_missing=True)
    with pytest.raises(ValueError, match="NaN"):
        panel_to_padded(np.full((1, 1, 2), np.nan))


def test_gaps_drive_no_change_of_state():
    """Over a held gap the input difference is zero: the final state of a
    series with a gap equals that of the same series with the gap's values
    repeated, through the whole fitted pipeline."""
    X, y = random_walk_panel()
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(X, y)
    gap, held = X.copy(), X.copy()
    gap[:, :, 10:20] = np.nan
    held[:, :, 10:20] = X[:, :, 9:10]
    np.testing.assert_array_equal(clf.predict_proba(gap), clf.predict_proba(held))
