"""Plots of WARP weight trajectories (matplotlib, the optional ``plot`` extra).

matplotlib is imported only when a plot is drawn, so ``import skwarp`` never
needs it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COLOR_BY_TIME", "plot_weight_trajectories", "project_trajectories"]

COLOR_BY_TIME = "time"


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'skwarp[plot]'") from error
    return plt


def project_trajectories(trajectories: np.ndarray, n_components: int = 2
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Principal-component projection of every state of every trajectory.

    Parameters
    ----------
    trajectories : array-like of shape (n_series, n_timepoints, n_params)
    n_components : int

    Returns
    -------
    projected : ndarray of shape (n_series, n_timepoints, n_components)
        Coordinates on the principal axes of all states together (zeros past
        ``n_params`` when there are fewer parameters than components).
    explained : ndarray of shape (n_components,)
        Fraction of the states' variance each axis explains.
    """
    states = np.asarray(trajectories, dtype=np.float64)
    if states.ndim != 3 or min(states.shape) == 0:
        raise ValueError("trajectories must have shape (n_series, n_timepoints, n_params) "
                         f"with every size >= 1, got {states.shape}")
    if not np.isfinite(states).all():
        raise ValueError("trajectories hold NaN or infinite values")
    from sklearn.decomposition import PCA

    flat = states.reshape(-1, states.shape[2])
    k = min(n_components, *flat.shape)
    projected = np.zeros((flat.shape[0], n_components))
    explained = np.zeros(n_components)
    if np.ptp(flat, axis=0).max() > 0:  # PCA's variance ratios divide by the total
        pca = PCA(n_components=k, svd_solver="full").fit(flat)
        projected[:, :k] = pca.transform(flat)
        explained[:k] = pca.explained_variance_ratio_
    return projected.reshape(*states.shape[:2], n_components), explained


def plot_weight_trajectories(trajectories: np.ndarray, color_by=COLOR_BY_TIME, ax=None,
                             cmap: str | None = None):
    """Draw weight trajectories ``theta_0 .. theta_{T-1}`` in their first two
    principal components.

    Parameters
    ----------
    trajectories : array-like of shape (n_series, n_timepoints, n_params)
        From ``weight_trajectory`` of a fitted :class:`skwarp.WarpClassifier`
        or :class:`skwarp.WarpForecaster`.
    color_by : "time" or array-like of shape (n_series,), default="time"
        Colour each state by its time step (with a colour bar), or each
        trajectory by its label (e.g. the class, with a legend).
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    cmap : str, optional
        Colour map; "viridis" for time, "tab10" for labels by default.

    Returns
    -------
    ax : matplotlib Axes
        A dot marks each trajectory's start, a cross its end.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skwarp.plotting import plot_weight_trajectories
    >>> trajectories = np.random.default_rng(0).normal(size=(4, 10, 6)).cumsum(axis=1)
    >>> ax = plot_weight_trajectories(trajectories, color_by=["a", "a", "b", "b"])
    >>> ax.get_xlabel()[:3]
    'PC1'
    """
    projected, explained = project_trajectories(trajectories)
    n_series, n_timepoints, _ = projected.shape
    by_time = isinstance(color_by, str) and color_by == COLOR_BY_TIME
    if not by_time:
        labels = np.asarray(color_by)
        if labels.ndim != 1 or len(labels) != n_series:
            raise ValueError(f'color_by must be "time" or one label per series '
                             f"({n_series}), got {labels.shape if labels.ndim else color_by!r}")
    plt = _import_pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    if by_time:
        _draw_by_time(ax, projected, cmap or "viridis")
    else:
        _draw_by_label(ax, projected, labels, plt.get_cmap(cmap or "tab10"))
    ax.scatter(projected[:, 0, 0], projected[:, 0, 1], c="k", s=12, marker="o", zorder=3)
    ax.scatter(projected[:, -1, 0], projected[:, -1, 1], c="k", s=20, marker="x", zorder=3)
    ax.set_xlabel(f"PC1 ({100 * explained[0]:.0f}% of variance)")
    ax.set_ylabel(f"PC2 ({100 * explained[1]:.0f}% of variance)")
    ax.set_title(f"Weight trajectories ({n_series} series, {n_timepoints} steps)")
    return ax


def _draw_by_time(ax, projected: np.ndarray, cmap: str) -> None:
    for path in projected:
        ax.plot(path[:, 0], path[:, 1], color="0.8", linewidth=0.6, zorder=1)
    steps = np.broadcast_to(np.arange(projected.shape[1]), projected.shape[:2])
    points = ax.scatter(projected[..., 0].ravel(), projected[..., 1].ravel(),
                        c=steps.ravel(), cmap=cmap, s=4, zorder=2)
    ax.figure.colorbar(points, ax=ax, label="time step")


def _draw_by_label(ax, projected: np.ndarray, labels: np.ndarray, cmap) -> None:
    classes = list(dict.fromkeys(labels.tolist()))
    for index, label in enumerate(classes):
        colour = cmap(index % cmap.N)
        for n, path in enumerate(projected[labels == label]):
            ax.plot(path[:, 0], path[:, 1], color=colour, linewidth=0.8, alpha=0.8,
                    label=str(label) if n == 0 else None)
    ax.legend(title="label")
