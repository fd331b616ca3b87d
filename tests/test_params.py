"""Hyper-parameters: one check and one docstring text each, checked before
the data; the forecaster's scaling sees only its training windows; named
random streams; the core imports without sktime."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER

from skwarp import WarpClassifier, WarpForecaster
from skwarp._params import TRAINING_PARAMS
from skwarp._training import Seeds
from skwarp.classification import stratified_split
from skwarp.core.spec import settings

ESTIMATORS = [WarpClassifier, WarpForecaster]
# data that fails validation itself: a parameter error must come first
NOT_DATA = object()


def _names(cls) -> list[str]:
    return [n for n in inspect.signature(cls.__init__).parameters if n != "self"]


def _fit_garbage(estimator):
    if isinstance(estimator, WarpClassifier):
        return estimator.fit(NOT_DATA, NOT_DATA)
    return estimator.fit(NOT_DATA)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_every_parameter_has_one_spec_and_the_shared_ones_come_from_the_base(cls):
    assert list(cls._PARAMS) == _names(cls)
    for name in _names(cls):
        if name in cls._OWN_PARAMS:
            assert cls._PARAMS[name] is cls._OWN_PARAMS[name]
        elif name in settings():
            assert cls._PARAMS[name] is settings()[name]
        else:
            assert cls._PARAMS[name] is TRAINING_PARAMS[name]


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_signatures_are_keyword_only(cls):
    kinds = {p.kind for n, p in inspect.signature(cls.__init__).parameters.items()
             if n != "self"}
    assert kinds == {inspect.Parameter.KEYWORD_ONLY}
    with pytest.raises(TypeError):
        cls(8)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_docstring_lists_every_parameter_with_this_estimators_default(cls):
    documented = dict(re.findall(r"^    (\w+) : .*, default=(.*)$", cls.__doc__, re.M))
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        default = parameter.default
        assert documented[name] == (f'"{default}"' if isinstance(default, str)
                                    else repr(default)), name


def _entry(doc: str, name: str) -> str:
    match = re.search(rf"^    {name} : .*?, default=.*\n((?:        .*\n)*)", doc, re.M)
    return match.group(1)


def test_shared_parameters_read_the_same_in_both_docstrings():
    shared = (set(_names(WarpClassifier)) & set(_names(WarpForecaster))) - \
        set(WarpClassifier._OWN_PARAMS) - set(WarpForecaster._OWN_PARAMS)
    assert len(shared) > 30
    for name in shared:
        assert _entry(WarpClassifier.__doc__, name) == _entry(WarpForecaster.__doc__, name)
    # the defaults that differ are each estimator's own (both now default to
    # transition="lru", with moduli started in their own ranges)
    assert "transition : {" in WarpForecaster.__doc__
    assert re.search(r"transition_radius : .*default=\(0\.3, 0\.9\)$", WarpForecaster.__doc__,
                     re.M)
    assert re.search(r"transition_radius : .*default=\(0\.99, 0\.99999\)$",
                     WarpClassifier.__doc__, re.M)
    assert re.search(r"running_average : .*default=False$", WarpForecaster.__doc__, re.M)
    assert re.search(r"running_average : .*default=True$", WarpClassifier.__doc__, re.M)


@pytest.mark.parametrize(("cls", "name"), [
    pytest.param(cls, name, id=f"{cls.__name__}-{name}")
    for cls in ESTIMATORS for name in _names(cls)])
def test_a_bad_value_of_any_parameter_is_named_before_the_data_is_read(cls, name):
    estimator = cls(**{name: NOT_DATA})
    with pytest.raises((ValueError, TypeError), match=name):
        _fit_garbage(estimator)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("bad", [{"device": "tpu"}, {"input_noise": -1},
                                 {"transition_radius": (0.5, 1.5)}, {"n_threads": 0},
                                 {"random_state": "seed"}, {"batch_size": 0}])
def test_documented_bad_values_raise_before_data_conversion(cls, bad):
    name = next(iter(bad))
    with pytest.raises((ValueError, TypeError), match=name):
        _fit_garbage(cls(**bad))


def test_combinations_are_checked_before_the_data_too():
    with pytest.raises(ValueError, match="solver"):
        WarpClassifier(decoding="mean", solver="kernel").fit(NOT_DATA, NOT_DATA)
    from skwarp.core import MassSpringDamper

    with pytest.raises(ValueError, match="scaling=None"):
        WarpForecaster(physics=MassSpringDamper(dt=0.1)).fit(NOT_DATA)


@pytest.mark.parametrize("estimator", [WarpClassifier(**TINY_CLASSIFIER),
                                       WarpForecaster(**TINY_FORECASTER)])
def test_valid_parameters_reach_the_data_checks(estimator):
    """Valid parameters pass their checks: what fails is sktime's check of
    the data, whose message no parameter error shares."""
    with pytest.raises(TypeError, match="y must be in an sktime compatible format"):
        _fit_garbage(estimator)


def test_forecaster_scaling_sees_only_the_training_windows():
    # a level shift late in the series lies in the validation windows only
    values = np.r_[np.linspace(0.0, 1.0, 40), np.full(20, 50.0)]
    y = pd.Series(values)
    # autoregressive decoding: full windows, counted as below
    forecaster = WarpForecaster(**{**TINY_FORECASTER, "validation_fraction": 0.4,
                                   "patience": 1, "decoding": "autoregressive"}).fit(y)
    window = TINY_FORECASTER["context_length"] + TINY_FORECASTER["horizon_length"]
    n_windows = len(values) - window + 1
    n_val = round(0.4 * n_windows)
    covered = values[:n_windows - n_val - 1 + window]
    assert len(covered) < len(values)
    np.testing.assert_allclose(forecaster.scaler_.offset_, [covered.mean()])
    np.testing.assert_allclose(forecaster.scaler_.scale_, [covered.std()])
    # without validation every point is training data
    full = WarpForecaster(**TINY_FORECASTER).fit(y)
    np.testing.assert_allclose(full.scaler_.offset_, [values.mean()])


def test_classifier_scaling_sees_only_the_training_series():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 1, 10))
    y = np.array([0, 1] * 10)
    clf = WarpClassifier(**{**TINY_CLASSIFIER, "validation_fraction": 0.5,
                            "series_norm": False}).fit(X, y)
    train_idx, _ = stratified_split(np.searchsorted(clf.classes_, y), 0.5,
                                    Seeds.from_random_state(0).split)
    assert len(train_idx) == 10
    np.testing.assert_allclose(clf.scaler_.offset_, [X[train_idx].mean()])
    assert not np.isclose(clf.scaler_.offset_[0], X.mean())
    # series_norm: the unit and centre of the statistics too
    normed = WarpClassifier(**{**TINY_CLASSIFIER, "validation_fraction": 0.5,
                               "series_norm": True}).fit(X, y)
    np.testing.assert_allclose(normed.series_standardiser_.unit_, [X[train_idx].std()])
    assert not np.isclose(normed.series_standardiser_.unit_[0], X.std())


@pytest.mark.parametrize("random_state", [0, 1, 12345, np.random.RandomState(3)])
def test_every_random_stream_has_its_own_seed(random_state):
    seeds = Seeds.from_random_state(random_state)
    values = list(vars(seeds).values())
    assert len(set(values)) == len(values)
    update = seeds.for_update()
    assert (update.shuffle, update.noise, update.forcing) == (
        seeds.update_shuffle, seeds.update_noise, seeds.update_forcing)
    assert update.init == seeds.init and update.forecast == seeds.forecast


def test_weights_shuffling_and_split_seeds_are_those_of_earlier_versions():
    # fitted models stay the same across the change to named streams
    seeds = Seeds.from_random_state(7)
    init, training, split = np.random.SeedSequence(7).generate_state(3)
    assert (seeds.init, seeds.shuffle, seeds.split) == (init, training, split)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_fit_predict_checks_the_parameters_too(cls):
    # sktime's fit_predict reaches _fit without fit
    estimator = cls(**{**(TINY_CLASSIFIER if cls is WarpClassifier else TINY_FORECASTER),
                       "scaling": "bogus"})
    with pytest.raises(ValueError, match="scaling"):
        if cls is WarpClassifier:
            estimator.fit_predict(np.zeros((6, 1, 5)), np.array([0, 1] * 3))
        else:
            estimator.fit_predict(pd.Series(np.arange(30.0)), fh=[1])


def test_integer_verbosity_is_accepted():
    WarpClassifier(verbose=2)._validate_params()
    with pytest.raises(ValueError, match="verbose"):
        WarpClassifier(verbose=-1)._validate_params()


def test_a_subclass_may_add_a_parameter():
    class Wider(WarpClassifier):
        _PARAMS = {**WarpClassifier._PARAMS, "extra": WarpClassifier._PARAMS["root_width"]}

        def __init__(self, *, extra=3, root_width=32):
            self.extra = extra
            super().__init__(root_width=root_width)

    assert Wider(extra=5, root_width=8).get_params() == {"extra": 5, "root_width": 8}


def test_the_package_imports_without_docstrings():
    code = "import skwarp.classification, skwarp.forecasting"
    subprocess.run([sys.executable, "-OO", "-c", code], check=True)


def test_the_core_imports_without_sktime():
    code = "import skwarp.core, sys; assert 'sktime' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_estimators_are_still_importable_from_the_top():
    code = ("import skwarp, sys; assert 'sktime' not in sys.modules; "
            "from skwarp import WarpClassifier, PAPER_PARAMS, WarpForecaster; "
            "assert 'sktime' in sys.modules; assert 'WarpForecaster' in dir(skwarp)")
    subprocess.run([sys.executable, "-c", code], check=True)
