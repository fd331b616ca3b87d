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


def _assert_same_training(stacked, alone, other):
    """``stacked`` (a member of the batched ensemble) is ``alone`` (trained by
    itself under the same seeds) up to float rounding: the batched kernels
    round differently, and Adam's normalised steps carry that into weights
    whose gradients are near zero. ``other`` (another member) is far from both."""
    difference = (_flat(stacked) - _flat(alone)).abs()
    assert difference.max() < 1e-2 and difference.mean() < 1e-4
    assert (_flat(stacked) - _flat(other)).abs().mean() > 100 * difference.mean()


def test_the_first_network_is_the_single_network_model(motions, ensemble):
    single = WarpClassifier(**{**SMALL, "n_networks": 1}).fit(*motions)
    assert len(ensemble.networks_) == 3 and ensemble.network_ is ensemble.networks_[0]
    _assert_same_training(ensemble.network_, single.network_, ensemble.networks_[1])
    assert ensemble.history_.keys() == single.history_.keys()
    for key, values in single.history_.items():
        assert ensemble.history_[key] == pytest.approx(values, rel=1e-4, abs=1e-6)
    flats = [_flat(n) for n in ensemble.networks_]
    assert not torch.equal(flats[0], flats[1]) and not torch.equal(flats[1], flats[2])


def test_the_members_own_their_weights_after_a_stacked_fit(ensemble):
    """Each network's tensors have their own storage (not views of the
    stacked ones, which would pickle every member with each)."""
    for network in ensemble.networks_:
        for tensor in [*network.parameters(), *network.buffers()]:
            assert tensor.untyped_storage().nbytes() == tensor.numel() * tensor.element_size()
            assert not tensor.requires_grad or tensor.grad is None


def test_probabilities_are_the_mean_of_the_networks(motions, ensemble):
    """By hand: each fitted network on the scaled series, its softmax, the mean."""
    X, _ = motions
    x = torch.from_numpy(ensemble._network_input(X.transpose(0, 2, 1),
                                                     np.full(len(X), X.shape[2])))
    with torch.no_grad():
        per_network = [torch.softmax(network.eval()(x).double(), dim=1).numpy()
                       for network in ensemble.networks_]
    expected = np.mean(per_network, axis=0)
    probabilities = ensemble.predict_proba(X)
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-6)
    for alone in per_network:  # the mean of three differs from each of them
        assert np.abs(probabilities - alone).max() > 1e-3
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


def _member_data(motions, validation_fraction):
    """The classifier's training data, scaled and split as in fit."""
    from skwarp._preprocessing import panel_to_padded
    from skwarp._training import Batch
    from skwarp.classification import fit_input_scaling, stratified_split

    X, y = motions
    targets = np.searchsorted(np.unique(y), y)
    values, lengths = panel_to_padded(X)
    seeds = Seeds.from_random_state(SMALL["random_state"])
    train_idx, val_idx = stratified_split(targets, validation_fraction, seeds.split)
    standardiser, scaler = fit_input_scaling(values[train_idx], lengths[train_idx],
                                             "standard", series_norm=True)
    data = Batch.from_numpy(scaler.transform(standardiser.transform(values, lengths), lengths),
                            lengths, targets,
                            torch.device("cpu"))
    validation = None if val_idx is None else data.take(torch.as_tensor(val_idx))
    return data.take(torch.as_tensor(train_idx)), validation, seeds


def test_each_member_trains_as_a_one_network_fit_under_its_own_seeds(motions, ensemble):
    from functools import partial

    from skwarp._training import TrainingConfig, fit_networks, torch_threads
    from skwarp.classification import classification_loss

    train, _, seeds = _member_data(motions, 0.0)
    loss = partial(classification_loss, decoding="last", solver="auto")
    spec = ensemble.networks_[0].spec
    for k in (1, 2):
        with torch_threads(ensemble.n_threads):  # the fit's thread count: same rounding
            (single,), (history,) = fit_networks(
                spec, train.x.shape[2], len(ensemble.classes_), train, None, lambda s: loss,
                TrainingConfig.of(ensemble, epoch_size=ensemble.epoch_size_), seeds.member(k),
                n_networks=1, score_name="accuracy")
        _assert_same_training(ensemble.networks_[k], single, ensemble.networks_[3 - k])
        for key, values in history.items():
            assert ensemble.histories_[k][key] == pytest.approx(values, rel=1e-4, abs=1e-6)
    assert not torch.equal(_flat(ensemble.networks_[1]), _flat(ensemble.networks_[2]))


def test_every_member_stops_early_and_keeps_its_best_weights(motions):
    from skwarp._training import evaluate
    from skwarp.classification import classification_loss

    params = {**SMALL, "n_networks": 3, "n_epochs": 12, "lr": 0.05,
              "validation_fraction": 0.3, "patience": 2}
    clf = WarpClassifier(**params).fit(*motions)
    _, validation, _ = _member_data(motions, 0.3)

    def loss(network, batch):
        return classification_loss(network, batch, decoding="last", solver="auto")

    assert len(clf.histories_) == 3 and clf.history_ is clf.histories_[0]
    stopped = 0
    for network, history in zip(clf.networks_, clf.histories_, strict=True):
        val_loss = history["val_loss"]
        assert len(val_loss) == len(history["train_loss"]) == len(history["val_accuracy"])
        # the kept weights are those of the best epoch, not the last
        assert evaluate(network, loss, validation, 256)[0] == pytest.approx(min(val_loss),
                                                                              rel=1e-5)
        stopped += len(val_loss) < params["n_epochs"]
    assert stopped >= 1  # at least one member stopped early with patience 2
