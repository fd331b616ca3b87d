"""WarpClassifier's ``n_networks``: independent networks whose class
probabilities are averaged."""

import pickle

import numpy as np
import pytest
import torch
from _helpers import TINY_CLASSIFIER
from sktime.datasets import load_basic_motions

from skwarp import WarpClassifier
from skwarp._training import Seeds

SMALL = {**TINY_CLASSIFIER, "n_epochs": 2, "root_width": 6}


@pytest.fixture(scope="module")
def motions():
    X, y = load_basic_motions(split="train", return_type="numpy3D")
    return X[::3], y[::3]


@pytest.fixture(scope="module")
def ensemble(motions):
    return WarpClassifier(**{**SMALL, "n_networks": 3}).fit(*motions)


def _flat(network: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in network.parameters()])


def test_member_seeds_are_distinct_and_share_the_split():
    seeds = Seeds.from_random_state(3)
    members = [seeds.member(k) for k in range(4)]
    assert members[0] == seeds
    assert len({m.init for m in members}) == 4
    assert len({m.shuffle for m in members}) == 4
    assert {m.split for m in members} == {seeds.split}
    assert [m.init for m in members] == [seeds.member(k).init for k in range(4)]


def test_the_first_network_is_the_single_network_model(motions, ensemble):
    single = WarpClassifier(**{**SMALL, "n_networks": 1}).fit(*motions)
    assert len(ensemble.networks_) == 3 and ensemble.network_ is ensemble.networks_[0]
    torch.testing.assert_close(_flat(ensemble.network_), _flat(single.network_),
                               rtol=0, atol=0)
    assert ensemble.history_ == single.history_
    flats = [_flat(n) for n in ensemble.networks_]
    assert not torch.equal(flats[0], flats[1]) and not torch.equal(flats[1], flats[2])


def test_probabilities_are_the_mean_of_the_networks(motions, ensemble):
    X, _ = motions
    per_network = []
    for network in ensemble.networks_:
        alone = pickle.loads(pickle.dumps(ensemble))
        alone.networks_, alone.network_ = [network], network
        per_network.append(alone.predict_proba(X))
    expected = np.mean(per_network, axis=0)
    probabilities = ensemble.predict_proba(X)
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-12)
    assert not np.allclose(per_network[0], per_network[1])
    np.testing.assert_array_equal(ensemble.predict(X),
                                  ensemble.classes_[expected.argmax(1)])


def test_an_ensemble_is_reproducible_and_pickles(motions, ensemble):
    X, y = motions
    again = WarpClassifier(**{**SMALL, "n_networks": 3}).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), ensemble.predict_proba(X))
    restored = pickle.loads(pickle.dumps(ensemble))
    assert restored.network_ is restored.networks_[0]
    np.testing.assert_array_equal(restored.predict_proba(X), ensemble.predict_proba(X))


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3", None])
def test_bad_n_networks_is_refused(motions, value):
    with pytest.raises(ValueError, match="n_networks"):
        WarpClassifier(**{**SMALL, "n_networks": value}).fit(*motions)


def test_a_pickle_from_before_n_networks_keeps_its_one_network(motions):
    X, y = motions
    fitted = WarpClassifier(**{**SMALL, "n_networks": 1}).fit(X, y)
    state = fitted.__getstate__()
    del state["n_networks"], state["networks_"]
    restored = WarpClassifier.__new__(WarpClassifier)
    restored.__setstate__(state)
    assert restored.get_params()["n_networks"] == 1
    assert restored.networks_ == [restored.network_]
    np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
