"""WarpClassifier: sktime contract, sklearn tools, data handling, bad input."""

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_CLASSIFIER, random_walk_panel, thread_recording_classifier
from sklearn.base import clone
from sklearn.model_selection import (
    GridSearchCV,
    RandomizedSearchCV,
    cross_val_score,
    cross_validate,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sktime.datasets import load_basic_motions, load_japanese_vowels
from sktime.utils.estimator_checks import check_estimator

from skwarp import PAPER_PARAMS, WarpClassifier
from skwarp.exceptions import DivergenceWarning

FAST = {**TINY_CLASSIFIER, "n_epochs": 3, "root_width": 8}


@pytest.fixture(scope="module")
def motions():
    X, y = load_basic_motions(split="train", return_type="numpy3D")
    X_test, y_test = load_basic_motions(split="test", return_type="numpy3D")
    return X, y, X_test, y_test


def test_sktime_check_estimator():
    results = check_estimator(WarpClassifier, raise_exceptions=False, verbose=False)
    failures = {name: result for name, result in results.items() if result != "PASSED"}
    assert len(results) > 100
    assert failures == {}


def test_learns_basic_motions_above_chance(motions):
    X, y, X_test, y_test = motions
    clf = WarpClassifier(n_epochs=30, random_state=0).fit(X, y)
    assert clf.score(X_test, y_test) >= 0.6  # chance is 0.25
    assert len(clf.history_["train_loss"]) == 30
    assert clf.history_["train_loss"][-1] < clf.history_["train_loss"][0]
    proba = clf.predict_proba(X_test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[proba.argmax(axis=1)])


def test_fitted_accuracies_are_the_ensembles_as_predict_scores(motions):
    X, y, _, _ = motions
    clf = WarpClassifier(**{**FAST, "n_networks": 2}).fit(X, y)
    assert clf.train_accuracy_ == np.mean(clf.predict(X) == y)
    assert clf.validation_accuracy_ is None
    held = WarpClassifier(**{**FAST, "validation_fraction": 0.25}).fit(X, y)
    assert 0.0 <= held.validation_accuracy_ <= 1.0
    correct = held.predict(X) == y
    # 30 training series and 10 validation series: the two accuracies split
    # the 40 predictions exactly
    assert 30 * held.train_accuracy_ + 10 * held.validation_accuracy_ == \
        pytest.approx(correct.sum())


def test_string_and_integer_labels_give_the_same_model(motions):
    X, y, X_test, _ = motions
    codes = np.searchsorted(np.unique(y), y) * 10 + 3
    by_name = WarpClassifier(**FAST).fit(X, y)
    by_code = WarpClassifier(**FAST).fit(X, codes)
    assert set(by_code.classes_) == {3, 13, 23, 33}
    np.testing.assert_array_equal(np.searchsorted(by_name.classes_, by_name.predict(X_test)),
                                  np.searchsorted(by_code.classes_, by_code.predict(X_test)))


def test_same_random_state_same_model_and_global_rng_untouched(motions):
    X, y, X_test, _ = motions
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    first = WarpClassifier(**FAST).fit(X, y).predict_proba(X_test)
    second = WarpClassifier(**FAST).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert all(np.array_equal(a, b) for a, b in zip(numpy_state, np.random.get_state(),
                                                     strict=True))
    other = WarpClassifier(**{**FAST, "random_state": 1}).fit(X, y).predict_proba(X_test)
    assert not np.array_equal(first, other)


def test_validation_and_early_stopping_restore_the_best_epoch(motions):
    """Training stops 3 epochs after the lowest validation loss and returns
    the weights of that epoch: those of a fit that ran only up to it (the
    same split, initialisation and mini-batches, and a constant learning rate,
    so the epochs before it are identical), not the weights of the last epoch."""
    X, y, _, _ = motions
    params = {**FAST, "n_epochs": 200, "validation_fraction": 0.25, "patience": 3,
              "lr": 0.05, "lr_schedule": "constant", "n_networks": 1}
    clf = WarpClassifier(**params).fit(X, y)
    assert set(clf.history_) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    assert clf.n_epochs_ < 200
    best = int(np.argmin(clf.history_["val_loss"]))
    assert clf.n_epochs_ == best + 1 + 3
    assert min(clf.history_["val_loss"][best + 1:]) > clf.history_["val_loss"][best]
    up_to_best = WarpClassifier(**{**params, "n_epochs": best + 1}).fit(X, y)
    assert up_to_best.history_["val_loss"] == clf.history_["val_loss"][:best + 1]
    for name, value in up_to_best.network_.state_dict().items():
        torch.testing.assert_close(clf.network_.state_dict()[name], value, rtol=0, atol=0)
    np.testing.assert_array_equal(clf.predict_proba(X), up_to_best.predict_proba(X))


def test_network_is_on_cpu_after_fit(motions):
    X, y, _, _ = motions
    clf = WarpClassifier(**FAST).fit(X, y)
    assert all(p.device.type == "cpu" for p in clf.network_.parameters())


def test_unequal_length_japanese_vowels():
    X, y = load_japanese_vowels(split="train", return_X_y=True)
    X_test, y_test = load_japanese_vowels(split="test", return_X_y=True)
    lengths = X.iloc[:, 0].map(len)
    assert lengths.nunique() > 1  # native unequal-length form
    clf = WarpClassifier(n_epochs=5, random_state=0).fit(X, y)
    assert clf.score(X_test, y_test) > 0.3  # 9 classes: chance is about 0.11


def test_padded_and_unequal_inputs_agree_per_series():
    """A series predicts the same alone as inside a batch of longer ones."""
    X, y = load_japanese_vowels(split="train", return_X_y=True)
    clf = WarpClassifier(**FAST).fit(X.iloc[:40], y[:40])
    together = clf.predict_proba(X.iloc[:10])
    alone = np.vstack([clf.predict_proba(X.iloc[i:i + 1]) for i in range(10)])
    np.testing.assert_allclose(together, alone, rtol=1e-5, atol=1e-6)


def _separable(n_series=24, n_steps=30, seed=0):
    """Two classes a working classifier tells apart: a ramp in channel 0 or not."""
    rng = np.random.default_rng(seed)
    y = np.tile(["flat", "ramp"], n_series // 2)
    X = rng.normal(0, 0.1, (n_series, 2, n_steps))
    X[y == "ramp", 0] += 2 * np.linspace(0, 1, n_steps)
    return X, y


EASY = {**FAST, "n_epochs": 15, "lr": 1e-2}


ThreadRecordingClassifier = thread_recording_classifier()


def _threads_in_fit(estimator, X, y):
    """A 'score' that reports, from the worker, the thread count of the fit."""
    return estimator.threads_in_fit_


def _root_width_in_fit(estimator, X, y):
    """A 'score' that reports the root width of the fitted network."""
    return estimator.network_.root.width


def test_grid_search_cv_with_two_jobs_trains_on_one_thread():
    X, y = _separable()
    grid = {"root_width": [4, 8], "lr": [3e-3, 1e-2]}
    params = {k: v for k, v in EASY.items() if k != "n_threads"}
    search = GridSearchCV(ThreadRecordingClassifier(**params), grid, cv=3, n_jobs=2,
                          scoring={"accuracy": "accuracy", "log_loss": "neg_log_loss",
                                   "threads": _threads_in_fit, "width": _root_width_in_fit},
                          refit="accuracy", error_score="raise").fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 4
    # every candidate's root_width reached the networks fitted in every split
    widths = [candidate["root_width"] for candidate in results["params"]]
    assert sorted(widths) == [4, 4, 8, 8]
    assert [results[f"split{i}_test_width"].tolist() for i in range(3)] == [widths] * 3
    # and the four candidates trained four different models (lr too)
    log_losses = results["mean_test_log_loss"]
    assert np.isfinite(log_losses).all() and len(set(log_losses.tolist())) == 4
    assert search.best_score_ >= 0.9  # chance is 0.5
    # the 12 fits in the worker processes trained on one thread, the default
    assert [results[f"split{i}_test_threads"].tolist() for i in range(3)] == [[1] * 4] * 3
    best = search.best_estimator_
    assert best.get_params()["n_threads"] == 1 and best.threads_in_fit_ == 1
    assert {k: best.get_params()[k] for k in grid} == search.best_params_
    assert best.network_.root.width == search.best_params_["root_width"]
    assert list(best.classes_) == ["flat", "ramp"]
    assert set(best.predict(X)) <= set(best.classes_) and best.score(X, y) >= 0.9


@pytest.mark.parametrize("n_threads", [1, 2])
def test_parallel_search_workers_train_on_n_threads(n_threads):
    X, y = random_walk_panel()
    result = cross_validate(ThreadRecordingClassifier(**{**TINY_CLASSIFIER,
                                                         "n_threads": n_threads}),
                            X, y, cv=2, n_jobs=2, return_estimator=True)
    assert [est.threads_in_fit_ for est in result["estimator"]] == [n_threads] * 2


def test_randomized_search(motions):
    X, y = _separable()
    space = {"n_frequencies": [0, 1, 2], "root_width": [4, 8]}
    search = RandomizedSearchCV(WarpClassifier(**EASY), space, n_iter=2, cv=2,
                                random_state=0, error_score="raise",
                                scoring={"accuracy": "accuracy", "width": _root_width_in_fit},
                                refit="accuracy").fit(X, y)
    candidates = search.cv_results_["params"]
    assert len(candidates) == 2 and candidates[0] != candidates[1]
    for i in range(2):  # each candidate's root_width reached its networks
        assert search.cv_results_[f"split{i}_test_width"].tolist() == \
            [candidate["root_width"] for candidate in candidates]
    best = search.best_estimator_
    assert {k: best.get_params()[k] for k in space} == search.best_params_
    assert best.network_.n_frequencies == search.best_params_["n_frequencies"]
    assert best.network_.root.width == search.best_params_["root_width"]
    assert search.best_score_ >= 0.9


def test_cross_val_score_and_cross_validate():
    X, y = _separable()
    scores = cross_val_score(WarpClassifier(**EASY), X, y, cv=3, error_score="raise")
    assert scores.shape == (3,) and scores.min() >= 0.75  # chance is 0.5
    result = cross_validate(WarpClassifier(**EASY), X, y, cv=2, return_estimator=True,
                            error_score="raise")
    assert len(result["estimator"]) == 2 and result["test_score"].min() >= 0.75
    first, second = result["estimator"]
    assert not np.array_equal(first.predict_proba(X), second.predict_proba(X))


# the paper preset: its dense A is where the solvers differ most (loop,
# odd-even scan, chunked kernel); the LRU's solvers are checked against the
# float64 loop in test_transitions. With the default embedding, float rounding
# differences grow through BatchNorm over 5 epochs at lr 1e-2.
SOLVER_PARAMS = {**FAST, **PAPER_PARAMS, "root_width": FAST["root_width"], "decoding": "last",
                 "n_epochs": 5, "lr": 1e-2}


@pytest.fixture(scope="module")
def solver_fits():
    """One fit per explicit solver (and "auto") on the same data."""
    X, y = _separable(seed=1)
    fits = {solver: WarpClassifier(**SOLVER_PARAMS, solver=solver).fit(X, y)
            for solver in ("sequential", "parallel", "kernel", "auto")}
    return X, fits


def _assert_same_weights(fitted, reference):
    for network, expected in zip(fitted.networks_, reference.networks_, strict=True):
        for name, value in expected.state_dict().items():
            torch.testing.assert_close(network.state_dict()[name], value, rtol=1e-4,
                                       atol=1e-5)


@pytest.mark.parametrize("solver", ["parallel", "kernel", "auto"])
def test_every_solver_trains_the_networks_of_the_loop(solver_fits, solver):
    """Training: each solver against the sequential loop, explicitly (what
    "auto" resolves to depends on the batch, the state size and the device)."""
    X, fits = solver_fits
    loop, other = fits["sequential"], fits[solver]
    _assert_same_weights(other, loop)
    np.testing.assert_allclose(other.predict_proba(X), loop.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(other.predict(X), loop.predict(X))


@pytest.mark.parametrize("solver", ["parallel", "kernel", "auto"])
def test_every_solver_predicts_like_the_loop_with_the_same_weights(solver_fits, solver):
    """Prediction: the loop's fitted networks, predicting with each solver
    against predicting with the loop; the results differ in float rounding
    only, and not at all would mean the solver was never switched."""
    X, fits = solver_fits
    loop = fits["sequential"]
    switched = copy.deepcopy(loop)
    switched.solver = solver
    expected, got = loop.predict_proba(X), switched.predict_proba(X)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    if solver != "auto":
        assert not np.array_equal(got, expected)


def _every_other_step(X):
    return X[:, :, ::2]


def test_pipeline_with_sklearn_transformer(motions):
    X, y, X_test, y_test = motions
    pipe = Pipeline([("downsample", FunctionTransformer(_every_other_step)),
                     ("warp", WarpClassifier(**FAST))])
    pipe.fit(X, y)
    assert pipe.named_steps["warp"].network_ is not None
    assert pipe.predict(X_test).shape == (len(X_test),)
    assert 0 <= pipe.score(X_test, y_test) <= 1
    grid = GridSearchCV(pipe, {"warp__root_width": [4, 8]}, cv=2).fit(X, y)
    assert grid.best_estimator_.named_steps["warp"].network_.root.width == \
        grid.best_params_["warp__root_width"]


def test_clone_and_pickle_round_trip(motions):
    X, y, X_test, _ = motions
    clf = WarpClassifier(**FAST)
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params() and cloned is not clf
    clf.fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))
    assert not hasattr(clone(clf), "network_") and not hasattr(clone(clf), "networks_")


def test_multiindex_dataframe_input(motions):
    X, y, _, _ = motions
    X_df = load_basic_motions(split="train", return_type="pd-multiindex")[0]
    clf = WarpClassifier(**FAST)
    np.testing.assert_allclose(clf.fit(X, y).predict_proba(X),
                               clf.fit(X_df, y).predict_proba(X_df), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- #
# bad input
# --------------------------------------------------------------------------- #
def _with(X, index, value):
    X = X.astype(float).copy()
    X[index] = value
    return X


@pytest.mark.parametrize("value, match", [(np.inf, "infinite"), (-np.inf, "infinite")])
def test_non_finite_values_rejected(motions, value, match):
    X, y, _, _ = motions
    with pytest.raises(ValueError, match=match):
        WarpClassifier(**FAST).fit(_with(X, (0, 0, 5), value), y)
    clf = WarpClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=match):
        clf.predict(_with(X, (1, 2, 3), value))


def test_channel_count_mismatch_at_predict(motions):
    X, y, _, _ = motions
    clf = WarpClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match="channels"):
        clf.predict(X[:, :3])


