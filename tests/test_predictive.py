"""One predictive distribution: WarpForecaster's predict, predict_quantiles,
predict_interval, predict_var and predict_proba all read the same one, in
chunks of series whatever the panel's size; and the numpy distributions
(``skwarp._distribution``) and their skpro wrappers (``skwarp.distributions``)."""

import numpy as np
import pandas as pd
import pytest
import scipy.stats as st
from _helpers import TINY_FORECASTER
from sktime.datasets import load_airline

from skwarp import WarpForecaster
from skwarp import _distribution as dist
from skwarp._distribution import MixturePredictive, PathPredictive, quadrature_grid
from skwarp.distributions import WarpPathPredictive, WarpPredictive

LEVELS = [0.1, 0.5, 0.9]
FH = [1, 2, 5, 12]
# logs and multiplicative seasonal adjustment on positive monthly series
TINY = {**TINY_FORECASTER, "context_length": 12, "horizon_length": 6, "epoch_size": 64,
        "decoding": "direct", "seasonal_period": "auto", "seasonality": "auto",
        "transform": "auto"}


@pytest.fixture(scope="module")
def airline():
    return load_airline()


@pytest.fixture(scope="module")
def panel():
    """Three positive, seasonal monthly series with trends."""
    rng = np.random.default_rng(0)
    t = np.arange(60)
    season = 1 + 0.2 * np.sin(2 * np.pi * t / 12)
    frames = [pd.DataFrame(
        {"y": (10 + 3 * k + 0.1 * t) * season * np.exp(rng.normal(0, 0.05, 60))},
        index=pd.MultiIndex.from_arrays(
            [[f"s{k}"] * 60, pd.period_range("2000-01", periods=60, freq="M")]))
        for k in range(3)]
    return pd.concat(frames)


def _fit(y, **params):
    return WarpForecaster(**{**TINY, **params}).fit(y)


DIRECT_CASES = {"laplace": {"loss": "laplace"}, "nll": {"loss": "nll"},
                "two networks": {"loss": "laplace", "n_networks": 2}}


@pytest.fixture(scope="module", params=list(DIRECT_CASES))
def direct(request, panel):
    return _fit(panel, **DIRECT_CASES[request.param])


# -- (a) every forecast reads the one distribution --------------------------- #
def test_direct_forecasts_are_the_predictive_distributions(direct):
    proba = direct.predict_proba(fh=FH)
    assert isinstance(proba, WarpPredictive)
    quantiles = direct.predict_quantiles(fh=FH, alpha=LEVELS)
    assert proba.index.equals(quantiles.index)
    np.testing.assert_allclose(proba.quantile(LEVELS).to_numpy(), quantiles.to_numpy(),
                               rtol=1e-12)
    for k, level in enumerate(LEVELS):
        np.testing.assert_allclose(proba.ppf(level).to_numpy()[:, 0],
                                   quantiles.to_numpy()[:, k], rtol=1e-12)
    np.testing.assert_allclose(direct.predict(fh=FH).to_numpy()[:, 0],
                               quantiles.to_numpy()[:, 1], rtol=1e-12)
    np.testing.assert_allclose(direct.predict_var(fh=FH).to_numpy(), proba.var().to_numpy(),
                               rtol=1e-12)
    interval = direct.predict_interval(fh=FH, coverage=0.8).to_numpy()
    np.testing.assert_allclose(interval, quantiles.to_numpy()[:, [0, 2]], rtol=1e-12)


def test_the_mixture_of_two_networks_is_not_one_gaussian(panel):
    """The median of the networks' equal mixture: the mean of their cdfs is 1/2."""
    two = _fit(panel, n_networks=2)
    location, scale = two._direct(max(FH))
    steps = np.array(FH) - 1
    median = two.predict(fh=FH).to_numpy()[:, 0].reshape(3, len(FH))
    z = np.stack([_to_model(two, key, median[i], steps) for i, key in enumerate(two._recent)])
    cdf = st.laplace.cdf(z[..., None], location[:, steps, 0], scale[:, steps, 0]).mean(-1)
    np.testing.assert_allclose(cdf, 0.5, atol=1e-10)
    assert not np.allclose(z, location[:, steps, 0].mean(-1), rtol=1e-6)


