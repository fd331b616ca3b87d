"""One owner for the network's settings: NetworkSpec holds each setting's
default, check and text; the estimators take their defaults from a preset
spec and build their networks from it."""

from __future__ import annotations

import inspect
import re
from dataclasses import fields, replace

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import TINY_CLASSIFIER, TINY_FORECASTER

from skwarp import PAPER_PARAMS, WarpClassifier, WarpForecaster
from skwarp._params import network_settings
from skwarp.classification import CLASSIFIER_NETWORK
from skwarp.core import NetworkSpec, WarpNetwork
from skwarp.core.spec import settings
from skwarp.forecasting import FORECASTER_NETWORK

PRESETS = [(WarpClassifier, CLASSIFIER_NETWORK), (WarpForecaster, FORECASTER_NETWORK)]


def _defaults(cls) -> dict:
    return {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self"}


@pytest.mark.parametrize(("cls", "preset"), PRESETS)
def test_each_exposed_setting_defaults_to_the_presets_value(cls, preset):
    exposed = network_settings(cls)
    assert len(exposed) >= 20
    defaults = _defaults(cls)
    for name in exposed:
        assert defaults[name] == getattr(preset, name), name


@pytest.mark.parametrize(("cls", "preset"), PRESETS)
def test_the_docstring_entry_of_a_setting_is_the_specs_text(cls, preset):
    for name in network_settings(cls):
        doc = settings()[name].doc
        entry = re.search(rf"^    {name} : (.*?), default=.*\n((?:        .*\n)*)",
                          cls.__doc__, re.M)
        assert entry.group(1) == settings()[name].kind
        assert " ".join(entry.group(2).split()) == " ".join(doc.split()), name


def test_the_presets_differ_from_the_paper_only_where_they_say():
    paper = NetworkSpec()
    changed = {f.name for f in fields(NetworkSpec)
               if getattr(CLASSIFIER_NETWORK, f.name) != getattr(paper, f.name)}
    assert changed == {"transition", "embedding", "embedding_layers", "embedding_norm",
                       "drive", "root_width", "running_average"}
    changed = {f.name for f in fields(NetworkSpec)
               if getattr(FORECASTER_NETWORK, f.name) != getattr(paper, f.name)}
    # a pointwise embedding of the values driving an "lru" transition whose
    # moduli start in (0.3, 0.9), from a learned theta_0 (see FORECASTER_NETWORK's
    # comment)
    assert changed == {"embedding", "embedding_kernel", "causal_embedding", "drive",
                       "transition", "transition_radius", "initial_state"}


def test_paper_params_restore_the_papers_network():
    clf = WarpClassifier(**PAPER_PARAMS)
    for name in network_settings(WarpClassifier):
        assert getattr(clf, name) == getattr(NetworkSpec(), name), name


@pytest.mark.parametrize(("name", "value"), [
    ("root_width", 0), ("transition", "banded"), ("transition_radius", (0.5, 1.5)),
    ("drive", "ratio"), ("stride", 0), ("state_clip", -1.0), ("embedding", "lstm"),
    ("time_scale", 0.0), ("reference_length", 0)])
def test_the_spec_checks_every_setting_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        NetworkSpec(**{name: value})
    with pytest.raises(ValueError, match=name):
        WarpNetwork(2, 3, **{name: value})


def test_stride_and_time_scale_exclude_each_other():
    with pytest.raises(ValueError, match="stride=1"):
        NetworkSpec(stride=2, time_scale=10.0)


def test_equal_settings_give_equal_specs():
    assert NetworkSpec(transition_radius=[0.9, 0.99], state_clip=2) == \
        NetworkSpec(transition_radius=(0.9, 0.99), state_clip=2.0)


def test_the_network_is_built_from_the_spec_with_overrides():
    spec = replace(CLASSIFIER_NETWORK, root_width=6)
    network = WarpNetwork(3, 2, spec, n_frequencies=1)
    assert network.spec == replace(spec, n_frequencies=1)
    assert network.root.width == 6 and network.n_frequencies == 1
    assert network.embedding is not None and network.embedding.norms is not None


def test_the_fitted_classifier_network_has_the_estimators_settings():
    X = np.random.default_rng(0).normal(size=(8, 2, 12))
    y = np.array([0, 1] * 4)
    clf = WarpClassifier(**{**TINY_CLASSIFIER, "embedding_width": 5}).fit(X, y)
    expected = replace(CLASSIFIER_NETWORK, root_width=4, n_frequencies=1, init_layers=1,
                       embedding_width=5, stride=1, reference_length=12)
    assert all(network.spec == expected for network in clf.networks_)


def test_the_fitted_forecaster_network_has_the_estimators_settings():
    y = pd.Series(np.sin(np.arange(30.0)))
    forecaster = WarpForecaster(**{**TINY_FORECASTER, "embedding": "conv"}).fit(y)
    window = TINY_FORECASTER["context_length"] + TINY_FORECASTER["horizon_length"]
    expected = replace(FORECASTER_NETWORK, root_width=4, n_frequencies=1, init_layers=1,
                       embedding="conv", time_scale=window - 1.0, reference_length=window)
    assert forecaster.network_.spec == expected


def test_the_papers_network_starts_at_the_identity_with_no_drive():
    clf = WarpClassifier(**{**PAPER_PARAMS, "n_epochs": 1})
    spec = replace(NetworkSpec(), **{n: getattr(clf, n) for n in network_settings(type(clf))})
    network = WarpNetwork(3, 2, spec)
    assert torch.equal(network.A, torch.eye(network.n_params))
    assert torch.equal(network.drive_matrix(), torch.zeros_like(network.B))
