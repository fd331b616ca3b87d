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