def _to_model(forecaster, key, values, steps):
    """Data-unit forecasts of series ``key`` at the 0-based future ``steps``, in
    model units by SeriesTransform.forward."""
    first = forecaster._n_seen[key]
    return np.array([forecaster._transforms[key].forward(np.array([[v]]), first + step)[0, 0]
                     for v, step in zip(values, steps, strict=True)])


# -- (b) a Laplace fit's interval is Laplace's ------------------------------ #
def test_a_laplace_interval_is_the_laplace_quantiles_through_the_transform(airline):
    forecaster = _fit(airline, loss="laplace")
    assert forecaster._transforms[None].logs == [True]
    assert forecaster._transforms[None].profiles[0] is not None
    location, scale = forecaster._direct(max(FH))
    m, s = location[0, :, :, 0], scale[0, :, :, 0]  # (n_steps, 1)
    first = forecaster._n_seen[None]
    steps = np.array(FH) - 1

    def mapped(z):
        return forecaster._transforms[None].inverse(z, first)[steps, 0]

    interval = forecaster.predict_interval(fh=FH, coverage=0.8).to_numpy()
    np.testing.assert_allclose(interval[:, 0], mapped(m - s * np.log(5)), rtol=1e-12)
    np.testing.assert_allclose(interval[:, 1], mapped(m + s * np.log(5)), rtol=1e-12)
    normal = mapped(m + s * st.norm.ppf(0.9))
    assert not np.allclose(interval[:, 1], normal, rtol=1e-3)


# -- (c) logs: the median maps exactly, the mean lies above it --------------- #
@pytest.mark.parametrize("loss", ["nll", "laplace"])
def test_in_logs_the_median_maps_exactly_and_the_mean_exceeds_it(airline, loss):
    forecaster = _fit(airline, loss=loss)
    location, scale = forecaster._direct(max(FH))
    steps = np.array(FH) - 1
    m, s = location[0, steps, 0, 0], scale[0, steps, 0, 0]
    _, factor, shift = forecaster._transforms[None].data_map(forecaster._n_seen[None] + steps)
    factor = factor[:, 0]
    assert (shift == 0).all() and not np.allclose(factor, 1)
    median = forecaster.predict(fh=FH).to_numpy()
    np.testing.assert_allclose(median, factor * np.exp(m), rtol=1e-14)
    proba = forecaster.predict_proba(fh=FH)
    mean, var = proba.mean().to_numpy()[:, 0], proba.var().to_numpy()[:, 0]
    assert (mean > median).all()
    # the moments of a log-normal, or of a log-Laplace (b < 1/2), times the factor
    if loss == "nll":
        exact_mean = np.exp(m + s**2 / 2)
        exact_var = np.expm1(s**2) * np.exp(2 * m + s**2)
    else:
        assert (s < 0.5).all()
        exact_mean = np.exp(m) / (1 - s**2)
        exact_var = np.exp(2 * m) * (1 / (1 - 4 * s**2) - 1 / (1 - s**2) ** 2)
    np.testing.assert_allclose(mean, factor * exact_mean, rtol=1e-6)
    np.testing.assert_allclose(var, factor**2 * exact_var, rtol=1e-4)


# -- (d) autoregressive: one set of paths, chunked or not -------------------- #
@pytest.fixture(scope="module")
def autoregressive(panel):
    return _fit(panel, decoding="autoregressive", n_networks=2, n_samples=20)


