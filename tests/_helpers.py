"""Shared by the test modules (not a test module itself): the tiny estimator
configurations and the float64 sequential reference of the recurrence."""

from __future__ import annotations

import torch

# The smallest models that still exercise every code path: one epoch, root
# width 4. Tests that need more training override single entries.
TINY_CLASSIFIER = {"n_epochs": 1, "root_width": 4, "n_frequencies": 1, "init_layers": 1,
                   "device": "cpu", "random_state": 0}
TINY_FORECASTER = {"context_length": 4, "horizon_length": 3, "n_epochs": 1, "root_width": 4,
                   "n_frequencies": 1, "init_layers": 1, "n_samples": 10, "device": "cpu",
                   "random_state": 0}


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
