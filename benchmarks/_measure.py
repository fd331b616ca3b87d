"""Peak memory and the naive loop baseline, shared by the benchmarks."""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def peak_rss_growth(run: Callable[[], object]) -> tuple[float, int]:
    """Seconds ``run()`` takes and the growth of the resident set over the call
    (sampled every millisecond), in bytes."""
    base, peak, stop = rss_bytes(), [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    try:
        run()
    finally:
        seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
    return seconds, max(peak[0], rss_bytes()) - base


def time_and_peak(run: Callable[[], object], repeats: int = 3, budget: float = 3.0,
                  reset: Callable[[], object] | None = None) -> tuple[float, int]:
    """Best seconds of up to ``repeats`` calls of ``run`` and the resident-set
    growth of one more, first, call.

    Memory is sampled in its own call: the sampling thread contends for the
    GIL and slowed small cases by up to 100x. Timing stops early once the
    calls took ``budget`` seconds in all. ``reset()`` runs after every call
    (e.g. to drop gradients).
    """
    _, peak = peak_rss_growth(run)
    seconds: list[float] = []
    for _ in range(repeats):
        if reset is not None:
            reset()
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
        if sum(seconds) > budget:
            break
    if reset is not None:
        reset()
    return min(seconds), peak


def max_rss_bytes() -> int:
    """Peak resident set of this whole process so far (Python and torch included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def autograd_dense_loop(A, B, v, h0, lengths=None):
    """The final state of ``h_s = A h_{s-1} + B v_s``, differentiated by
    autograd step by step: the naive baseline (skwarp's dense loop has its own
    backward, ``skwarp.core.scan.DenseFinalState``)."""
    import torch

    h = h0
    for s, u_s in enumerate((v @ B.T).unbind(1)):
        new = h @ A.T + u_s
        h = new if lengths is None else torch.where((s < lengths)[:, None], new, h)
    return h