def test_autoregressive_forecasts_are_the_paths_distribution(autoregressive):
    forecaster = autoregressive
    paths = forecaster._rollout(max(FH), forecaster.n_samples)[:, :, np.array(FH) - 1]
    assert paths.shape == (3, 40, len(FH), 1)
    quantiles = forecaster.predict_quantiles(fh=FH, alpha=LEVELS).to_numpy()
    expected = np.quantile(paths, LEVELS, axis=1)  # (n_levels, n_series, n_fh, 1)
    np.testing.assert_allclose(quantiles, expected[..., 0].transpose(1, 2, 0).reshape(-1, 3),
                               rtol=1e-12)
    proba = forecaster.predict_proba(fh=FH)
    assert isinstance(proba, WarpPathPredictive)
    np.testing.assert_allclose(proba.quantile(LEVELS).to_numpy(), quantiles, rtol=1e-12)
    # the variance of the interpolated paths: Q is linear between the
    # (n - 1)-quantiles, so midpoints of 1000 bins per segment integrate Q^2
    p = (np.arange(39_000) + 0.5) / 39_000
    q = np.quantile(paths, p, axis=1)
    var = forecaster.predict_var(fh=FH).to_numpy()[:, 0]
    np.testing.assert_allclose(var, q.var(axis=0)[..., 0].ravel(), rtol=1e-5)
    np.testing.assert_allclose(proba.var().to_numpy()[:, 0], var, rtol=1e-12)


def _forecasts(forecaster):
    return (forecaster.predict(fh=FH).to_numpy(),
            forecaster.predict_quantiles(fh=FH, alpha=LEVELS).to_numpy(),
            forecaster.predict_var(fh=FH).to_numpy(),
            forecaster.predict_proba(fh=FH).mean().to_numpy())


