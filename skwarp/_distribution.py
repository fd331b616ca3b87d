"""The forecaster's predictive distributions, as numpy arrays.

Two kinds, each the single source of every probabilistic forecast of
:class:`~skwarp.WarpForecaster` (quantiles, intervals, variances and
``predict_proba``):

- **Direct decoding** (:class:`MixturePredictive`): per element (series,
  step, column) an equal-weight mixture over the ensemble's networks of
  location-scale distributions (Normal or Laplace) in *model units*, taken
  to the data's units by the increasing map ``y = factor * h(z) + shift``
  (``h = exp`` where the column is modelled in logs, else the identity;
  see :meth:`skwarp._target_transform.SeriesTransform.data_map`). Quantiles
  map through it; mean and variance come from the same quantile functions
  by a fixed quadrature (:func:`quadrature_grid`).
- **Autoregressive decoding** (:class:`PathPredictive`): per element the
  Monte Carlo paths' values, the distribution whose quantile function
  interpolates them linearly (numpy's default ``np.quantile``).

Elements are any leading shape ``(...)``; mixture components and paths are
the last axis. Work whose size is elements times grid points or paths runs
in blocks of about :data:`CHUNK_FLOATS` floats.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

__all__ = ["CHUNK_FLOATS", "FAMILIES", "MixturePredictive", "PathPredictive",
           "family_of_loss", "quadrature_grid", "series_per_chunk"]

FAMILIES = ("normal", "laplace")

# floats a block of work may hold at once: quadrature values, paths, and the
# forecaster's chunks of series (read at call time, so tests may lower it)
CHUNK_FLOATS = 1 << 22

QUADRATURE_BINS = 64  # equal bins of probability
TAIL_HALVINGS = 12  # each outermost bin split this many times towards 0 and 1
BIN_NODES = 4  # Gauss-Legendre nodes per bin

_NEWTON_ITERATIONS = 200
_RELATIVE_TOLERANCE = 1e-13


def family_of_loss(loss: str) -> str:
    """The family a training loss fits: "laplace" for ``loss="laplace"``,
    else "normal" ("nll", and "mse" whose scale is not trained)."""
    return "laplace" if loss == "laplace" else "normal"


def series_per_chunk(floats_per_series: int) -> int:
    """How many series a block of :data:`CHUNK_FLOATS` floats holds (at least 1)."""
    return max(1, CHUNK_FLOATS // max(1, int(floats_per_series)))


# -- the standard families -------------------------------------------------- #
def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")


def standard_cdf(z: np.ndarray, family: str) -> np.ndarray:
    """The cdf of the standard family (location 0, scale 1) at ``z``."""
    if family == "normal":
        return ndtr(z)
    tail = 0.5 * np.exp(-np.abs(z))
    return np.where(z < 0, tail, 1.0 - tail)


def standard_pdf(z: np.ndarray, family: str) -> np.ndarray:
    """The density of the standard family at ``z``."""
    if family == "normal":
        return np.exp(-0.5 * np.square(z)) / np.sqrt(2 * np.pi)
    return 0.5 * np.exp(-np.abs(z))


def standard_ppf(p: np.ndarray, family: str) -> np.ndarray:
    """The quantile function of the standard family at ``p`` in [0, 1]
    (``-inf`` at 0, ``inf`` at 1); Laplace: ``-sign(p - 1/2) log(1 - 2|p - 1/2|)``."""
    p = np.asarray(p, dtype=np.float64)
    if family == "normal":
        return ndtri(p)
    with np.errstate(divide="ignore"):
        return -np.sign(p - 0.5) * np.log1p(-2 * np.abs(p - 0.5))


# -- the quadrature grid ---------------------------------------------------- #
def quadrature_grid(n_bins: int = QUADRATURE_BINS, n_halvings: int = TAIL_HALVINGS,
                    n_nodes: int = BIN_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and weights of the quadrature of a quantile function.

    Rules: ``n_bins`` (even) equal bins of (0, 1); the first and the last are
    each split ``n_halvings`` times in halves towards 0 and 1, e.g.
    ``[1/(2K), 1/K]``, ``[1/(4K), 1/(2K)]``, ..., and a last piece
    ``[0, 1/(2^L K)]``; each bin holds the ``n_nodes`` Gauss-Legendre nodes
    and weights of its interval (weights summing to 1), and the grid is
    symmetric about 1/2, so ``E[g(X)] ~ sum_i w_i g(Q(p_i))`` for a quantile
    function ``Q``. No node reaches 0 or 1: the tails beyond the outermost
    nodes (a probability below ``1/(2^L K)`` at each end) are truncated, so a
    moment that does not exist (the mean of a log-Laplace of scale 1 or
    more) is still finite.

    Parameters
    ----------
    n_bins : int
        Equal bins ``K`` (even, at least 2).
    n_halvings : int
        Halvings ``L`` of each outermost bin.
    n_nodes : int
        Gauss-Legendre nodes per bin.

    Returns
    -------
    p : numpy.ndarray, shape (n_nodes * (n_bins + 2 * n_halvings),)
        The nodes, increasing.
    w : numpy.ndarray, same shape
        The weights.
    """
    tail = 0.5 ** np.arange(n_halvings, -1, -1) / n_bins  # 1/(2^L K) .. 1/K
    edges = np.concatenate(([0.0], tail, np.arange(2, n_bins // 2 + 1) / n_bins))
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    middle, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * np.diff(edges)
    lower = (middle[:, None] + half[:, None] * nodes).ravel()
    width = (half[:, None] * weights).ravel()
    return (np.concatenate((lower, 1.0 - lower[::-1])),
            np.concatenate((width, width[::-1])))


def _standard_grid(family: str) -> tuple[np.ndarray, np.ndarray]:
    """The standard family's quantiles at :func:`quadrature_grid`'s nodes
    (exactly symmetric) and the weights."""
    p, w = quadrature_grid()
    half = standard_ppf(p[:len(p) // 2], family)
    return np.concatenate((half, -half[::-1])), w


# -- blocks ------------------------------------------------------------------ #
def _in_blocks(function: Callable, arrays: tuple, shape: tuple,
               floats_per_element: int) -> tuple:
    """``function(*arrays)`` over blocks of elements: every array has the
    element shape ``shape`` first (its trailing axes, if any, are kept), and
    every result is one value per element; the results are put back together."""
    n = int(np.prod(shape, dtype=np.int64))
    flat = [np.reshape(a, (n, *np.shape(a)[len(shape):])) for a in arrays]
    block = series_per_chunk(floats_per_element)
    parts = [function(*(a[i:i + block] for a in flat)) for i in range(0, max(n, 1), block)]
    return tuple(np.concatenate([part[k] for part in parts]).reshape(shape)
                 for k in range(len(parts[0])))


# -- direct decoding: a mixture in model units, mapped to the data's -------- #
@dataclass
class MixturePredictive:
    """Per element, an equal-weight mixture of location-scale distributions in
    model units, and the increasing map to the data's units.

    Parameters
    ----------
    mu : numpy.ndarray, shape (..., n_components)
        Locations (medians; means too) in model units.
    scale : numpy.ndarray, shape (..., n_components)
        Scales: the standard deviation (Normal) or ``b`` (Laplace), positive.
    family : {"normal", "laplace"}
    logs : numpy.ndarray of bool, broadcastable to (...)
        Whether the element's column is modelled in logs (``h = exp``).
    factor : numpy.ndarray, broadcastable to (...)
        The multiplicative seasonal factor (positive; 1 where none).
    shift : numpy.ndarray, broadcastable to (...)
        The additive seasonal term (0 where none).
    """

    mu: np.ndarray
    scale: np.ndarray
    family: str
    logs: np.ndarray
    factor: np.ndarray
    shift: np.ndarray

    def __post_init__(self):
        _check_family(self.family)
        self.mu = np.asarray(self.mu, dtype=np.float64)
        self.scale = np.broadcast_to(np.asarray(self.scale, dtype=np.float64), self.mu.shape)
        shape = self.mu.shape[:-1]
        self.logs = np.broadcast_to(np.asarray(self.logs, dtype=bool), shape)
        self.factor = np.broadcast_to(np.asarray(self.factor, dtype=np.float64), shape)
        self.shift = np.broadcast_to(np.asarray(self.shift, dtype=np.float64), shape)

    @property
    def shape(self) -> tuple:
        """The elements' shape ``(...)``."""
        return self.mu.shape[:-1]

    # the map between units
    def to_data(self, z: np.ndarray) -> np.ndarray:
        """Model units to the data's: ``factor * h(z) + shift`` (z: (...))."""
        return _to_data(z, self.logs, self.factor, self.shift)

    def to_model(self, y: np.ndarray) -> np.ndarray:
        """The data's units to the model's: ``h^-1((y - shift) / factor)``
        (``-inf`` where a log column's ``(y - shift) / factor <= 0``)."""
        u = (np.asarray(y, dtype=np.float64) - self.shift) / self.factor
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.logs, np.log(np.where(u > 0, u, 0.0)), u)

    # model units
    def model_cdf(self, z: np.ndarray) -> np.ndarray:
        """The mixture's cdf at ``z`` (...) in model units."""
        u = (np.asarray(z, dtype=np.float64)[..., None] - self.mu) / self.scale
        return standard_cdf(u, self.family).mean(axis=-1)

    def model_pdf(self, z: np.ndarray) -> np.ndarray:
        """The mixture's density at ``z`` (...) in model units."""
        u = (np.asarray(z, dtype=np.float64)[..., None] - self.mu) / self.scale
        return (standard_pdf(u, self.family) / self.scale).mean(axis=-1)

    def model_ppf(self, p: np.ndarray) -> np.ndarray:
        """The mixture's quantile at ``p`` (broadcastable to (...)) in model
        units: exact for one component; for several, the root of
        ``cdf(z) = p`` by Newton steps kept inside a bisection bracket that
        starts at the components' own smallest and largest quantiles."""
        p = np.broadcast_to(np.asarray(p, dtype=np.float64), self.shape)
        own = self.mu + self.scale * standard_ppf(p[..., None], self.family)
        if self.mu.shape[-1] == 1:
            return own[..., 0]
        return _mixture_root(self, p, own.min(axis=-1), own.max(axis=-1))

    # the data's units
    def ppf(self, p: np.ndarray) -> np.ndarray:
        """The quantile at ``p`` (broadcastable to (...)) in the data's units:
        the model-unit quantile mapped (the map is increasing)."""
        return self.to_data(self.model_ppf(p))

    def cdf(self, y: np.ndarray) -> np.ndarray:
        """The cdf at ``y`` (...) in the data's units."""
        return self.model_cdf(self.to_model(y))

    def pdf(self, y: np.ndarray) -> np.ndarray:
        """The density at ``y`` (...) in the data's units, by the change of
        variables: the model-unit density over ``factor * h'(z)``."""
        z = self.to_model(y)
        slope = self.factor * np.where(self.logs, np.exp(z), 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            density = self.model_pdf(z) / slope
        return np.where(np.isfinite(z), density, 0.0)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance (...) in the data's units by quadrature.

        Each component's expectation is ``sum_i w_i g(Q_j(p_i))`` over
        :func:`quadrature_grid` (``Q_j`` its quantile function, mapped to the
        data's units), the mixture's the mean of its components'; the
        variance is taken about the mixture's mean. The tails beyond the grid
        are truncated (see :func:`quadrature_grid`).
        """
        z, w = _standard_grid(self.family)
        n_components = self.mu.shape[-1]

        def block(mu, scale, logs):
            values = mu[..., None] + scale[..., None] * z  # (n, k, n_nodes)
            with np.errstate(over="ignore"):
                values = np.where(logs[:, None, None], np.exp(values), values)
            mean = (values @ w).mean(axis=-1)
            var = (np.square(values - mean[:, None, None]) @ w).mean(axis=-1)
            return mean, var

        mean_h, var_h = _in_blocks(block, (self.mu, self.scale, self.logs), self.shape,
                                   n_components * len(z))
        return self.factor * mean_h + self.shift, np.square(self.factor) * var_h


def _to_data(z: np.ndarray, logs: np.ndarray, factor: np.ndarray,
             shift: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = np.where(logs, np.exp(z), z)
    return factor * h + shift


def _mixture_root(mixture: MixturePredictive, p: np.ndarray, low: np.ndarray,
                  high: np.ndarray) -> np.ndarray:
    """``z`` in ``[low, high]`` with ``mixture.model_cdf(z) = p``, every element
    at once: a Newton step where it stays strictly inside the bracket, else
    the bracket's midpoint; the bracket shrinks to the side the cdf says."""
    extreme = (p <= 0) | (p >= 1)
    z = np.where(extreme, 0.0, 0.5 * (low + high))
    low, high = np.where(extreme, 0.0, low), np.where(extreme, 0.0, high)
    tolerance = _RELATIVE_TOLERANCE * (np.abs(z) + mixture.scale.min(axis=-1))
    for _ in range(_NEWTON_ITERATIONS):
        excess = mixture.model_cdf(z) - p
        low = np.where(excess < 0, z, low)
        high = np.where(excess > 0, z, high)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = z - excess / mixture.model_pdf(z)
        inside = (newton > low) & (newton < high)
        step = np.where(excess == 0, z, np.where(inside, newton, 0.5 * (low + high)))
        done = np.abs(step - z) <= tolerance
        z = step
        if done.all():
            break
    return np.where(extreme, np.where(p <= 0, -np.inf, np.inf), z)


# -- autoregressive decoding: Monte Carlo paths ----------------------------- #
@dataclass
class PathPredictive:
    """Per element, the distribution of its Monte Carlo paths' values.

    The quantile function interpolates the sorted values ``x_0 <= ... <=
    x_{n-1}`` linearly, ``Q(p) = x_k + (h - k)(x_{k+1} - x_k)`` with ``h = (n -
    1) p`` and ``k = floor(h)`` (numpy's default ``np.quantile``): the
    distribution puts probability ``1 / (n - 1)`` uniformly on each
    ``[x_k, x_{k+1}]``, and its cdf, density, mean and variance are that
    distribution's, exactly.

    Parameters
    ----------
    paths : numpy.ndarray, shape (..., n_paths)
        The values, ``n_paths >= 2``, sorted along the last axis.
    """

    paths: np.ndarray

    def __post_init__(self):
        self.paths = np.asarray(self.paths, dtype=np.float64)
        if self.paths.shape[-1] < 2:
            raise ValueError("a path distribution needs at least 2 paths per element")

    @property
    def shape(self) -> tuple:
        """The elements' shape ``(...)``."""
        return self.paths.shape[:-1]

    def ppf(self, p: np.ndarray) -> np.ndarray:
        """The quantile at ``p`` (broadcastable to (...))."""
        n = self.paths.shape[-1]
        h = (n - 1) * np.clip(np.broadcast_to(np.asarray(p, dtype=np.float64), self.shape),
                              0.0, 1.0)
        k = np.minimum(np.floor(h).astype(np.int64), n - 2)
        lower = np.take_along_axis(self.paths, k[..., None], axis=-1)[..., 0]
        upper = np.take_along_axis(self.paths, k[..., None] + 1, axis=-1)[..., 0]
        return lower + (h - k) * (upper - lower)

    def _segment(self, y: np.ndarray):
        """For each element: how many values are ``<= y``, and the segment
        ``[x_k, x_{k+1}]`` holding ``y`` (clipped to the first and last)."""
        y = np.broadcast_to(np.asarray(y, dtype=np.float64), self.shape)

        def block(paths, y):
            count = (paths <= y[:, None]).sum(axis=-1)
            k = np.clip(count - 1, 0, paths.shape[-1] - 2)
            lower = np.take_along_axis(paths, k[:, None], axis=-1)[:, 0]
            upper = np.take_along_axis(paths, k[:, None] + 1, axis=-1)[:, 0]
            return count, k, lower, upper

        return _in_blocks(block, (self.paths, y), self.shape, self.paths.shape[-1])

    def cdf(self, y: np.ndarray) -> np.ndarray:
        """The cdf at ``y`` (...): 0 below the smallest value, 1 from the
        largest on, linear on each segment between."""
        n = self.paths.shape[-1]
        count, k, lower, upper = self._segment(y)
        y = np.broadcast_to(np.asarray(y, dtype=np.float64), self.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside = (k + (y - lower) / (upper - lower)) / (n - 1)
        return np.where(count == 0, 0.0, np.where(count >= n, 1.0, inside))

    def pdf(self, y: np.ndarray) -> np.ndarray:
        """The density at ``y`` (...): ``1 / ((n - 1)(x_{k+1} - x_k))`` on the
        segment holding ``y``, 0 outside the values' range."""
        n = self.paths.shape[-1]
        count, _, lower, upper = self._segment(y)
        with np.errstate(divide="ignore"):
            density = 1.0 / ((n - 1) * (upper - lower))
        return np.where((count == 0) | (count >= n), 0.0, density)

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance (...) of the distribution: each segment uniform
        with probability ``1 / (n - 1)``."""
        def block(paths):
            lower, upper = paths[:, :-1], paths[:, 1:]
            mean = 0.5 * (lower + upper).mean(axis=-1)
            a, b = lower - mean[:, None], upper - mean[:, None]
            return mean, ((a * a + a * b + b * b) / 3).mean(axis=-1)

        return _in_blocks(block, (self.paths,), self.shape, self.paths.shape[-1])