@pytest.mark.parametrize("bad_X, error, match", [
    (np.zeros((0, 2, 5)), ValueError, "cases"),
    (np.zeros((4, 2, 0)), ValueError, "zero time points"),
    (np.zeros((4, 2, 5, 1)), TypeError, "4D"),
    (np.full((4, 1, 5), "a", dtype=object), TypeError, "numbers"),
])
def test_malformed_X_rejected(bad_X, error, match):
    with pytest.raises(error, match=match):
        WarpClassifier(**FAST).fit(bad_X, np.array([0, 1, 0, 1][: len(bad_X)]))


def test_y_of_another_length_rejected(motions):
    X, y, _, _ = motions
    with pytest.raises(ValueError):
        WarpClassifier(**FAST).fit(X, y[:-1])


@pytest.mark.parametrize("params, match", [
    ({"n_epochs": 0}, "n_epochs"), ({"lr": -1.0}, "lr"), ({"optimizer": "lbfgs"}, "optimizer"),
    ({"scaling": "robust"}, "scaling"), ({"device": "tpu"}, "device"),
    ({"decoding": "first"}, "decoding"), ({"root_width": 0}, "root_width"),
    ({"validation_fraction": 1.0}, "validation_fraction"), ({"solver": "fft"}, "solver"),
    ({"solver": "kernel", "decoding": "mean"}, "solver"), ({"weight_decay": "x"}, "weight_decay"),
    ({"grad_clip": np.inf}, "grad_clip"), ({"time_channel": "no"}, "time_channel"),
    ({"input_noise": True}, "input_noise"), ({"state_clip": 0}, "state_clip"),
    ({"n_threads": 0}, "n_threads"), ({"activation": "swish"}, "activation"),
    ({"random_state": "seed"}, "random_state"),
])
def test_invalid_hyperparameters_named_in_error(motions, params, match):
    X, y, _, _ = motions
    with pytest.raises((ValueError, TypeError), match=match):
        WarpClassifier(**{**FAST, **params}).fit(X, y)


