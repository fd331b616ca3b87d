"""``series_norm``: each series standardised on its own, its level and spread
kept as extra channels (:class:`skwarp._preprocessing.SeriesStandardiser`)."""

import numpy as np
import pytest
from _helpers import TINY_CLASSIFIER

from skwarp import WarpClassifier
from skwarp._preprocessing import SeriesStandardiser


def _panel(seed=0, n=6, length=20, channels=2):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, length, channels)) * rng.lognormal(0, 2, size=(n, 1, channels))
    lengths = rng.integers(5, length + 1, size=n)
    lengths[0] = length
    values[np.arange(length)[None, :] >= lengths[:, None]] = 0.0
    return values, lengths


def test_each_series_is_standardised_on_its_own_observed_steps():
    values, lengths = _panel()
    standardiser = SeriesStandardiser().fit(values, lengths)
    out = standardiser.transform(values, lengths)
    assert out.shape == values.shape[:2] + (3 * values.shape[2],)
    d = values.shape[2]
    for i, length in enumerate(lengths):
        series = values[i, :length] / standardiser.unit_  # reference: one series alone
        mean, std = series.mean(axis=0), series.std(axis=0)
        np.testing.assert_allclose(out[i, :length, :d], (series - mean) / std, atol=1e-12)
        centre = standardiser.centre_
        np.testing.assert_allclose(out[i, :length, d:2 * d],
                                   np.broadcast_to(np.log(std + 1e-3) - centre[:d], (length, d)))
        np.testing.assert_allclose(out[i, :length, 2 * d:],
                                   np.broadcast_to(mean - centre[d:], (length, d)))


def test_the_statistics_are_centred_on_the_training_series_and_not_rescaled():
    values, lengths = _panel()
    standardiser = SeriesStandardiser().fit(values, lengths)
    statistics = standardiser.transform(values, lengths)[:, 0, values.shape[2]:]
    np.testing.assert_allclose(statistics.mean(axis=0), 0.0, atol=1e-12)
    # series z-normalised beforehand: their spreads agree to rounding, and the
    # statistics stay at rounding size instead of becoming a random unit-size code
    z = values / values.std(axis=1, keepdims=True)
    full = np.full_like(lengths, values.shape[1])
    rescaled = SeriesStandardiser().fit(z, full).transform(z, full)[:, 0, values.shape[2]:]
    assert np.abs(rescaled[:, :values.shape[2]]).max() < 1e-9


def test_the_unit_is_each_channels_spread_over_the_training_steps():
    values, lengths = _panel()
    valid = values[np.arange(values.shape[1])[None, :] < lengths[:, None]]
    np.testing.assert_allclose(SeriesStandardiser().fit(values, lengths).unit_, valid.std(axis=0))


def test_the_shape_block_ignores_each_series_scale_and_level():
    values, lengths = _panel()
    standardiser = SeriesStandardiser().fit(values, lengths)
    moved = values * np.array([3.0, 1e-4, 50, 1, 7, 0.2])[:, None, None] + 1e3
    d = values.shape[2]
    np.testing.assert_allclose(standardiser.transform(moved, lengths)[:, :, :d],
                               standardiser.transform(values, lengths)[:, :, :d], atol=1e-6)


def test_a_constant_series_is_zero_with_a_finite_log_spread():
    values = np.concatenate([np.full((1, 10, 1), 4.0), np.arange(10.0)[None, :, None]])
    lengths = np.array([10, 10])
    out = SeriesStandardiser().fit(values, lengths).transform(values, lengths)
    np.testing.assert_array_equal(out[0, :, 0], 0.0)
    standardiser = SeriesStandardiser().fit(values, lengths)
    assert np.isfinite(out).all()
    assert out[0, 0, 1] + standardiser.centre_[0] == pytest.approx(np.log(1e-3))


def test_gaps_are_held_before_the_statistics_and_unobserved_channels_are_missing():
    values = np.random.default_rng(0).normal(size=(2, 12, 2))
    gappy = values.copy()
    gappy[0, 3:6, 0] = np.nan
    gappy[1, :, 1] = np.nan
    held = values.copy()
    held[0, 3:6, 0] = values[0, 2, 0]
    lengths = np.array([12, 12])
    standardiser = SeriesStandardiser().fit(values, lengths)
    out, expected = standardiser.transform(gappy, lengths), standardiser.transform(held, lengths)
    np.testing.assert_allclose(out[0], expected[0])
    np.testing.assert_allclose(out[1, :, [0, 2, 4]], expected[1, :, [0, 2, 4]])
    assert np.isnan(out[1, :, [1, 3, 5]]).all()


def test_huge_values_do_not_overflow():
    values, lengths = _panel()
    out = SeriesStandardiser().fit(values * 1e300, lengths).transform(values * 1e300, lengths)
    assert np.isfinite(out).all()


def test_the_classifier_feeds_three_channels_per_channel_and_checks_the_original_count():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 2, 12)), np.array([0, 1] * 4)
    on = WarpClassifier(**TINY_CLASSIFIER).fit(X, y)
    off = WarpClassifier(**TINY_CLASSIFIER, series_norm=False).fit(X, y)
    assert on.n_channels_ == off.n_channels_ == 2
    assert isinstance(on.series_standardiser_, SeriesStandardiser)
    assert off.series_standardiser_ is None
    first_conv = [m for m in on.network_.modules() if hasattr(m, "in_channels")][0]
    assert first_conv.in_channels == 6
    with pytest.raises(ValueError, match="X has 3 channels, but the estimator was fitted on 2"):
        on.predict(rng.normal(size=(2, 3, 12)))


def test_series_of_very_different_amplitude_are_told_apart_by_shape():
    # two classes that differ in shape only; each series' amplitude is drawn
    # over six orders of magnitude, so on one shared scale most series look flat
    rng = np.random.default_rng(1)
    t = np.linspace(0, 4 * np.pi, 40)
    y = np.arange(60) % 2
    shapes = np.where(y[:, None] == 0, np.sin(t), np.sign(np.sin(t)))
    X = (shapes * 10.0 ** rng.uniform(-3, 3, size=(60, 1)))[:, None, :]
    X += 1e-3 * rng.normal(size=X.shape) * np.abs(X).max(axis=2, keepdims=True)
    params = {**TINY_CLASSIFIER, "n_epochs": 30, "root_width": 8, "n_networks": 1}
    on = WarpClassifier(**params).fit(X[:40], y[:40])
    off = WarpClassifier(**params, series_norm=False).fit(X[:40], y[:40])
    assert on.score(X[40:], y[40:]) >= 0.95
    assert off.score(X[40:], y[40:]) < on.score(X[40:], y[40:])
