"""WarpForecaster's ``predict_proba`` distributions, as skpro distributions.

Thin skpro ``BaseDistribution`` wrappers of the numpy distributions in
``skwarp._distribution``, the one source of every probabilistic forecast:

- :class:`WarpPredictive` (``decoding="direct"``): per entry an equal-weight
  mixture of Normal or Laplace distributions in model units, mapped to the
  data's units by ``factor * h(z) + shift``.
- :class:`WarpPathPredictive` (``decoding="autoregressive"``): per entry the
  values of the Monte Carlo paths, linearly interpolated.

Entries are rows (``index``) by columns (``columns``), as in sktime's
``predict_quantiles``; the components or paths are a third, last axis of
the parameter arrays. Indexing (``loc``, ``iloc``, ``iat``) subsets the first
two axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from skpro.distributions.base import BaseDistribution

from skwarp._distribution import MixturePredictive, PathPredictive

__all__ = ["WarpPathPredictive", "WarpPredictive"]


class _EntrywiseDistribution(BaseDistribution):
    """Shared by the two: the shape comes from the main parameter's leading
    axes (``()`` for a scalar distribution, ``(rows, columns)`` otherwise),
    and subsetting takes rows and columns of every parameter of that shape."""

    _MAIN = ""  # the parameter whose last axis holds components or paths
    _ENTRYWISE = ()  # parameters of the entries' shape (or scalars)

    def _init_shape_bc(self, index=None, columns=None):
        full = np.shape(getattr(self, self._MAIN))
        shape = full[:-1]
        if len(shape) not in (0, 2):
            raise ValueError(f"{self._MAIN} must have 1 axis (a scalar distribution) or 3 "
                             f"(rows, columns, last), got shape {full}")
        for name in self._ENTRYWISE:
            if np.ndim(getattr(self, name)) not in (0, len(shape)):
                raise ValueError(f"{name} must be a scalar or of shape {shape}")
        self._shape = shape
        if shape and index is None:
            self.index = pd.RangeIndex(shape[0])
        if shape and columns is None:
            self.columns = pd.RangeIndex(shape[1])

    def _subset_param(self, val, rowidx, colidx, coerce_scalar=False):
        """Rows and columns of a parameter of the entries' shape (and a last
        axis); scalars and strings are kept."""
        if isinstance(val, str) or np.ndim(val) < 2:
            return val
        arr = np.asarray(val)
        if rowidx is not None:
            arr = arr[np.atleast_1d(np.asarray(rowidx))]
        if colidx is not None:
            arr = arr[:, np.atleast_1d(np.asarray(colidx))]
        return arr[0, 0] if coerce_scalar else arr

    def _core(self):
        raise NotImplementedError

    def _moments(self) -> tuple[np.ndarray, np.ndarray]:
        if getattr(self, "_moments_cache", None) is None:
            self._moments_cache = self._core().moments()
        return self._moments_cache

    def _ppf(self, p):
        return self._core().ppf(p)

    def _cdf(self, x):
        return self._core().cdf(x)

    def _pdf(self, x):
        return self._core().pdf(x)

    def _log_pdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self._core().pdf(x))

    def _mean(self):
        return self._moments()[0]

    def _var(self):
        return self._moments()[1]


class WarpPredictive(_EntrywiseDistribution):
    """Mixture of location-scale distributions in model units, in the data's units.

    Entry ``(i, j)`` is the distribution of ``Y = factor * h(Z) + shift``,
    where ``Z`` is the equal-weight mixture over ``k`` of ``family(mu[i, j,
    k], scale[i, j, k])`` and ``h = exp`` where ``logs[i, j]``, else the
    identity (``factor > 0``, so the map is increasing). Rules:

    - ``ppf``: the mixture's quantile (exact for one component; a
      bracketed Newton root of its cdf for several), mapped;
    - ``cdf``, ``pdf``: the mixture's at ``h^-1((y - shift) / factor)``, the
      density over the map's slope;
    - ``mean``, ``var``: by quadrature of the components' quantile
      functions over a fixed probability grid whose outermost tails are
      truncated (see ``skwarp._distribution.quadrature_grid``), so they are
      finite even where the exact moment is not (a log-Laplace of scale 1
      or more).

    Parameters
    ----------
    mu : array-like, shape (rows, columns, k), or (k,) for a scalar distribution
        Component locations (medians, and means) in model units.
    scale : array-like, broadcastable to ``mu``
        Component scales: the standard deviation (Normal) or ``b`` (Laplace).
    family : {"normal", "laplace"}, default="normal"
    logs : bool or array-like of bool, scalar or shape (rows, columns), default=False
        Where the entry is modelled in logs.
    factor : float or array-like, scalar or shape (rows, columns), default=1.0
        Multiplicative seasonal factors, positive.
    shift : float or array-like, scalar or shape (rows, columns), default=0.0
        Additive seasonal terms.
    index : pd.Index, optional, default = RangeIndex
    columns : pd.Index, optional, default = RangeIndex

    Examples
    --------
    >>> from skwarp.distributions import WarpPredictive
    >>> d = WarpPredictive(mu=[[[0.0, 1.0]]], scale=0.5, family="laplace")
    >>> round(float(d.cdf(d.ppf(0.3)).iloc[0, 0]), 6)
    0.3
    """

    _tags = {
        "authors": ["skwarp developers"],
        "capabilities:approx": ["mean", "var", "energy", "pdfnorm"],
        "capabilities:exact": ["pdf", "log_pdf", "cdf", "ppf"],
        "distr:measuretype": "continuous",
        "distr:paramtype": "composite",
        "broadcast_init": "off",
    }
    _MAIN = "mu"
    _ENTRYWISE = ("logs", "factor", "shift")

    def __init__(self, mu, scale, family="normal", logs=False, factor=1.0, shift=0.0,
                 index=None, columns=None):
        self.mu = mu
        self.scale = scale
        self.family = family
        self.logs = logs
        self.factor = factor
        self.shift = shift
        super().__init__(index=index, columns=columns)

    def _core(self) -> MixturePredictive:
        return MixturePredictive(self.mu, self.scale, self.family, self.logs, self.factor,
                                 self.shift)

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Small distributions: a two-component Normal mixture, a scalar
        log-Laplace, and one-component entries with seasonal maps."""
        mixture = {"mu": [[[0.0, 0.5], [1.0, 1.2]], [[2.0, 1.0], [0.0, 0.1]],
                          [[1.0, 1.0], [3.0, 2.0]]], "scale": 1.0}
        scalar = {"mu": [0.5], "scale": [0.2], "family": "laplace", "logs": True,
                  "factor": 1.5, "shift": 0.2}
        seasonal = {"mu": np.zeros((3, 2, 1)), "scale": 0.3, "family": "laplace",
                    "logs": np.array([[True, False]] * 3), "factor": np.full((3, 2), 1.2),
                    "shift": np.full((3, 2), -0.5), "index": pd.Index([1, 2, 5]),
                    "columns": pd.Index(["a", "b"])}
        return [mixture, scalar, seasonal]