def test_object_dtype_numbers_are_accepted(motions):
    X, y, _, _ = motions
    clf = WarpClassifier(**FAST).fit(X.astype(object), y)
    np.testing.assert_array_equal(clf.predict(X), WarpClassifier(**FAST).fit(X, y).predict(X))


def test_nested_dataframe_with_nan_holds_the_last_value():
    X, y = load_japanese_vowels(split="train", return_X_y=True)
    X = X.iloc[:20].copy()
    filled = X.copy()
    series = X.iloc[0, 0].copy()
    filled.iat[0, 0] = series.copy()
    filled.iat[0, 0].iloc[3] = series.iloc[2]
    series.iloc[3] = np.nan
    X.iat[0, 0] = series
    assert isinstance(X, pd.DataFrame) and X.iloc[0, 0].isna().sum() == 1
    np.testing.assert_array_equal(WarpClassifier(**FAST).fit(X, y[:20]).predict_proba(X),
                                  WarpClassifier(**FAST).fit(filled, y[:20]).predict_proba(filled))


def test_reset_keeps_sklearn_callback_context_and_tags():
    from sklearn.base import is_classifier
    from sklearn.utils import get_tags

    clf = WarpClassifier(**FAST)
    marker = object()
    clf._parent_callback_ctx = marker
    clf.reset()
    assert clf._parent_callback_ctx is marker
    assert is_classifier(clf)
    assert get_tags(clf).estimator_type == "classifier"


