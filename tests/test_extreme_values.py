"""Extreme values: the channel scaler is overflow-safe (values near 1e300
scale as their reference does) and ignores missing values; inputs that scale
far outside the range seen in fit are refused at predict; and a randomised
sweep of both estimators (``_sweep.py``: scales from below 1e-4 to above 1e4,
offsets, scalings, learning rates, lengths up to 16,384) gives no error, no
non-finite prediction and no non-finite loss: 50 runs of one epoch by default,
200 runs of three epochs under ``-m slow``."""

import numpy as np
import pytest
from _helpers import TINY_CLASSIFIER, random_walk_panel
from _sweep import stability_sweep

from skwarp import WarpClassifier
from skwarp._preprocessing import ChannelScaler


def test_scaler_is_overflow_safe_and_ignores_missing_values():
    rng = np.random.default_rng(0)
    values = rng.standard_normal((3, 10, 2))
    lengths = np.full(3, 10)
    reference = ChannelScaler("standard").fit(values, lengths).transform(values, lengths)
    huge = values * 1e300
    scaled = ChannelScaler("standard").fit(huge, lengths).transform(huge, lengths)
    np.testing.assert_allclose(scaled, reference, rtol=1e-5, atol=1e-6)
    gappy = values.copy()
    gappy[0, 3, 1] = np.nan
    scaler = ChannelScaler("standard").fit(gappy, lengths)
    observed = np.delete(values[..., 1].ravel(), 3)
    assert scaler.offset_[1] == pytest.approx(observed.mean())
    assert not np.isnan(scaler.transform(gappy, lengths)).any()


def test_scaled_inputs_beyond_the_limit_are_rejected():
    X, y = random_walk_panel()
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(X, y)
    with pytest.raises(ValueError, match="far outside the range seen in fit"):
        clf.predict(X * 1e8)


def test_stability_sweep_of_50_runs_has_no_non_finite_prediction():
    runs = stability_sweep(n_runs=50, max_length=16384, seed=0, n_epochs=1)
    assert len(runs) == 50
    assert max(r.length for r in runs) == 16384
    assert {r.estimator for r in runs if r.length == 16384} == {"WarpClassifier",
                                                                "WarpForecaster"}
    scales = [r.scale for r in runs]
    assert min(scales) < 1e-4 and max(scales) > 1e4
    assert [r.error for r in runs if r.error] == []
    assert all(r.n_predictions > 0 for r in runs)
    assert sum(r.n_non_finite for r in runs) == 0
    assert sum(r.n_non_finite_losses for r in runs) == 0


@pytest.mark.slow
def test_stability_sweep_of_200_runs_of_3_epochs():
    runs = stability_sweep(n_runs=200, max_length=16384, seed=1, n_epochs=3)
    assert [r.error for r in runs if r.error] == []
    assert sum(r.n_non_finite for r in runs) == 0
    assert sum(r.n_non_finite_losses for r in runs) == 0