def _chunked_equals_whole(forecaster, monkeypatch, chunk_method: str, per_forecast: int):
    """Every forecast with chunks of one series (and element) equals the one at
    once, and ``chunk_method`` ran ``per_forecast`` times in each forecast."""
    whole = _forecasts(forecaster)
    calls = []
    method = getattr(forecaster, chunk_method)

    def counted(*args, **kwargs):
        calls.append(1)
        return method(*args, **kwargs)

    monkeypatch.setattr(dist, "CHUNK_FLOATS", 1)
    monkeypatch.setattr(forecaster, chunk_method, counted)
    chunked = _forecasts(forecaster)
    assert len(calls) == 4 * per_forecast
    for a, b in zip(whole, chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_direct_forecasts_in_chunks_of_one_series_equal_those_at_once(direct, monkeypatch):
    _chunked_equals_whole(direct, monkeypatch, "_direct_chunk", 3)  # a chunk per series


def test_rollouts_in_chunks_of_one_series_equal_those_at_once(autoregressive, monkeypatch):
    # a chunk per series and network
    _chunked_equals_whole(autoregressive, monkeypatch, "_rollout_network", 3 * 2)


def test_laplace_rollouts_draw_laplace_noise(autoregressive, panel):
    noise = autoregressive._path_noise(0, 0, 3, 20_000, 2).double()
    ratio = noise.abs().mean() / noise.std()  # Laplace: 1 / sqrt(2), Normal: sqrt(2 / pi)
    assert abs(float(ratio) - 2**-0.5) < 0.01
    normal = _fit(panel, loss="nll", decoding="autoregressive", n_samples=20)
    draws = normal._path_noise(0, 0, 3, 20_000, 2).double()
    assert abs(float(draws.abs().mean() / draws.std()) - (2 / np.pi) ** 0.5) < 0.01
    # a series' draws are its own: the same wherever its chunk starts
    np.testing.assert_array_equal(autoregressive._path_noise(1, 1, 2, 5, 3)[5:],
                                  autoregressive._path_noise(1, 2, 1, 5, 3))


# -- (e) cdf and ppf are each other's inverse -------------------------------- #
@pytest.mark.parametrize("level", [0.02, 0.3, 0.5, 0.77, 0.99])
def test_the_cdf_of_the_ppf_is_the_level(direct, autoregressive, level):
    for forecaster in (direct, autoregressive):
        proba = forecaster.predict_proba(fh=FH)
        np.testing.assert_allclose(proba.cdf(proba.ppf(level)).to_numpy(), level, atol=1e-9)


def test_the_density_is_the_slope_of_the_cdf(direct):
    proba = direct.predict_proba(fh=FH)
    y = proba.ppf(0.3)
    h = 1e-5 * y.abs()
    slope = (proba.cdf(y + h) - proba.cdf(y - h)) / (2 * h)
    np.testing.assert_allclose(proba.pdf(y).to_numpy(), slope.to_numpy(), rtol=1e-5)


def test_the_distribution_subsets_like_the_forecast_frame(direct):
    proba = direct.predict_proba(fh=FH)
    quantiles = direct.predict_quantiles(fh=FH, alpha=[0.9])
    row = quantiles.index[5]
    np.testing.assert_allclose(proba.loc[[row]].ppf(0.9).to_numpy(),
                               quantiles.loc[[row]].to_numpy(), rtol=1e-12)
    assert float(proba.iat[5, 0].ppf(0.9)) == pytest.approx(quantiles.iloc[5, 0], rel=1e-12)


# -- the numpy distributions alone ------------------------------------------ #
@pytest.mark.parametrize(("family", "scipy_family"), [("normal", st.norm),
                                                      ("laplace", st.laplace)])
def test_one_component_is_the_scipy_distribution(family, scipy_family):
    rng = np.random.default_rng(1)
    mu, scale = rng.normal(size=(4, 2, 1)), rng.uniform(0.1, 2, size=(4, 2, 1))
    exact = scipy_family(mu[..., 0], scale[..., 0])
    d = MixturePredictive(mu, scale, family, False, 1.0, 0.0)
    np.testing.assert_allclose(d.ppf(0.15), exact.ppf(0.15), rtol=1e-14)
    x = mu[..., 0] + 0.4
    np.testing.assert_allclose(d.cdf(x), exact.cdf(x), rtol=1e-14)
    np.testing.assert_allclose(d.pdf(x), exact.pdf(x), rtol=1e-14)
    mean, var = d.moments()
    np.testing.assert_allclose(mean, exact.mean(), atol=1e-14)
    np.testing.assert_allclose(var, exact.var(), rtol=1e-5)


def test_a_mixture_quantile_solves_its_cdf_within_its_components_quantiles():
    rng = np.random.default_rng(2)
    mu, scale = rng.normal(size=(50, 3)), rng.uniform(0.05, 2, size=(50, 3))
    for family in dist.FAMILIES:
        d = MixturePredictive(mu, scale, family, False, 1.0, 0.0)
        for level in (1e-6, 0.1, 0.5, 0.999):
            z = d.model_ppf(level)
            np.testing.assert_allclose(d.model_cdf(z), level, rtol=1e-10)
            own = mu + scale * dist.standard_ppf(np.full(3, level), family)
            assert (z >= own.min(-1) - 1e-12).all() and (z <= own.max(-1) + 1e-12).all()


def test_the_quadrature_truncates_tails_whose_moments_do_not_exist():
    p, w = quadrature_grid()
    assert np.isclose(w.sum(), 1.0) and 0 < p.min() and p.max() < 1
    np.testing.assert_array_equal(np.sort(p), p)
    d = MixturePredictive([[0.0]], [[1.5]], "laplace", True, 1.0, 0.0)  # no mean
    mean, var = d.moments()
    assert np.isfinite(mean).all() and np.isfinite(var).all() and (mean > 1).all()


def test_paths_interpolate_linearly():
    paths = np.array([[0.0, 1.0, 3.0]])
    d = PathPredictive(paths)
    np.testing.assert_allclose(d.ppf(0.75), [2.0])
    for y, expected in [(-1.0, 0.0), (0.5, 0.25), (2.0, 0.75), (3.0, 1.0), (4.0, 1.0)]:
        np.testing.assert_allclose(d.cdf(np.array([y])), [expected])
    np.testing.assert_allclose(d.pdf(np.array([0.5])), [0.5])  # 1 / ((n - 1) * 1)
    mean, var = d.moments()  # uniform on [0, 1] and on [1, 3], each with weight 1/2
    np.testing.assert_allclose(mean, [0.5 * 0.5 + 0.5 * 2.0])
    np.testing.assert_allclose(var, [0.5 * (1 / 3 + 13 / 3) - 1.25**2])
