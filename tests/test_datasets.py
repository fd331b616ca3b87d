import numpy as np
import pytest

from skwarp.datasets import (
    LV_TEST_RANGES,
    LV_TRAIN_RANGES,
    MSD_TEST_RANGES,
    SINE_TEST_PHASES,
    SINE_TRAIN_PHASES,
    make_linear_regression_tasks,
    make_lotka_volterra,
    make_mass_spring_damper,
    make_sine,
)


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


def test_mass_spring_damper_zero_draws_initial_states():
    y, _ = make_mass_spring_damper(6, 16, random_initial_state=True, random_state=3)
    start = y.xs(0, level="time").to_numpy()
    assert np.all(np.abs(start - [1.0, 0.0]) <= 0.5)
    assert len(np.unique(start[:, 0])) == 6


def _lv_invariant(u, v, params):
    # conserved quantity of Lotka-Volterra: delta u - gamma log u + beta v - alpha log v
    a, b, g, d = (params[name] for name in ("alpha", "beta", "gamma", "delta"))
    return d * u - g * np.log(u) + b * v - a * np.log(v)


def test_lotka_volterra_is_seeded_cyclic_and_conserves_its_invariant():
    y, params = make_lotka_volterra(4, 256, random_state=0)
    y2, _ = make_lotka_volterra(4, 256, random_state=0)
    y3, _ = make_lotka_volterra(4, 256, random_state=1)
    assert y.equals(y2) and not y.equals(y3)
    assert list(y.columns) == ["prey", "predator"] and y.shape == (4 * 256, 2)
    for i in range(4):
        series = y.xs(i, level="series")
        assert (series.to_numpy() > 0).all()
        h = _lv_invariant(series["prey"], series["predator"], params.loc[i])
        assert np.ptp(h) < 1e-4 * abs(h.iloc[0])  # RK4 keeps the orbit closed
        # "repeat-copy": the 100-step context holds a full cycle, so the prey
        # population rises and falls at least once
        context = series["prey"].to_numpy()[:100]
        assert context.argmax() not in (0, 99) and context.argmin() not in (0, 99)
    assert np.all((params >= 0.8) & (params <= 1.2))
    _, test_params = make_lotka_volterra(50, 8, ranges=LV_TEST_RANGES, random_state=0)
    assert test_params.to_numpy().min() < 0.8 and test_params.to_numpy().max() > 1.2


def test_sine_has_the_drawn_phase():
    y, params = make_sine(3, 11, phase_range=(1.0, 2.0), frequency=2.0, random_state=0)
    t = np.linspace(0, 1, 11)
    for i in range(3):
        expected = np.sin(4 * np.pi * t + params.loc[i, "phase"])
        np.testing.assert_allclose(y.xs(i, level="series")["value"], expected)
    assert params["phase"].between(1.0, 2.0).all()
    assert make_sine(3, 11, random_state=0)[0].equals(make_sine(3, 11, random_state=0)[0])
    _, test = make_sine(200, 4, phase_range=SINE_TEST_PHASES, random_state=0)
    assert test["phase"].max() > np.pi > SINE_TRAIN_PHASES[1] - 1e-12


def test_linear_regression_tasks_layout():
    X, y, w = make_linear_regression_tasks(5, 7, n_features=3, noise=0.0, random_state=0)
    assert X.shape == (5, 7, 4) and y.shape == (5, 7) and w.shape == (5, 3)
    np.testing.assert_allclose(y, np.einsum("ntd,nd->nt", X[..., :3], w))
    np.testing.assert_array_equal(X[:, 0, 3], 0.0)  # no answer before the first query
    np.testing.assert_array_equal(X[:, 1:, 3], y[:, :-1])  # previous answer beside query
    X2, y2, _ = make_linear_regression_tasks(5, 7, n_features=3, noise=0.5, random_state=0)
    assert not np.allclose(y2, y)
    assert np.array_equal(make_linear_regression_tasks(2, 3, random_state=4)[0],
                          make_linear_regression_tasks(2, 3, random_state=4)[0])


