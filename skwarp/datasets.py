"""Seeded generators of synthetic series (numpy; sktime data containers).

``make_mass_spring_damper`` follows the MSD task of the WARP paper's
dynamical-system reconstruction experiments (and MSD-Zero with
``random_initial_state=True``);
``make_lotka_volterra`` and ``make_sine`` are the other dynamical-system
reconstruction tasks; ``make_linear_regression_tasks`` builds in-context
learning sequences for the core :class:`skwarp.core.WarpNetwork`.

Forecasting data come as ``pd-multiindex`` panels (series, time), the form
:class:`skwarp.WarpForecaster` takes; every generator takes ``random_state``
and never touches numpy's global RNG.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from skwarp._validation import check_int, check_real

__all__ = ["LV_TEST_RANGES", "LV_TRAIN_RANGES", "MSD_TEST_RANGES", "MSD_TRAIN_RANGES",
           "SINE_TEST_PHASES", "SINE_TRAIN_PHASES", "TS_RETURN_TYPES", "UEA_LONG_DATASETS",
           "load_ts", "make_event_order", "make_few_shot_cycles", "make_linear_regression_tasks",
           "make_long_range_events",
           "make_lotka_volterra", "make_mass_spring_damper", "make_periodic_waveforms",
           "make_sine"]

MSD_TRAIN_RANGES = {"m": (0.02, 0.04), "k": (4.0, 16.0), "c": (0.01, 0.2)}
MSD_TEST_RANGES = {"m": (0.01, 0.05), "k": (2.0, 18.0), "c": (0.01, 0.3)}
# Lotka-Volterra u' = alpha u - beta u v, v' = delta u v - gamma v; the test
# ranges reach past the training ones (out of distribution)
LV_TRAIN_RANGES = {"alpha": (0.8, 1.2), "beta": (0.8, 1.2), "gamma": (0.8, 1.2),
                   "delta": (0.8, 1.2)}
LV_TEST_RANGES = {"alpha": (0.6, 1.4), "beta": (0.6, 1.4), "gamma": (0.6, 1.4),
                  "delta": (0.6, 1.4)}
# sine with random phase: the test phases cover the whole circle, training half of it
SINE_TRAIN_PHASES = (0.0, np.pi)
SINE_TEST_PHASES = (0.0, 2 * np.pi)


def _check_sizes(n_series, n_timepoints) -> None:
    check_int("n_series", n_series, minimum=1)
    check_int("n_timepoints", n_timepoints, minimum=2)


def _panel(values: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """(n_series, n_timepoints, d) array as a ``pd-multiindex`` panel."""
    n_series, n_timepoints, _ = values.shape
    index = pd.MultiIndex.from_product([range(n_series), range(n_timepoints)],
                                       names=["series", "time"])
    return pd.DataFrame(values.reshape(n_series * n_timepoints, -1), index=index,
                        columns=columns)


def _check_ranges(ranges: dict, names=("m", "k", "c")) -> None:
    if not isinstance(ranges, dict):
        raise ValueError(f"ranges must be a dict of (low, high) pairs, got "
                         f"{type(ranges).__name__}")
    for name in names:
        if name not in ranges:
            raise ValueError(f"ranges needs an entry for {name!r}")
        try:
            low, high = (float(v) for v in ranges[name])
        except (TypeError, ValueError):
            raise ValueError(f"range of {name!r} must be a (low, high) pair of numbers, "
                             f"got {ranges[name]!r}") from None
        if not (np.isfinite(low) and np.isfinite(high) and 0 < low <= high):
            raise ValueError(f"range of {name!r} must satisfy 0 < low <= high, "
                             f"got ({low}, {high})")


def make_mass_spring_damper(n_series: int = 200, n_timepoints: int = 256,
                            ranges: dict | None = None, random_initial_state: bool = False,
                            random_state: int | None = None, substeps: int = 20
                            ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trajectories of ``m x'' = -k x - c x'`` on ``t in [0, 1]``.

    Parameters
    ----------
    n_series, n_timepoints : int
    ranges : dict of (low, high), optional
        Uniform ranges of ``m``, ``k`` and ``c``; default the paper's training
        ranges (``MSD_TEST_RANGES`` holds its out-of-distribution test ranges).
    random_initial_state : bool
        ``(x0, v0) = (1, 0) + U(-0.5, 0.5)^2`` (MSD-Zero) instead of ``(1, 0)``.
    random_state : int or None
    substeps : int
        Semi-implicit Euler substeps per sample.

    Returns
    -------
    y : pd.DataFrame
        ``pd-multiindex`` panel (series, time) with columns position, velocity.
    params : pd.DataFrame
        m, k, c of each series.
    """
    ranges = MSD_TRAIN_RANGES if ranges is None else ranges
    _check_ranges(ranges)
    _check_sizes(n_series, n_timepoints)
    check_int("substeps", substeps, minimum=1)
    rng = np.random.default_rng(random_state)
    m, k, c = (rng.uniform(*ranges[name], n_series) for name in ("m", "k", "c"))
    x = np.ones(n_series)
    v = np.zeros(n_series)
    if random_initial_state:
        x = x + rng.uniform(-0.5, 0.5, n_series)
        v = v + rng.uniform(-0.5, 0.5, n_series)
    dt = 1.0 / (n_timepoints - 1) / substeps
    trajectory = np.empty((n_timepoints, n_series, 2))
    for t in range(n_timepoints):
        trajectory[t] = np.stack((x, v), axis=1)
        for _ in range(substeps):
            v = v + dt * (-k * x - c * v) / m
            x = x + dt * v
    y = _panel(trajectory.transpose(1, 0, 2), ["position", "velocity"])
    return y, pd.DataFrame({"m": m, "k": k, "c": c})


