import numpy as np
import pytest

from skwarp.datasets import MSD_TEST_RANGES, make_mass_spring_damper


def test_mass_spring_damper_is_seeded_and_physical():
    y, params = make_mass_spring_damper(n_series=5, n_timepoints=64, random_state=0)
    y2, _ = make_mass_spring_damper(n_series=5, n_timepoints=64, random_state=0)
    assert y.equals(y2) and y.shape == (5 * 64, 2)
    first = y.xs(0, level="series")
    assert first["position"].iloc[0] == 1.0 and first["velocity"].iloc[0] == 0.0
    # damped: energy at the end below the start
    m, k = params.loc[0, "m"], params.loc[0, "k"]
    energy = 0.5 * k * first["position"] ** 2 + 0.5 * m * first["velocity"] ** 2
    assert energy.iloc[-1] < energy.iloc[0]
    assert np.all((params["k"] >= 4) & (params["k"] <= 16))
    y_test, p_test = make_mass_spring_damper(5, 64, ranges=MSD_TEST_RANGES, random_state=1)
    assert np.isfinite(y_test.to_numpy()).all() and p_test["m"].min() >= 0.01


@pytest.mark.parametrize("ranges", [{"m": (0.0, 1.0), "k": (1, 2), "c": (1, 2)},
                                    {"m": (2.0, 1.0), "k": (1, 2), "c": (1, 2)},
                                    {"k": (1, 2), "c": (1, 2)}])
def test_impossible_ranges_rejected(ranges):
    with pytest.raises(ValueError, match="range|entry"):
        make_mass_spring_damper(2, 10, ranges=ranges)


def test_long_range_events_are_seeded_balanced_and_early():
    from skwarp.datasets import make_long_range_events

    X, y = make_long_range_events(n_series=40, n_timepoints=2048, n_classes=4,
                                  random_state=3)
    X2, y2 = make_long_range_events(n_series=40, n_timepoints=2048, n_classes=4,
                                    random_state=3)
    assert X.dtype == np.float32 and X.shape == (40, 6, 2048)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(np.bincount(y), [10, 10, 10, 10])
    window = int(0.05 * 2048) + 64
    for label in range(4):
        series = X[y == label, label // 2]
        sign = 1 if label % 2 == 0 else -1
        # the bump lifts (or lowers) the early window of its channel only
        early = sign * series[:, :window].mean(axis=1)
        assert early.min() > 0.5 and abs(series[:, window:].mean()) < 0.05
    with pytest.raises(ValueError, match="n_classes"):
        make_long_range_events(n_classes=13)
    with pytest.raises(ValueError, match="do not fit"):
        make_long_range_events(n_timepoints=100, event_window=0.9)
