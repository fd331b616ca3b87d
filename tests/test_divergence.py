"""Divergence and what follows it. On a setting the stability sweep found
(``STRESS``), the transition guard keeps training finite; without the guard
an epoch's loss is not finite and training restores the weights of the last
finite epoch, or, where those overflow too, the initial weights, with a
DivergenceWarning; either way predictions stay finite. A network whose outputs
are not finite at predict raises NonFiniteOutputError, a ValueError that
names the series."""

import numpy as np
import pytest
import torch
from _helpers import TINY_CLASSIFIER, random_walk_panel
from _sweep import signal, sweep_run

import skwarp._training as training_module
from skwarp import PAPER_PARAMS, WarpClassifier
from skwarp.exceptions import DivergenceWarning, NonFiniteOutputError

# a setting found by the sweep: 290x the paper preset's transition_lr on a
# 4362-step series. The guard matters for the identity-start transitions (the
# default "lru" is stable by construction), so these runs use PAPER_PARAMS.
STRESS = {"estimator": "WarpClassifier", "length": 4362, "signal": "random walk",
          "scale": 3e5, "offset": 9.45, "scaling": "minmax", "lr": 0.06,
          "transition_lr": 0.0029, "seed": 493018052,
          "params": {**PAPER_PARAMS, "root_width": TINY_CLASSIFIER["root_width"]}}


def test_transition_guard_prevents_divergence_the_fallback_would_catch(monkeypatch):
    guarded = sweep_run(STRESS, n_epochs=3)
    assert (guarded.error, guarded.n_non_finite, guarded.n_non_finite_losses) == ("", 0, 0)
    monkeypatch.setattr(training_module, "MAX_TRANSITION_GAIN", np.inf)
    unguarded = sweep_run(STRESS, n_epochs=3)
    # without the guard an epoch diverges; the restored weights still predict finitely
    assert unguarded.n_non_finite_losses > 0
    assert (unguarded.error, unguarded.n_non_finite) == ("", 0)


def test_restored_weights_that_are_not_finite_fall_back_to_the_initial_ones(monkeypatch):
    """Without the guard, the weights after the last finite epoch overflow on
    the training data: training restores the initial weights, with a warning."""
    monkeypatch.setattr(training_module, "MAX_TRANSITION_GAIN", np.inf)
    rng = np.random.default_rng(STRESS["seed"])
    X = ((signal("random walk", 4, STRESS["length"], rng) + STRESS["offset"])
         * STRESS["scale"])[:, None, :]
    params = {**TINY_CLASSIFIER, **PAPER_PARAMS, "root_width": TINY_CLASSIFIER["root_width"],
              "n_epochs": 3, "lr": STRESS["lr"],
              "scaling": "minmax",
              "transition_lr": STRESS["transition_lr"], "random_state": STRESS["seed"]}
    with pytest.warns(DivergenceWarning, match="initial ones"):
        clf = WarpClassifier(**params).fit(X, np.array([0, 1, 0, 1]))
    assert not np.isfinite(clf.history_["train_loss"]).all()
    torch.testing.assert_close(clf.network_.A, torch.eye(clf.network_.A.shape[0]))
    assert np.isfinite(clf.predict_proba(X)).all()


def test_non_finite_network_outputs_raise_a_value_error():
    X, y = random_walk_panel()
    clf = WarpClassifier(**{**TINY_CLASSIFIER, **PAPER_PARAMS,
                            "root_width": TINY_CLASSIFIER["root_width"]}).fit(X, y)
    with torch.no_grad():
        clf.network_.A.mul_(30.0)
        clf.network_.B.normal_()
    with pytest.raises(NonFiniteOutputError, match=r"not finite for series \[0, 1"):
        clf.predict(X)
    assert issubclass(NonFiniteOutputError, ValueError)