def test_verbose_shows_progress_with_loss(motions, capsys):
    X, y, _, _ = motions
    WarpClassifier(**{**FAST, "verbose": True, "n_networks": 1}).fit(X, y)
    err = capsys.readouterr().err
    assert "epochs" in err and "loss=" in err
    WarpClassifier(**{**FAST, "verbose": True, "n_networks": 2}).fit(X, y)
    err = capsys.readouterr().err
    assert "networks 1-2" in err and "loss=" in err  # one bar: trained together


def test_cuda_device_trains_there_or_is_refused(motions):
    X, y, X_test, _ = motions
    clf = WarpClassifier(**{**FAST, "device": "cuda"})
    if torch.cuda.is_available():
        clf.fit(X, y)
        assert all(p.device.type == "cpu" for p in clf.network_.parameters())
        assert clf.predict(X_test).shape == (len(X_test),)
    else:
        with pytest.raises(ValueError, match="CUDA is not available"):
            clf.fit(X, y)


def test_diverging_training_falls_back_to_finite_weights(motions):
    X, y, X_test, _ = motions
    clf = WarpClassifier(**{**FAST, "n_epochs": 20, "lr": 1e8, "transition_lr": 1e4,
                            "grad_clip": None, "optimizer": "sgd"})
    with pytest.warns(DivergenceWarning, match="non-finite"):
        clf.fit(X, y)
    assert np.isfinite(clf.predict_proba(X_test)).all()


