"""Shared by the test modules (not a test module itself): the tiny estimator
configurations and the float64 sequential reference of the recurrence.
Also the two small data sets several modules fit on: :func:`random_walk_panel`
and :func:`sine_series`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

# The smallest models that still exercise every code path: one epoch, root
# width 4, two networks for the classifier. Tests that need more training
# override single entries.
TINY_CLASSIFIER = {"n_epochs": 1, "root_width": 4, "n_frequencies": 1, "init_layers": 1,
                   "n_networks": 2, "device": "cpu", "random_state": 0}
TINY_FORECASTER = {"context_length": 4, "horizon_length": 3, "n_epochs": 1, "epoch_size": None,
                   "root_width": 4, "n_frequencies": 1, "init_layers": 1, "n_samples": 10,
                   "device": "cpu", "random_state": 0}


def reference_states(A: torch.Tensor, B: torch.Tensor, v: torch.Tensor,
                     h0: torch.Tensor) -> torch.Tensor:
    """``h_s = A h_{s-1} + B v_s`` step by step from ``h0``: states (N, S, D).

    A plain loop over time in the inputs' dtype (float64 in the tests), the
    reference every solver is compared with, values and gradients."""
    h, states = h0, []
    for s in range(v.shape[1]):
        h = h @ A.T + v[:, s] @ B.T
        states.append(h)
    return torch.stack(states, 1)


def identity_reference(B: torch.Tensor, v: torch.Tensor, h0: torch.Tensor,
                       weights: torch.Tensor):
    """The float64 loop :func:`reference_states` at ``A = I`` in closed form, for
    lengths where the loop is too slow: the final state ``h_S = h0 + B sum_s
    v_s`` and the gradients of ``sum(weights * h_S)`` with respect to
    ``(A, B, v, h0)``. ``A^m`` moves by ``m E`` along ``E`` at ``A = I``, so the
    gradient for ``A`` weighs ``h0`` by ``S`` and step ``s``'s input by
    ``S - s``."""
    B, v, h0, weights = (t.detach().double().cpu() for t in (B, v, h0, weights))
    n_steps = v.shape[1]
    value = h0 + v.sum(1) @ B.T
    lag = torch.arange(n_steps - 1, -1, -1, dtype=torch.float64)  # S - s, s = 1..S
    grad_A = weights.T @ (n_steps * h0 + (lag[:, None] * v).sum(1) @ B.T)
    grad_B = weights.T @ v.sum(1)
    grad_v = (weights @ B)[:, None, :].expand_as(v)
    return value, (grad_A, grad_B, grad_v, weights)


def thread_recording_classifier():
    """A WarpClassifier subclass that records, as ``threads_in_fit_``, torch's
    intra-op thread count while its loss runs in ``fit`` (in whatever process
    the fit runs)."""
    import skwarp.classification as module

    class ThreadRecordingClassifier(module.WarpClassifier):
        def _fit(self, X, y):
            original = module.classification_loss

            def recording(network, batch, **settings):
                self.threads_in_fit_ = torch.get_num_threads()
                return original(network, batch, **settings)

            module.classification_loss = recording
            try:
                return super()._fit(X, y)
            finally:
                module.classification_loss = original

    return ThreadRecordingClassifier


def random_walk_panel() -> tuple[np.ndarray, np.ndarray]:
    """12 random walks of 2 channels and 30 steps (numpy3D) and their labels,
    ``"a"``, ``"b"`` and ``"c"`` four times each."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 2, 30)).cumsum(axis=2)
    y = np.array(["a", "b", "c"] * 4)
    return X, y


def sine_series(n: int = 60) -> pd.Series:
    """A noiseless series ``y`` of ``n`` steps: level 10, a sine of period 12
    and a small cosine."""
    t = np.arange(n)
    return pd.Series(10 + np.sin(2 * np.pi * t / 12) + 0.1 * np.cos(t), name="y")