def test_generators_leave_the_global_rng_alone():
    state = np.random.get_state()[1].copy()
    make_sine(2, 5, random_state=0)
    make_lotka_volterra(2, 5, random_state=0)
    make_linear_regression_tasks(2, 5, random_state=0)
    assert np.array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize("call, match", [
    (lambda: make_lotka_volterra(2, 10, ranges={"alpha": (1, 2)}), "entry for 'beta'"),
    (lambda: make_lotka_volterra(2, 10, ranges={**LV_TRAIN_RANGES, "gamma": (-1, 1)}),
     "range of 'gamma'"),
    (lambda: make_lotka_volterra(2, 10, initial_range=(0.0, 1.0)), "initial_range"),
    (lambda: make_lotka_volterra(2, 10, t_max=0.0), "t_max"),
    (lambda: make_lotka_volterra(0, 10), "n_series"),
    (lambda: make_sine(2, 1), "n_timepoints"),
    (lambda: make_sine(2, 10, phase_range=(2.0, 1.0)), "phase_range"),
    (lambda: make_sine(2, 10, phase_range=(0.0, np.inf)), "phase_range"),
    (lambda: make_sine(2, 10, phase_range="wide"), "phase_range"),
    (lambda: make_sine(2, 10, frequency=-1.0), "frequency"),
    (lambda: make_linear_regression_tasks(2, 0), "n_pairs"),
    (lambda: make_linear_regression_tasks(2, 3, n_features=0), "n_features"),
    (lambda: make_linear_regression_tasks(2, 3, noise=-0.1), "noise"),
    (lambda: make_mass_spring_damper(2, 10, ranges={"m": "x", "k": (1, 2), "c": (1, 2)}),
     "range of 'm'"),
    (lambda: make_mass_spring_damper(2, 10, substeps=0), "substeps"),
])
def test_impossible_arguments_name_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call()


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


def test_periodic_waveforms_have_unequal_lengths_and_class_amplitudes():
    from skwarp.datasets import make_periodic_waveforms

    X, y = make_periodic_waveforms(n_series=200, random_state=0)
    lengths = np.array([len(x) for x in X])
    assert lengths.min() >= 100 and lengths.max() <= 1344 and len(set(lengths)) > 100
    spread = {label: np.median([np.std(x.to_numpy()) for x, c in zip(X, y, strict=True)
                                 if c == label])
              for label in np.unique(y)}
    assert max(spread.values()) / min(spread.values()) > 100  # amplitudes differ by class
    X2, y2 = make_periodic_waveforms(n_series=200, random_state=0)
    assert all(np.array_equal(a.to_numpy(), b.to_numpy()) for a, b in zip(X, X2, strict=True))
    _, y_other = make_periodic_waveforms(n_series=200, random_state=1)
    assert set(y_other) <= {f"c{k}" for k in range(11)}


@pytest.mark.parametrize("bad", [{"n_series": 0}, {"n_classes": 1}, {"lengths": (10, 5)},
                                 {"lengths": (0, 5)}, {"amplitude_range": 0.5},
                                 {"period": 0.0}])
def test_periodic_waveforms_refuse_bad_sizes(bad):
    from skwarp.datasets import make_periodic_waveforms

    with pytest.raises(ValueError):
        make_periodic_waveforms(**bad)


def test_few_shot_cycles_share_classes_across_draws_but_not_phases():
    from skwarp.datasets import make_few_shot_cycles

    X, y = make_few_shot_cycles(n_per_class=2, n_classes=5, n_timepoints=600, random_state=0)
    again, _ = make_few_shot_cycles(n_per_class=2, n_classes=5, n_timepoints=600,
                                    random_state=0)
    other, y_other = make_few_shot_cycles(n_per_class=2, n_classes=5, n_timepoints=600,
                                          random_state=1)
    assert X.shape == (10, 1, 600) and X.dtype == np.float32
    np.testing.assert_array_equal(X, again)
    np.testing.assert_array_equal(y, np.tile(np.arange(5), 2))
    np.testing.assert_array_equal(y, y_other)
    assert not np.allclose(X, other)

    def period(series):  # the lag of the highest autocorrelation past the first dip
        centred = series - series.mean()
        acf = np.correlate(centred, centred, "full")[len(series) - 1:]
        start = int(np.argmax(acf < 0))
        return start + int(np.argmax(acf[start:300]))

    # both draws of a class cycle at the class's period, whatever their phase
    for label in range(5):
        periods = [period(data[i, 0]) for data in (X, other) for i in np.flatnonzero(y == label)]
        assert max(periods) - min(periods) <= 0.1 * np.median(periods) + 2
    with pytest.raises(ValueError, match="n_classes"):
        make_few_shot_cycles(n_classes=1)


def test_event_order_holds_the_same_events_in_the_class_order():
    from skwarp.datasets import make_event_order

    X, y = make_event_order(n_series=60, n_timepoints=256, event_length=16, min_gap=64,
                            amplitude=8.0, random_state=0)
    assert X.shape == (60, 1, 256) and X.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), [30, 30])
    kernel = np.sin(np.pi * (np.arange(16) + 0.5) / 16)
    for series, label in zip(X[:, 0], y, strict=True):
        response = np.correlate(series, kernel, "valid")
        up, down = int(np.argmax(response)), int(np.argmin(response))
        assert abs(up - down) >= 64 + 16 - 2  # far apart
        assert (up < down) == (label == 0)
    with pytest.raises(ValueError, match="do not fit"):
        make_event_order(n_timepoints=100, event_length=30, min_gap=50)