def _lv_rate(state: np.ndarray, a, b, g, d) -> np.ndarray:
    u, v = state[:, 0], state[:, 1]
    return np.stack((a * u - b * u * v, d * u * v - g * v), axis=1)


def make_lotka_volterra(n_series: int = 200, n_timepoints: int = 256,
                        ranges: dict | None = None, t_max: float = 25.0,
                        initial_range: tuple[float, float] = (0.5, 2.0),
                        random_state: int | None = None, substeps: int = 10
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predator-prey cycles ``u' = alpha u - beta u v``, ``v' = delta u v - gamma v``.

    The "repeat-copy" task: on the default ``t in [0, 25]`` a cycle lasts 6 to
    8 time units, so the first 100 of 256 steps (9.8 time units) hold a whole
    period and the rest repeats it; a model must copy the cycle it saw in its
    context.

    Parameters
    ----------
    n_series, n_timepoints : int
    ranges : dict of (low, high), optional
        Uniform ranges of ``alpha``, ``beta``, ``gamma``, ``delta``; default
        ``LV_TRAIN_RANGES`` (``LV_TEST_RANGES`` reaches past them).
    t_max : float
        End of the time span ``[0, t_max]``.
    initial_range : (low, high)
        Uniform range of both initial populations (positive).
    random_state : int or None
    substeps : int
        Fourth-order Runge-Kutta substeps per sample.

    Returns
    -------
    y : pd.DataFrame
        ``pd-multiindex`` panel (series, time) with columns prey, predator.
    params : pd.DataFrame
        alpha, beta, gamma, delta of each series.

    Examples
    --------
    >>> from skwarp.datasets import make_lotka_volterra
    >>> y, params = make_lotka_volterra(n_series=3, n_timepoints=50, random_state=0)
    >>> y.shape, list(params.columns)
    ((150, 2), ['alpha', 'beta', 'gamma', 'delta'])
    """
    names = ("alpha", "beta", "gamma", "delta")
    ranges = LV_TRAIN_RANGES if ranges is None else ranges
    _check_ranges(ranges, names)
    _check_sizes(n_series, n_timepoints)
    check_real("t_max", t_max, strict=True)
    check_int("substeps", substeps, minimum=1)
    _check_ranges({"initial_range": initial_range}, ("initial_range",))
    rng = np.random.default_rng(random_state)
    rates = [rng.uniform(*ranges[name], n_series) for name in names]
    state = rng.uniform(*initial_range, (n_series, 2))
    dt = t_max / (n_timepoints - 1) / substeps
    trajectory = np.empty((n_series, n_timepoints, 2))
    for t in range(n_timepoints):
        trajectory[:, t] = state
        for _ in range(substeps):
            k1 = _lv_rate(state, *rates)
            k2 = _lv_rate(state + 0.5 * dt * k1, *rates)
            k3 = _lv_rate(state + 0.5 * dt * k2, *rates)
            k4 = _lv_rate(state + dt * k3, *rates)
            state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    params = pd.DataFrame(dict(zip(names, rates, strict=True)))
    return _panel(trajectory, ["prey", "predator"]), params


def make_sine(n_series: int = 200, n_timepoints: int = 256,
              phase_range: tuple[float, float] = SINE_TRAIN_PHASES,
              frequency: float = 1.0, random_state: int | None = None
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``sin(2 pi frequency t + phase)`` on ``t in [0, 1]`` with a random phase.

    Parameters
    ----------
    n_series, n_timepoints : int
    phase_range : (low, high)
        Uniform range of the phase, radians; default ``SINE_TRAIN_PHASES``
        (half the circle; ``SINE_TEST_PHASES`` covers all of it).
    frequency : float
        Cycles over ``[0, 1]``.
    random_state : int or None

    Returns
    -------
    y : pd.DataFrame
        ``pd-multiindex`` panel (series, time) with one column, value.
    params : pd.DataFrame
        The phase of each series.

    Examples
    --------
    >>> from skwarp.datasets import make_sine
    >>> y, params = make_sine(n_series=2, n_timepoints=5, random_state=0)
    >>> y.shape
    (10, 1)
    """
    _check_sizes(n_series, n_timepoints)
    low, high = _real_pair("phase_range", phase_range)
    check_real("frequency", frequency, strict=True)
    rng = np.random.default_rng(random_state)
    phase = rng.uniform(low, high, n_series)
    t = np.linspace(0.0, 1.0, n_timepoints)
    values = np.sin(2 * np.pi * frequency * t[None, :] + phase[:, None])
    return _panel(values[..., None], ["value"]), pd.DataFrame({"phase": phase})


def _real_pair(name: str, pair) -> tuple[float, float]:
    """A finite ``(low, high)`` with ``low <= high`` (any sign)."""
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a (low, high) pair of numbers, got {pair!r}") \
            from None
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise ValueError(f"{name} must satisfy low <= high (finite), got ({low}, {high})")
    return low, high


def make_linear_regression_tasks(n_tasks: int = 1000, n_pairs: int = 20,
                                 n_features: int = 1, noise: float = 0.0,
                                 random_state: int | None = None
                                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In-context linear regression: one random task ``y = w . x + noise`` per sequence.

    Step ``t`` of a sequence shows the query ``x_t`` beside the previous answer
    ``y_{t-1}`` (0 at ``t = 0``), so a model reading the sequence has seen the
    ``t`` pairs ``(x_0, y_0) .. (x_{t-1}, y_{t-1})`` when it must answer
    ``x_t``: one sequence scores every context size ``0 .. n_pairs - 1``.
    ``w`` and ``x`` are standard normal.

    Parameters
    ----------
    n_tasks : int
        Sequences (one weight vector ``w`` each).
    n_pairs : int
        Steps (queries) per sequence.
    n_features : int
        Size of ``x``.
    noise : float
        Std of Gaussian noise on ``y``.
    random_state : int or None

    Returns
    -------
    X : ndarray of shape (n_tasks, n_pairs, n_features + 1)
        ``[x_t, y_{t-1}]`` at step ``t``: the (N, T, d) layout of
        :class:`skwarp.core.WarpNetwork`.
    y : ndarray of shape (n_tasks, n_pairs)
        The answers ``y_t``.
    w : ndarray of shape (n_tasks, n_features)
        The task weights.

    Examples
    --------
    >>> from skwarp.datasets import make_linear_regression_tasks
    >>> X, y, w = make_linear_regression_tasks(n_tasks=4, n_pairs=6, random_state=0)
    >>> X.shape, y.shape, w.shape
    ((4, 6, 2), (4, 6), (4, 1))
    """
    check_int("n_tasks", n_tasks, minimum=1)
    check_int("n_pairs", n_pairs, minimum=1)
    check_int("n_features", n_features, minimum=1)
    check_real("noise", noise)
    rng = np.random.default_rng(random_state)
    w = rng.standard_normal((n_tasks, n_features))
    x = rng.standard_normal((n_tasks, n_pairs, n_features))
    y = np.einsum("ntd,nd->nt", x, w) + noise * rng.standard_normal((n_tasks, n_pairs))
    previous = np.concatenate((np.zeros((n_tasks, 1)), y[:, :-1]), axis=1)
    return np.concatenate((x, previous[..., None]), axis=2), y, w


# --------------------------------------------------------------------------- #
# Local UEA / UCR archive files (.ts)
# --------------------------------------------------------------------------- #
UEA_LONG_DATASETS = ("EigenWorms", "SelfRegulationSCP1", "SelfRegulationSCP2",
                     "EthanolConcentration", "Heartbeat", "MotorImagery")
TS_RETURN_TYPES = ("auto", "numpy3D", "df-list")


def load_ts(path_or_name: str | os.PathLike, split: str | None = None,
            extract_path: str | os.PathLike | None = None, return_type: str = "auto"
            ) -> tuple[np.ndarray | list[pd.DataFrame], np.ndarray]:
    """Load a classification problem from local UEA / UCR ``.ts`` files.

    For users who have the archive (or any ``.ts`` file) on disk, such as the
    six long UEA datasets of the WARP paper (``UEA_LONG_DATASETS``). Nothing is
    downloaded; sktime's ``load_UCR_UEA_dataset`` does that.

    Parameters
    ----------
    path_or_name : str or path
        One of: a ``.ts`` file; a folder ``<dir>/<Name>`` holding
        ``<Name>_TRAIN.ts`` and ``<Name>_TEST.ts``; or a dataset name, looked
        up as ``<extract_path>/<Name>/<Name>_<SPLIT>.ts`` or
        ``<extract_path>/<Name>_<SPLIT>.ts`` (the archive's layout), or among
        the datasets shipped with sktime when ``extract_path`` is None.
    split : {"train", "test"} or None, default=None
        Which file of a dataset; None concatenates train then test (as
        sktime's loaders do). Must be None when a single file is given.
    extract_path : str or path, optional
        Root folder of the local archive.
    return_type : {"auto", "numpy3D", "df-list"}, default="auto"
        ``"auto"``: a 3D array ``(n_series, n_channels, n_timepoints)`` when
        all series have the same length, else a list of DataFrames of shape
        ``(n_timepoints_i, n_channels)``. Both are what ``WarpClassifier``
        takes.

    Returns
    -------
    X : np.ndarray or list of pd.DataFrame
    y : np.ndarray of str
        Class labels.

    Raises
    ------
    FileNotFoundError
        Names every path that was tried.
    ValueError
        For a bad ``split`` or ``return_type``, a file that is not a valid
        labelled ``.ts`` file, or ``return_type="numpy3D"`` with unequal lengths.

    Examples
    --------
    >>> from skwarp.datasets import load_ts
    >>> X, y = load_ts("ArrowHead", split="train")  # shipped with sktime
    >>> X.shape, y[:3]
    ((36, 1, 251), array(['0', '1', '2'], dtype='<U1'))
    """
    if split is not None and (not isinstance(split, str)
                              or split.lower() not in ("train", "test")):
        raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
    if return_type not in TS_RETURN_TYPES:
        raise ValueError(f"return_type must be one of {TS_RETURN_TYPES}, got {return_type!r}")
    series, labels = [], []
    for file in _ts_files(path_or_name, split, extract_path):
        file_series, file_labels = _read_ts(file)
        series.extend(file_series)
        labels.append(file_labels)
    return _ts_panel(series, return_type), np.concatenate(labels)


def _ts_files(path_or_name, split: str | None, extract_path) -> list[Path]:
    """The ``.ts`` files to read, in order; FileNotFoundError names the tries."""
    path = Path(path_or_name).expanduser()
    if path.is_file() or path.suffix.lower() == ".ts":
        if split is not None:
            raise ValueError("split must be None when path_or_name is a single .ts file")
        if not path.is_file():
            raise FileNotFoundError(f"no .ts file at {path}")
        return [path]
    splits = ["train", "test"] if split is None else [split.lower()]
    if path.is_dir():
        folders = [path]
    else:
        root = Path(extract_path).expanduser() if extract_path is not None else _sktime_data_dir()
        folders = [root / path.name, root]
    files = []
    for part in splits:
        candidates = [folder / f"{path.name}_{part.upper()}.ts" for folder in folders]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            tried = ", ".join(str(c) for c in candidates)
            hint = "" if extract_path is not None or path.is_dir() else (
                "; pass extract_path= (the archive's root folder) or a path")
            raise FileNotFoundError(f"{part} file of {path.name!r} not found (tried {tried})"
                                    f"{hint}")
        files.append(found)
    return files


def _sktime_data_dir() -> Path:
    import sktime.datasets

    return Path(sktime.datasets.__file__).parent / "data"


def _read_ts(file: Path) -> tuple[list[pd.DataFrame], np.ndarray]:
    from sktime.datasets import load_from_tsfile

    try:
        X, y = load_from_tsfile(str(file), return_data_type="df-list")
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{file} is not a valid labelled .ts file: {error}") from None
    return X, np.asarray(y)


def _ts_panel(series: list[pd.DataFrame], return_type: str):
    lengths = {len(s) for s in series}
    if return_type == "df-list" or (return_type == "auto" and len(lengths) > 1):
        return series
    if len(lengths) > 1:
        raise ValueError(f"return_type='numpy3D' needs equal-length series, got lengths "
                         f"from {min(lengths)} to {max(lengths)}; use 'df-list' or 'auto'")
    return np.stack([s.to_numpy(dtype=np.float64).T for s in series])


# --------------------------------------------------------------------------- #
# Long-range synthetic classification
# --------------------------------------------------------------------------- #
def make_long_range_events(n_series: int = 200, n_timepoints: int = 16_384,
                           n_channels: int = 6, n_classes: int = 2, event_length: int = 64,
                           event_window: float = 0.05, amplitude: float = 3.0,
                           random_state: int | None = None
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Long series whose class is set by one short event near their start.

    Every channel is white Gaussian noise (unit variance). Once per series, at
    a random step in the first ``event_window`` fraction of the series, a
    half-sine bump of ``event_length`` steps and height ``amplitude`` is added
    to one channel: class ``k`` puts it on channel ``k // 2``, upwards for even
    ``k`` and downwards for odd ``k``. The bump returns to zero, so the series'
    end carries no trace of it: a model must remember the event over almost the
    whole sequence (or search for it everywhere).

    Parameters
    ----------
    n_series : int, default=200
    n_timepoints : int, default=16384
    n_channels : int, default=6
    n_classes : int, default=2
        At most ``2 * n_channels``. Classes are balanced (up to one series).
    event_length : int, default=64
    event_window : float, default=0.05
        The event starts in the first ``event_window * n_timepoints`` steps.
    amplitude : float, default=3.0
        Peak of the bump, in units of the noise's standard deviation.
    random_state : int or None

    Returns
    -------
    X : np.ndarray of shape (n_series, n_channels, n_timepoints), float32
    y : np.ndarray of shape (n_series,), int
        Classes, shuffled.

    Examples
    --------
    >>> from skwarp.datasets import make_long_range_events
    >>> X, y = make_long_range_events(n_series=4, n_timepoints=512, random_state=0)
    >>> X.shape, sorted(y.tolist())
    ((4, 6, 512), [0, 0, 1, 1])
    """
    if n_series < 1 or n_channels < 1 or event_length < 1:
        raise ValueError("n_series, n_channels and event_length must be >= 1")
    if not 2 <= n_classes <= 2 * n_channels:
        raise ValueError(f"n_classes must be between 2 and 2 * n_channels = "
                         f"{2 * n_channels}, got {n_classes}")
    last_start = int(event_window * n_timepoints)
    if not 0 < event_window <= 1 or last_start + event_length > n_timepoints:
        raise ValueError(f"event_window={event_window} and event_length={event_length} "
                         f"do not fit into n_timepoints={n_timepoints}")
    rng = np.random.default_rng(random_state)
    y = rng.permutation(np.arange(n_series) % n_classes)
    X = rng.standard_normal((n_series, n_channels, n_timepoints), dtype=np.float32)
    bump = amplitude * np.sin(np.pi * (np.arange(event_length) + 0.5) / event_length)
    starts = rng.integers(0, max(last_start, 1), n_series)
    for i, (label, start) in enumerate(zip(y, starts, strict=True)):
        sign = 1.0 if label % 2 == 0 else -1.0
        X[i, label // 2, start:start + event_length] += sign * bump.astype(np.float32)
    return X, y


def make_periodic_waveforms(n_series: int = 537, n_classes: int = 11,
                            lengths: tuple[int, int] = (100, 1344), period: float = 50.0,
                            amplitude_range: float = 1000.0, amplitude_spread: float = 1.0,
                            templates_seed: int = 1234, random_state: int | None = None
                            ) -> tuple[list[pd.DataFrame], np.ndarray]:
    """Periodic waveforms of unequal length whose shape and amplitude depend on
    the class: a panel with the traits of appliance current signatures.

    Class ``k`` has a template: the amplitudes and phases of the first six odd
    harmonics of a fixed ``period``, an amplitude drawn log-uniformly from
    ``[1, amplitude_range]`` and a decaying start-up surge. A series of class
    ``k`` has a length drawn uniformly from ``lengths``, a random phase, each
    harmonic's amplitude and phase jittered, its class amplitude times a
    log-normal factor (``amplitude_spread`` its log standard deviation), and
    white noise at 5% of its amplitude. Templates come from
    ``templates_seed``, so panels drawn with different ``random_state`` (a
    train and a test set) share their classes.

    Parameters
    ----------
    n_series : int, default=537
    n_classes : int, default=11
    lengths : (int, int), default=(100, 1344)
        Shortest and longest length (inclusive).
    period : float, default=50.0
    amplitude_range : float, default=1000.0
    amplitude_spread : float, default=1.0
    templates_seed : int, default=1234
    random_state : int or None

    Returns
    -------
    X : list of pd.DataFrame
        One single-column frame per series (sktime's ``df-list``).
    y : np.ndarray of shape (n_series,)
        Class labels ``"c0"``, ``"c1"``, ...

    Examples
    --------
    >>> from skwarp.datasets import make_periodic_waveforms
    >>> X, y = make_periodic_waveforms(n_series=3, random_state=0)
    >>> len(X), X[0].shape[1], 100 <= len(X[0]) <= 1344
    (3, 1, True)
    """
    if n_series < 1 or n_classes < 2:
        raise ValueError("n_series must be >= 1 and n_classes >= 2")
    if not 1 <= lengths[0] <= lengths[1]:
        raise ValueError(f"lengths must be (shortest, longest) with 1 <= shortest <= "
                         f"longest, got {lengths}")
    if amplitude_range < 1 or amplitude_spread < 0 or period <= 0:
        raise ValueError("amplitude_range must be >= 1, amplitude_spread >= 0, period > 0")
    templates = np.random.default_rng(templates_seed)
    harmonics = templates.uniform(0, 1, (n_classes, 6)) * np.array([1, .6, .5, .4, .3, .2])
    harmonics[:, 0] = 1.0
    phases = templates.uniform(0, 2 * np.pi, (n_classes, 6))
    class_amplitude = np.exp(templates.uniform(0, np.log(amplitude_range), n_classes))
    surge = templates.uniform(0, 3, n_classes)
    rng = np.random.default_rng(random_state)
    y = rng.integers(0, n_classes, n_series)
    orders = 2 * np.arange(6) + 1
    X = []
    for label in y:
        length = int(rng.integers(lengths[0], lengths[1] + 1))
        angle = 2 * np.pi * (np.arange(length) + rng.uniform(0, period)) / period
        weights = harmonics[label] * (1 + 0.25 * rng.standard_normal(6))
        shifts = phases[label] + 0.3 * rng.standard_normal(6)
        wave = (weights[:, None] * np.sin(orders[:, None] * angle + shifts[:, None])).sum(0)
        envelope = 1 + surge[label] * np.exp(-np.arange(length) / rng.uniform(50, 300))
        scale = class_amplitude[label] * np.exp(amplitude_spread * rng.standard_normal())
        values = scale * (envelope * wave + 0.05 * rng.standard_normal(length))
        X.append(pd.DataFrame({"dim_0": values}))
    return X, np.array([f"c{label}" for label in y])


def make_few_shot_cycles(n_per_class: int = 2, n_classes: int = 52,
                         n_timepoints: int = 2000, noise: float = 0.2,
                         classes_seed: int = 52, random_state: int | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Many classes, few series each: long recordings of a cycle whose shape,
    period and slow modulation belong to the class, caught at any phase.

    The traits of physiological recordings with one class per subject (a
    pressure or flow signal per animal). Class ``k`` has a template: a cycle
    period drawn log-uniformly from 40 to 120 steps, the amplitudes and
    phases of its first five harmonics, and a slow modulation (period 300 to
    700 steps, depth up to 0.5). A series of class ``k`` starts at a random
    phase of both, with the period jittered by 2%, each harmonic's amplitude
    by 15%, a random level and scale, a slow random-walk drift and white
    noise at ``noise`` times its amplitude; where a cycle sits says nothing
    about the class, its shape does. Templates come from ``classes_seed``, so
    panels drawn with different ``random_state`` (training, validation and
    test series) share their classes.

    Parameters
    ----------
    n_per_class : int, default=2
        Series per class.
    n_classes : int, default=52
    n_timepoints : int, default=2000
    noise : float, default=0.2
    classes_seed : int, default=52
    random_state : int or None

    Returns
    -------
    X : np.ndarray of shape (n_per_class * n_classes, 1, n_timepoints), float32
    y : np.ndarray of shape (n_per_class * n_classes,), int
        Series ``i`` is of class ``i % n_classes``.

    Examples
    --------
    >>> from skwarp.datasets import make_few_shot_cycles
    >>> X, y = make_few_shot_cycles(n_per_class=1, n_classes=3, random_state=0)
    >>> X.shape, y.tolist()
    ((3, 1, 2000), [0, 1, 2])
    """
    check_int("n_per_class", n_per_class, 1)
    check_int("n_classes", n_classes, 2)
    check_int("n_timepoints", n_timepoints, 2)
    check_real("noise", noise, 0.0)
    templates = np.random.default_rng(classes_seed)
    periods = np.exp(templates.uniform(np.log(40), np.log(120), n_classes))
    harmonics = templates.uniform(0.1, 1.0, (n_classes, 5)) / np.arange(1, 6)
    harmonics[:, 0] = 1.0
    phases = templates.uniform(0, 2 * np.pi, (n_classes, 5))
    slow_periods = templates.uniform(300, 700, n_classes)
    depths = templates.uniform(0, 0.5, n_classes)
    rng = np.random.default_rng(random_state)
    y = np.tile(np.arange(n_classes), n_per_class)
    t = np.arange(n_timepoints)
    orders = np.arange(1, 6)[:, None]
    X = np.empty((len(y), 1, n_timepoints), dtype=np.float32)
    for i, label in enumerate(y):
        period = periods[label] * (1 + 0.02 * rng.standard_normal())
        angle = 2 * np.pi * (t / period + rng.uniform())
        weights = harmonics[label] * (1 + 0.15 * rng.standard_normal(5))
        cycle = (weights[:, None] * np.sin(orders * angle + phases[label][:, None])).sum(0)
        slow = 1 + depths[label] * np.sin(2 * np.pi * (t / slow_periods[label] + rng.uniform()))
        drift = np.cumsum(rng.standard_normal(n_timepoints)) * 0.01
        values = slow * cycle + drift + noise * rng.standard_normal(n_timepoints)
        X[i, 0] = rng.normal(0, 3) + np.exp(rng.normal(0, 0.5)) * values
    return X, y


def make_event_order(n_series: int = 400, n_timepoints: int = 512, event_length: int = 24,
                     min_gap: int = 128, amplitude: float = 1.0,
                     random_state: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The class is which of two events comes first, far apart in noise.

    Every series is white Gaussian noise (unit variance) with two events of
    ``event_length`` steps and height ``amplitude``: a half-sine bump upwards
    and one downwards. Class 0 has the upward bump first, class 1 the
    downward one. The second starts at least ``min_gap`` steps after the
    first ends, both anywhere else in the series: each class holds the same
    two shapes, so only their order tells the classes apart.

    Parameters
    ----------
    n_series : int, default=400
    n_timepoints : int, default=512
    event_length : int, default=24
    min_gap : int, default=128
    amplitude : float, default=1.0
    random_state : int or None

    Returns
    -------
    X : np.ndarray of shape (n_series, 1, n_timepoints), float32
    y : np.ndarray of shape (n_series,), int
        Classes 0 and 1, balanced (up to one series) and shuffled.

    Examples
    --------
    >>> from skwarp.datasets import make_event_order
    >>> X, y = make_event_order(n_series=4, random_state=0)
    >>> X.shape, sorted(y.tolist())
    ((4, 1, 512), [0, 0, 1, 1])
    """
    check_int("n_series", n_series, 1)
    check_int("event_length", event_length, 1)
    check_int("min_gap", min_gap, 0)
    check_real("amplitude", amplitude, 0.0)
    room = n_timepoints - 2 * event_length - min_gap
    if room < 0:
        raise ValueError(f"two events of {event_length} steps {min_gap} apart do not fit "
                         f"into n_timepoints={n_timepoints}")
    rng = np.random.default_rng(random_state)
    y = rng.permutation(np.arange(n_series) % 2)
    X = rng.standard_normal((n_series, 1, n_timepoints), dtype=np.float32)
    bump = (amplitude * np.sin(np.pi * (np.arange(event_length) + 0.5) / event_length)
            ).astype(np.float32)
    for i, label in enumerate(y):
        # the two starts: a sorted pair of the free steps, spread over the series
        first, extra = np.sort(rng.integers(0, room + 1, 2))
        second = extra + event_length + min_gap
        signs = (1.0, -1.0) if label == 0 else (-1.0, 1.0)
        X[i, 0, first:first + event_length] += signs[0] * bump
        X[i, 0, second:second + event_length] += signs[1] * bump
    return X, y