class WarpPathPredictive(_EntrywiseDistribution):
    """The distribution of Monte Carlo paths' values, linearly interpolated.

    Entry ``(i, j)`` has the quantile function that interpolates its sorted
    values ``x_0 <= ... <= x_{n-1}`` linearly (numpy's default
    ``np.quantile``): probability ``1 / (n - 1)`` uniform on each ``[x_k,
    x_{k+1}]``. ``cdf``, ``pdf``, ``mean`` and ``var`` are that
    distribution's, exactly.

    Parameters
    ----------
    paths : array-like, shape (rows, columns, n), or (n,) for a scalar distribution
        The values, ``n >= 2`` (sorted here along the last axis if they are not).
    index : pd.Index, optional, default = RangeIndex
    columns : pd.Index, optional, default = RangeIndex

    Examples
    --------
    >>> from skwarp.distributions import WarpPathPredictive
    >>> d = WarpPathPredictive(paths=[[[0.0, 1.0, 3.0]]])
    >>> float(d.ppf(0.75).iloc[0, 0])
    2.0
    """

    _tags = {
        "authors": ["skwarp developers"],
        "capabilities:approx": ["energy", "pdfnorm"],
        "capabilities:exact": ["mean", "var", "pdf", "log_pdf", "cdf", "ppf"],
        "distr:measuretype": "continuous",
        "distr:paramtype": "nonparametric",
        "broadcast_init": "off",
    }
    _MAIN = "paths"

    def __init__(self, paths, index=None, columns=None):
        self.paths = paths
        super().__init__(index=index, columns=columns)

    def _core(self) -> PathPredictive:
        if getattr(self, "_core_cache", None) is None:
            paths = np.asarray(self.paths, dtype=np.float64)
            if not (paths[..., 1:] >= paths[..., :-1]).all():
                paths = np.sort(paths, axis=-1)
            self._core_cache = PathPredictive(paths)
        return self._core_cache

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Small distributions: a 3 x 2 frame of 5 paths, a scalar one."""
        rng = np.random.default_rng(0)
        frame = {"paths": rng.normal(size=(3, 2, 5)), "index": pd.Index([1, 2, 5]),
                 "columns": pd.Index(["a", "b"])}
        return [frame, {"paths": [0.0, 1.0, 3.0, 3.5]}]
