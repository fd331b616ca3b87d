"""weight_trajectory on both estimators, and the trajectory plot."""

import matplotlib
import numpy as np
import pytest
import torch

from skwarp import WarpClassifier, WarpForecaster
from skwarp.datasets import make_sine
from skwarp.plotting import plot_weight_trajectories, project_trajectories

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def classifier_and_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2, 15)).cumsum(axis=2)
    y = np.array(["up", "down"] * 6)
    X[y == "up", 0] += np.linspace(0, 3, 15)
    clf = WarpClassifier(n_epochs=2, root_width=4, n_frequencies=1, init_layers=1,
                         random_state=0, device="cpu").fit(X, y)
    return clf, X, y


def test_classifier_trajectory_ends_in_the_decoded_state(classifier_and_data):
    clf, X, _ = classifier_and_data
    trajectories = clf.weight_trajectory(X)
    assert trajectories.shape == (12, 15, clf.network_.n_params)
    scaled = torch.from_numpy(clf._network_input(np.swapaxes(X, 1, 2),
                                                    np.full(12, 15)))
    with torch.no_grad():
        final = clf.network_.final_state(scaled).numpy()
        first = clf.network_.initial_state(scaled[:, 0]).numpy()
    np.testing.assert_allclose(trajectories[:, -1], final, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(trajectories[:, 0], first, rtol=1e-5, atol=1e-6)
    assert not np.allclose(trajectories[:, 0], trajectories[:, -1])  # it moves


def test_classifier_trajectory_of_unequal_lengths_holds_the_last_state(classifier_and_data):
    clf, X, _ = classifier_and_data
    panel = [np.asarray(X[0].T), np.asarray(X[1, :, :9].T)]
    import pandas as pd

    trajectories = clf.weight_trajectory([pd.DataFrame(s) for s in panel])
    assert trajectories.shape == (2, 15, clf.network_.n_params)
    np.testing.assert_array_equal(trajectories[1, 8:], np.repeat(trajectories[1, 8:9], 7, 0))
    short = clf.weight_trajectory(X[1:2, :, :9])
    np.testing.assert_allclose(short[0], trajectories[1, :9], rtol=1e-5, atol=1e-6)


def test_classifier_trajectory_rejects_bad_input(classifier_and_data):
    clf, X, _ = classifier_and_data
    with pytest.raises(ValueError, match="channels"):
        clf.weight_trajectory(X[:, :1])
    with pytest.raises(Exception, match="fit"):
        WarpClassifier().weight_trajectory(X)


def test_forecaster_trajectory_matches_final_state():
    y, _ = make_sine(4, 40, random_state=0)
    forecaster = WarpForecaster(context_length=10, horizon_length=5, n_epochs=2,
                                root_width=4, n_frequencies=1, random_state=0,
                                device="cpu").fit(y)
    trajectories = forecaster.weight_trajectory(y)
    assert trajectories.shape == (4, 40, forecaster.network_.n_params)
    values = y["value"].to_numpy().reshape(4, 40, 1)
    x = torch.from_numpy(forecaster.scaler_.transform(values, np.full(4, 40)))
    x, _, _ = forecaster._normalise(x)
    with torch.no_grad():
        final = forecaster.network_.final_state(x).numpy()
    np.testing.assert_allclose(trajectories[:, -1], final, rtol=1e-4, atol=1e-5)
    single = forecaster.weight_trajectory(y.xs(2, level="series")["value"])
    np.testing.assert_allclose(single[0], trajectories[2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="context_length"):
        forecaster.weight_trajectory(y.xs(2, level="series")["value"].iloc[:5])
    with pytest.raises(TypeError, match="pandas"):
        forecaster.weight_trajectory(values)


def test_projection_recovers_a_planar_trajectory():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(2, 8))
    coords = rng.normal(size=(3, 20, 2)) * [5.0, 1.0]
    projected, explained = project_trajectories(coords @ plane)
    assert projected.shape == (3, 20, 2)
    np.testing.assert_allclose(explained.sum(), 1.0)
    # distances between states are kept exactly when the states span a plane
    flat = projected.reshape(-1, 2)
    original = (coords @ plane).reshape(-1, 8)
    np.testing.assert_allclose(np.linalg.norm(flat[1:] - flat[0], axis=1),
                               np.linalg.norm(original[1:] - original[0], axis=1))


def test_plot_returns_axes_coloured_by_label_or_time(classifier_and_data):
    clf, X, y = classifier_and_data
    trajectories = clf.weight_trajectory(X)
    ax = plot_weight_trajectories(trajectories, color_by=y)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["down", "up"]
    assert len(ax.lines) == 12
    ax = plot_weight_trajectories(trajectories)  # coloured by time: a colour bar
    assert len(ax.figure.axes) == 2
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("trajectories, color_by, match", [
    (np.zeros((2, 3)), "time", "shape"),
    (np.full((2, 3, 4), np.nan), "time", "NaN"),
    (np.zeros((2, 3, 4)), ["a"], "one label per series"),
    (np.zeros((2, 3, 4)), "class", "one label per series"),
])
def test_plot_rejects_bad_input(trajectories, color_by, match):
    with pytest.raises(ValueError, match=match):
        plot_weight_trajectories(trajectories, color_by=color_by)


def test_projection_of_constant_states_is_zero_with_nothing_explained():
    projected, explained = project_trajectories(np.ones((2, 5, 3)))
    np.testing.assert_array_equal(projected, np.zeros((2, 5, 2)))
    np.testing.assert_array_equal(explained, [0.0, 0.0])
