"""Bad-input cases of both estimators: what each input must give.

Used by ``tests/test_bad_input.py``, which checks every case. Every case trains tiny models
(:data:`_helpers.TINY_CLASSIFIER`, root_width 4) for one epoch.
"""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER

from skwarp import WarpClassifier, WarpForecaster


class WrongOutput(AssertionError):
    """A case ran without error but its output is not the right one."""


@dataclass(frozen=True)
class Case:
    """One bad (or unusual) input and what it must give.

    ``run`` performs the calls and raises :class:`WrongOutput` if the output
    is wrong; it returns a short description of the output. ``error`` is
    ``None`` when the input must be accepted, else the exception type that
    must be raised, whose message must match the regex ``match``.
    """

    estimator: str
    name: str
    run: Callable[[], str]
    error: type[Exception] | None = None
    match: str = ""

    @property
    def expected(self) -> str:
        return "right output" if self.error is None else \
            f"{self.error.__name__} /{self.match}/"


@dataclass(frozen=True)
class Outcome:
    case: Case
    passed: bool
    result: str
    seconds: float


def run_case(case: Case) -> Outcome:
    """Run ``case``; ``passed`` says whether it gave what it must."""
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            detail = case.run()
    except WrongOutput as wrong:
        return Outcome(case, False, f"wrong output: {wrong}", time.perf_counter() - start)
    except Exception as error:  # noqa: BLE001 - every error is an outcome to report
        seconds = time.perf_counter() - start
        result = f"{type(error).__name__}: {one_line(str(error))}"
        passed = case.error is not None and isinstance(error, case.error) \
            and re.search(case.match, str(error)) is not None
        return Outcome(case, passed, result, seconds)
    seconds = time.perf_counter() - start
    return Outcome(case, case.error is None, f"ok: {detail}", seconds)