def test_input_noise_regularises_training_only(motions):
    X, y, X_test, _ = motions
    noisy = WarpClassifier(**{**FAST, "input_noise": 0.4}).fit(X, y)
    clean = WarpClassifier(**{**FAST, "input_noise": 0.0}).fit(X, y)
    assert not np.array_equal(noisy.predict_proba(X_test), clean.predict_proba(X_test))
    # prediction = the fitted networks on the cleanly scaled inputs, no noise
    lengths = np.full(len(X_test), X_test.shape[2])
    x = torch.from_numpy(noisy._network_input(X_test.transpose(0, 2, 1), lengths))
    with torch.no_grad():
        expected = np.mean([torch.softmax(network(x).double(), dim=1).numpy()
                            for network in noisy.networks_], axis=0)
    np.testing.assert_allclose(noisy.predict_proba(X_test), expected, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="input_noise"):
        WarpClassifier(**{**FAST, "input_noise": -1.0}).fit(X, y)


@pytest.mark.slow
def test_default_parameters_reach_095_on_basic_motions(motions):
    """Mean over random_state 0-4 (ablation_defaults.md: 1.000 for seeds 0-1)."""
    X, y, X_test, y_test = motions
    scores = [WarpClassifier(random_state=seed).fit(X, y).score(X_test, y_test)
              for seed in range(5)]
    assert np.mean(scores) >= 0.95, scores


def test_fit_restores_the_torch_thread_count(motions):
    X, y, _, _ = motions
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        clf = WarpClassifier(**{**FAST, "n_threads": 1}).fit(X, y)
        assert torch.get_num_threads() == 2
        clf.predict(X)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