def one_line(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --------------------------------------------------------------------------- #
# data
# --------------------------------------------------------------------------- #
@lru_cache(maxsize=1)
def _panel() -> tuple[np.ndarray, np.ndarray]:
    """12 series, 2 channels, 24 steps, 3 classes told apart by frequency."""
    rng = np.random.default_rng(0)
    t = np.arange(24)
    y = np.array(["a", "b", "c"] * 4)
    X = np.stack([np.stack([np.sin(t * (k + 1) / 4), np.cos(t * (k + 1) / 6)])
                  for k in np.searchsorted(np.unique(y), y)])
    return X + 0.1 * rng.standard_normal(X.shape), y


def _X() -> np.ndarray:
    return _panel()[0].copy()


def _y() -> np.ndarray:
    return _panel()[1].copy()


def _series(n: int = 60, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return pd.Series(5 + np.sin(2 * np.pi * t / 12) + 0.1 * rng.standard_normal(n),
                     name="y")


def _exog(n: int = 70) -> pd.DataFrame:
    return pd.DataFrame({"x": np.cos(np.arange(n) / 3)})


def _forecaster_panel(n_series: int = 2, n: int = 40) -> pd.DataFrame:
    frames = [_series(n, seed=i).to_frame().set_index(
        pd.MultiIndex.from_product([[i], pd.RangeIndex(n)], names=["series", "time"]))
        for i in range(n_series)]
    return pd.concat(frames)


# --------------------------------------------------------------------------- #
# helpers that check the output
# --------------------------------------------------------------------------- #
def _proba(X, y=None, predict_X=None, **params) -> np.ndarray:
    clf = WarpClassifier(**{**TINY_CLASSIFIER, **params}).fit(X, _y() if y is None else y)
    return clf.predict_proba(X if predict_X is None else predict_X)


def _valid_proba(proba: np.ndarray, n_rows: int) -> str:
    if proba.shape[0] != n_rows or not np.isfinite(proba).all():
        raise WrongOutput(f"probabilities of shape {proba.shape}, finite: "
                          f"{np.isfinite(proba).all()}")
    if not np.allclose(proba.sum(axis=1), 1.0):
        raise WrongOutput("probabilities do not sum to 1")
    return f"{n_rows} finite probability rows"


def _same(result: np.ndarray, reference: np.ndarray, what: str, rtol: float = 0.0,
          atol: float = 0.0) -> str:
    result, reference = np.asarray(result, dtype=float), np.asarray(reference, dtype=float)
    if result.shape != reference.shape or not np.allclose(result, reference, rtol=rtol,
                                                           atol=atol):
        gap = np.max(np.abs(result - reference)) if result.shape == reference.shape else "-"
        raise WrongOutput(f"differs from {what} (largest gap {gap})")
    exact = "identical to" if rtol == atol == 0 else f"within rtol={rtol:g}, atol={atol:g} of"
    return f"{exact} {what}"


def _forecast(y, X=None, predict_X=None, fh=(1, 2, 3), **params) -> np.ndarray:
    forecaster = WarpForecaster(**{**TINY_FORECASTER, **params}).fit(y, X=X)
    prediction = forecaster.predict(fh=list(fh), X=predict_X)
    values = prediction.to_numpy() if hasattr(prediction, "to_numpy") else prediction
    return np.asarray(values, dtype=float).reshape(len(fh), -1)


def _panel_forecast(y) -> np.ndarray:
    """Forecasts of a panel or hierarchy in any mtype, as (n_series * n_steps,)
    values, series by series."""
    prediction = WarpForecaster(**TINY_FORECASTER).fit(y).predict(fh=[1, 2])
    if not isinstance(prediction, pd.DataFrame) or prediction.index.nlevels < 2:
        from sktime.datatypes import convert_to

        prediction = convert_to(prediction, to_type="pd-multiindex")
    return prediction.to_numpy(dtype=float).ravel()


# --------------------------------------------------------------------------- #
# classifier cases
# --------------------------------------------------------------------------- #
def _with(X: np.ndarray, index, value) -> np.ndarray:
    X = X.astype(float)
    X[index] = value
    return X


def _held_like(X: np.ndarray, held: np.ndarray, what: str) -> str:
    """A model fitted on ``X`` (with NaN) predicts ``X`` exactly as ``held`` (NaN
    filled by hand), and close to a model fitted on ``held`` (only the scaling
    statistics differ: they skip missing values rather than count held ones)."""
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(X, _y())
    _same(clf.predict_proba(X), clf.predict_proba(held), what)
    _same(clf.predict_proba(X), _proba(held, predict_X=held), f"a fit on {what}", atol=1e-3)
    return f"identical to {what}; within 1e-3 of a fit on it"


def _nan_inside() -> str:
    X, held = _X(), _X()
    X[0, 0, 5], X[3, 1, 10:13] = np.nan, np.nan
    held[0, 0, 5], held[3, 1, 10:13] = held[0, 0, 4], held[3, 1, 9]
    return _held_like(X, held, "the input with the last value held")


def _nan_at_start() -> str:
    X, held = _X(), _X()
    X[1, 0, :3] = np.nan
    held[1, 0, :3] = held[1, 0, 3]
    return _held_like(X, held, "the input with the first observation held back")


def _nan_padding() -> str:
    X = _X()
    X[2, :, 18:] = np.nan
    frames = [pd.DataFrame(x.T[:18 if i == 2 else 24]) for i, x in enumerate(_X())]
    return _same(_proba(X, predict_X=X), _proba(frames, predict_X=frames),
                 "the unequal-length (df-list) input")


def _nan_channel_of_one_series() -> str:
    X = _X()
    X[4, 1, :] = np.nan
    return _valid_proba(_proba(X, predict_X=X), len(X))


def _nan_at_predict() -> str:
    X, held = _X(), _X()
    X[5, 0, 7:9] = np.nan
    held[5, 0, 7:9] = held[5, 0, 6]
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(_X(), _y())
    return _same(clf.predict_proba(X), clf.predict_proba(held),
                 "predicting the input with the last value held")


def _constant_series() -> str:
    X = np.full((12, 2, 24), 3.0)
    proba = _proba(X, predict_X=X)
    _valid_proba(proba, 12)
    return _same(proba, np.repeat(proba[:1], 12, axis=0), "one row for every identical series")


def _constant_channel() -> str:
    X, zero = _X(), _X()
    X[:, 1], zero[:, 1] = 7.0, 0.0
    return _same(_proba(X, predict_X=X), _proba(zero, predict_X=zero),
                 "the same channel held at 0 (both centre to 0)")


def _single_instance() -> str:
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(_X()[:1], _y()[:1])
    predicted = clf.predict(_X())
    if not (predicted == _y()[0]).all():
        raise WrongOutput(f"predicted {set(predicted)}")
    return f"predicts the one class seen, {_y()[0]!r}, for all 12 series"


def _single_time_point() -> str:
    X = _X()[:, :, :1]
    return _valid_proba(_proba(X, predict_X=X), 12)


def _scaled(factor: float = 1.0, offset: float = 0.0, atol: float = 1e-5) -> Callable[[], str]:
    def run() -> str:
        X = _X() * factor + offset
        return _same(_proba(X, predict_X=X), _proba(_X(), predict_X=_X()),
                     "the unscaled input's probabilities", atol=atol)
    return run


def _same_as_float(convert: Callable[[np.ndarray], np.ndarray]) -> Callable[[], str]:
    def run() -> str:
        X = convert(_X())
        reference = X.astype(float)
        return _same(_proba(X, predict_X=X), _proba(reference, predict_X=reference),
                     "the same values as float64")
    return run


def _other_length_at_predict(n_steps: int) -> Callable[[], str]:
    def run() -> str:
        X = np.concatenate([_X(), _X()], axis=2)[:, :, :n_steps]
        clf = WarpClassifier(**TINY_CLASSIFIER).fit(_X(), _y())
        return _valid_proba(clf.predict_proba(X), 12) + f" for series of {n_steps} steps"
    return run


def _unequal_lengths() -> str:
    frames = [pd.DataFrame(x.T[:12 + i]) for i, x in enumerate(_X())]
    return _valid_proba(_proba(frames, predict_X=frames), 12)


def _labels_as(convert: Callable[[np.ndarray], object]) -> Callable[[], str]:
    def run() -> str:
        clf = WarpClassifier(**TINY_CLASSIFIER).fit(_X(), convert(_y()))
        reference = WarpClassifier(**TINY_CLASSIFIER).fit(_X(), _y())
        return _same(clf.predict_proba(_X()), reference.predict_proba(_X()),
                     "string labels in a numpy array")
    return run


def _integer_codes() -> str:
    codes = np.searchsorted(np.unique(_y()), _y()) * 10 + 3
    return _same(_proba(_X(), codes), _proba(_X()), "the same classes as strings")


def _bool_labels() -> str:
    labels = _y() == "a"
    clf = WarpClassifier(**TINY_CLASSIFIER).fit(_X(), labels)
    if clf.predict(_X()).dtype != bool or list(clf.classes_) != [False, True]:
        raise WrongOutput(f"classes {clf.classes_}")
    return "classes [False, True], boolean predictions"


def _predict_before_fit() -> str:
    WarpClassifier(**TINY_CLASSIFIER).predict(_X())
    return "predicted"


def _predict_with(X) -> Callable[[], str]:
    def run() -> str:
        WarpClassifier(**TINY_CLASSIFIER).fit(_X(), _y()).predict(X())
        return "predicted"
    return run


def _fit_with(X, y=None, **params) -> Callable[[], str]:
    def run() -> str:
        WarpClassifier(**{**TINY_CLASSIFIER, **params}).fit(X(), _y() if y is None else y())
        return "fitted"
    return run


def _panel_mtype(mtype: str, n_channels: int) -> Callable[[], str]:
    def run() -> str:
        from sktime.datatypes import convert_to

        X = _X()[:, :n_channels]
        converted = convert_to(X, to_type=mtype)
        return _same(_proba(converted, predict_X=converted), _proba(X, predict_X=X),
                     "the numpy3D input", atol=1e-6)
    return run


def _mixed_labels() -> np.ndarray:
    return np.array([1, "a", 2.0] * 4, dtype=object)


# Panel mtypes sktime 1.2 admits here (pd-long and pd-wide have no sktime check,
# dask, polars and gluonts types need packages that are not installed), and how
# many channels each can hold
CLASSIFIER_PANEL_MTYPES = {"numpy3D": 2, "df-list": 2, "nested_univ": 2, "pd-multiindex": 2,
                           "numpyflat": 1}


def classifier_cases() -> list[Case]:
    """Bad and unusual inputs of :class:`skwarp.WarpClassifier`."""
    def c(name, run, error=None, match=""):
        return Case("WarpClassifier", name, run, error, match)

    cases = [
        c("NaN inside series (fit and predict)", _nan_inside),
        c("NaN at the start of a series", _nan_at_start),
        c("trailing NaN padding (unequal lengths)", _nan_padding),
        c("one channel of one series all NaN", _nan_channel_of_one_series),
        c("NaN at predict only", _nan_at_predict),
        c("a series with every value NaN", _fit_with(lambda: _with(_X(), (6,), np.nan)),
          ValueError, "no observed value"),
        c("a channel never observed in training",
          _fit_with(lambda: _with(_X(), (slice(None), 1), np.nan)), ValueError,
          "channels \\[1\\].*no observed value"),
        c("+inf in X", _fit_with(lambda: _with(_X(), (0, 0, 5), np.inf)), ValueError,
          "infinite"),
        c("-inf in X at predict", _predict_with(lambda: _with(_X(), (1, 1, 1), -np.inf)),
          ValueError, "infinite"),
        c("constant series", _constant_series),
        c("one constant channel", _constant_channel),
        c("no instances", _fit_with(lambda: _X()[:0], lambda: _y()[:0]), ValueError,
          "cases"),
        c("no time points", _fit_with(lambda: np.zeros((12, 2, 0)), None), ValueError,
          "zero time points"),
        c("a single instance", _single_instance),
        c("a single time point", _single_time_point),
        c("values of 1e9", _scaled(1e9)),
        # float64 keeps the offset input to about 1e-7; BatchNorm in the
        # embedding amplifies that to about 1e-4 in the probabilities
        c("offset of 1e9", _scaled(1.0, 1e9, atol=1e-3)),
        c("values of 1e-9", _scaled(1e-9)),
        c("values of 1e300", _scaled(1e300)),
        c("values of 1e9 with scaling=None",
          _fit_with(lambda: _X() * 1e9, scaling=None, series_norm=False),
          ValueError, "after scaling.*scaling='standard'"),
        c("integer dtype", _same_as_float(lambda X: np.round(X * 100).astype(np.int64))),
        c("boolean dtype", _same_as_float(lambda X: X > 0)),
        c("object dtype holding floats", _same_as_float(lambda X: X.astype(object))),
        c("numeric strings", _fit_with(lambda: _X().astype(str)), TypeError,
          "real numbers, got strings"),
        c("object dtype holding strings", _fit_with(lambda: np.full((12, 2, 24), "a",
                                                                    dtype=object)),
          TypeError, "real numbers, got str"),
        c("complex dtype", _fit_with(lambda: _X().astype(complex)), TypeError, "complex"),
        c("4D array", _fit_with(lambda: _X()[..., None]), TypeError, "4D"),
        c("X and y of different lengths", _fit_with(_X, lambda: _y()[:-1]), ValueError,
          "Mismatch in number of cases"),
        c("fewer channels at predict", _predict_with(lambda: _X()[:, :1]), ValueError,
          "1 channels.*fitted on 2"),
        c("more channels at predict", _predict_with(lambda: np.concatenate([_X()] * 2, 1)),
          ValueError, "4 channels.*fitted on 2"),
        c("longer series at predict", _other_length_at_predict(40)),
        c("shorter series at predict", _other_length_at_predict(9)),
        c("unequal lengths in fit (df-list)", _unequal_lengths),
        c("labels mixing numbers and strings", _fit_with(_X, _mixed_labels), TypeError,
          "mixes numbers and strings"),
        c("None among labels",
          _fit_with(_X, lambda: np.array(["a", None, "c"] * 4, dtype=object)), ValueError,
          "missing labels"),
        c("NaN among float labels", _fit_with(_X, lambda: np.array([0.0, np.nan, 2.0] * 4)),
          ValueError, "missing labels"),
        c("labels as a list", _labels_as(list)),
        c("labels as a pd.Series", _labels_as(pd.Series)),
        c("labels as a one-column pd.DataFrame", _labels_as(lambda y: pd.DataFrame({"c": y}))),
        c("integer labels", _integer_codes),
        c("boolean labels", _bool_labels),
        c("predict before fit", _predict_before_fit, ValueError, "not been fitted"),
    ]
    cases += [c(f"X as sktime mtype {mtype}", _panel_mtype(mtype, n_channels))
              for mtype, n_channels in CLASSIFIER_PANEL_MTYPES.items()]
    return cases


# --------------------------------------------------------------------------- #
# forecaster cases
# --------------------------------------------------------------------------- #
def _forecast_fit(y, X=None, **params) -> Callable[[], str]:
    def run() -> str:
        WarpForecaster(**{**TINY_FORECASTER, **params}).fit(y(), X=None if X is None else X())
        return "fitted"
    return run


def _forecast_scaled(factor: float = 1.0, offset: float = 0.0, rtol: float = 1e-5,
                     **params) -> Callable[[], str]:
    def run() -> str:
        forecast = _forecast(_series() * factor + offset, **params)
        return _same((forecast - offset) / factor, _forecast(_series(), **params),
                     "the unscaled forecast, rescaled", rtol=rtol, atol=1e-6)
    return run


def _forecast_same_as_float(convert: Callable[[pd.Series], pd.Series]) -> Callable[[], str]:
    def run() -> str:
        y = convert(_series())
        return _same(_forecast(y), _forecast(y.astype(float)), "the same values as float64")
    return run


def _constant_y() -> str:
    forecast = _forecast(pd.Series(np.full(60, 3.0)))
    if not np.isfinite(forecast).all() or np.abs(forecast - 3.0).max() > 0.1:
        raise WrongOutput(f"forecast {forecast.ravel()}")
    return f"forecast within {np.abs(forecast - 3.0).max():.2g} of the constant 3"


def _shortest_y() -> str:
    forecast = _forecast(_series(TINY_FORECASTER["context_length"] + 1))
    if not np.isfinite(forecast).all():
        raise WrongOutput("non-finite forecast")
    return "finite forecast from context_length + 1 points"


def _forecast_predict(fit_X: bool, predict_X, fh=(1, 2, 3), **params) -> Callable[[], str]:
    def run() -> str:
        forecaster = WarpForecaster(**{**TINY_FORECASTER, **params}).fit(
            _series(), X=_exog().iloc[:60] if fit_X else None)
        forecaster.predict(fh=list(fh), X=predict_X())
        return "predicted"
    return run


def _update_other_columns() -> str:
    frame = pd.DataFrame({"a": _series(), "b": _series(seed=1)})
    forecaster = WarpForecaster(**TINY_FORECASTER).fit(frame)
    forecaster.update(pd.DataFrame({"a": _series(10, seed=2).to_numpy()},
                                   index=pd.RangeIndex(60, 70)), update_params=False)
    return "updated"


def _series_mtype(mtype: str) -> Callable[[], str]:
    def run() -> str:
        from sktime.datatypes import convert_to

        y = convert_to(_series(), to_type=mtype)
        return _same(_forecast(y), _forecast(_series()), "the pd.Series input")
    return run


def _panel_mtype_forecast(mtype: str) -> Callable[[], str]:
    def run() -> str:
        from sktime.datatypes import convert_to

        y = convert_to(_forecaster_panel(), to_type=mtype)
        return _same(_panel_forecast(y), _panel_forecast(_forecaster_panel()),
                     "the pd-multiindex input")
    return run


def _hierarchical() -> str:
    panel = _forecaster_panel(4)
    index = panel.index
    hier = panel.set_index(pd.MultiIndex.from_arrays(
        [index.get_level_values(0) // 2, index.get_level_values(0),
         index.get_level_values(1)], names=["group", "series", "time"]))
    return _same(_panel_forecast(hier), _panel_forecast(panel), "the flat panel input")


def _multivariate_y() -> str:
    frame = pd.DataFrame({"a": _series(), "b": _series(seed=1) * 100})
    forecast = _forecast(frame)
    if forecast.shape != (3, 2) or not np.isfinite(forecast).all():
        raise WrongOutput(f"forecast of shape {forecast.shape}")
    return "finite forecasts for both columns"


def _forecast_predict_before_fit() -> str:
    WarpForecaster(**TINY_FORECASTER).predict(fh=[1])
    return "predicted"


FORECASTER_SERIES_MTYPES = ("pd.Series", "pd.DataFrame", "np.ndarray")
FORECASTER_PANEL_MTYPES = ("pd-multiindex", "numpy3D", "df-list", "nested_univ")


def forecaster_cases() -> list[Case]:
    """Bad and unusual inputs of :class:`skwarp.WarpForecaster`."""
    def c(name, run, error=None, match=""):
        return Case("WarpForecaster", name, run, error, match)

    def y_with(index, value):
        def make():
            y = _series()
            y.iloc[index] = value
            return y
        return make

    def X_with(index, value):
        def make():
            X = _exog().iloc[:60].copy()
            X.iloc[index, 0] = value
            return X
        return make

    cases = [
        c("NaN in y", _forecast_fit(y_with(5, np.nan)), ValueError, "missing"),
        c("NaN in exogenous X", _forecast_fit(_series, X_with(5, np.nan)), ValueError,
          "missing"),
        c("+inf in y", _forecast_fit(y_with(5, np.inf)), ValueError, "infinite"),
        c("-inf in exogenous X", _forecast_fit(_series, X_with(7, -np.inf)), ValueError,
          "infinite"),
        c("constant y", _constant_y),
        c("empty y", _forecast_fit(lambda: _series()[:0]), ValueError, "zero time points"),
        # direct decoding (the default) pads short contexts: it needs a third of
        # context_length=4, at least 2 points; autoregressive decoding needs 5
        c("a single time point", _forecast_fit(lambda: _series(1)), ValueError,
          "1 time points.*decoding=\"direct\".*needs at least 2"),
        c("a single time point, autoregressive decoding",
          _forecast_fit(lambda: _series(1), decoding="autoregressive"), ValueError,
          "1 time points.*needs at least 5"),
        c("the shortest y (context_length + 1)", _shortest_y),
        c("values of 1e9", _forecast_scaled(1e9)),
        # logs answer to the level (that is their point): the offset case is
        # of the scaling alone, the scale cases hold with logs too
        c("offset of 1e9", _forecast_scaled(1.0, 1e9, rtol=1e-4, transform=None)),
        c("values of 1e-9", _forecast_scaled(1e-9)),
        c("values of 1e300", _forecast_scaled(1e300)),
        c("values of 1e9 with scaling=None",
          _forecast_fit(lambda: _series() * 1e9, scaling=None, transform=None), ValueError,
          "after scaling.*scaling='standard'"),
        c("integer dtype", _forecast_same_as_float(lambda y: (y * 100).round().astype(int))),
        c("boolean dtype", _forecast_same_as_float(lambda y: y > 5)),
        c("object dtype holding floats", _forecast_fit(lambda: _series().astype(object)),
          TypeError, "categorical"),
        c("strings", _forecast_fit(lambda: _series().astype(str)), TypeError, "categorical"),
        c("complex dtype", _forecast_fit(lambda: _series().astype(complex)), TypeError,
          "complex"),
        c("exogenous X of strings",
          _forecast_fit(_series, lambda: _exog().iloc[:60].astype(str)), TypeError,
          "X must be numeric"),
        c("X shorter than y", _forecast_fit(_series, lambda: _exog().iloc[:50]), ValueError,
          "indices"),
        # autoregressive decoding reads X at every forecast step; direct decoding
        # never reads X at predict (test_direct: ..._direct_decoding_reads_exogenous_X_...)
        c("more X columns at predict",
          _forecast_predict(True, lambda: _exog().iloc[60:].assign(z=1.0),
                            decoding="autoregressive"), ValueError,
          "X has 2 columns.*fitted on 1"),
        c("no X at predict after fitting with X",
          _forecast_predict(True, lambda: None, decoding="autoregressive"),
          ValueError, "exogenous"),
        c("X not covering the horizon",
          _forecast_predict(True, lambda: _exog().iloc[60:62], decoding="autoregressive"),
          ValueError, "cover every step"),
        c("fewer y columns in update", _update_other_columns, ValueError,
          "y has 1 columns.*fitted on 2"),
        c("in-sample horizon", _forecast_predict(False, lambda: None, fh=(0, 1)), ValueError,
          "in-sample"),
        c("multivariate y", _multivariate_y),
        c("hierarchical y (pd_multiindex_hier)", _hierarchical),
        c("predict before fit", _forecast_predict_before_fit, ValueError, "not been fitted"),
    ]
    cases += [c(f"y as sktime mtype {m}", _series_mtype(m)) for m in FORECASTER_SERIES_MTYPES]
    cases += [c(f"panel y as sktime mtype {m}", _panel_mtype_forecast(m))
              for m in FORECASTER_PANEL_MTYPES]
    return cases


def bad_input_cases() -> list[Case]:
    """Every case of both estimators."""
    return classifier_cases() + forecaster_cases()
