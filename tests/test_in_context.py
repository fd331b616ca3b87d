"""In-context learning: WARP answers linear-regression queries from the (x, y)
pairs in its context, with no gradient step at test time."""

import copy

import numpy as np
import pytest
import torch

from skwarp._training import seeded_torch, torch_threads
from skwarp.core import PhysicsPrior, WarpNetwork
from skwarp.datasets import make_linear_regression_tasks

N_PAIRS = 16


def linear_readout(params, tau, x):
    """The root network's outputs are the weight and bias of a linear model of
    the query (the sequence's first channel)."""
    return params[..., :1] * x[..., :1] + params[..., 1:2]


def _tensors(n_tasks, seed):
    X, y, _ = make_linear_regression_tasks(n_tasks, N_PAIRS, random_state=seed)
    return torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)


@pytest.fixture(scope="module")
def trained():
    with torch_threads(1):
        return _train()


def _train():
    X, y = _tensors(4000, seed=0)
    with seeded_torch(0):
        net = WarpNetwork(2, 1, root_width=16, n_frequencies=1, time_scale=N_PAIRS - 1,
                          physics=PhysicsPrior(linear_readout, n_parameters=2, n_outputs=1))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(10):
        for index in torch.randperm(len(X), generator=generator).split(64):
            loss = (net.forward_all(X[index])[..., 0] - y[index]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return net


def test_error_falls_with_the_number_of_context_pairs(trained):
    X, y = _tensors(1000, seed=1)  # new tasks: weights never seen in training
    before = copy.deepcopy(trained.state_dict())
    assert all(p.grad is None and p.requires_grad for p in trained.parameters())
    # autograd on, as a user would call it: a gradient step inside the call
    # would leave gradients behind or move the weights
    errors = (trained.forward_all(X)[..., 0] - y).square()
    assert errors.requires_grad  # the call was recorded: the checks below can see a step
    curve = errors.detach().mean(0).numpy()
    # with no pair seen, the best guess is 0: MSE = E[(w x)^2] = 1
    assert 0.8 < curve[0] < 1.2
    assert curve[2:5].mean() < 0.8 * curve[0]
    assert curve[8:].mean() < 0.5 * curve[0]
    assert curve[8:].mean() < curve[1:4].mean()
    # the answers came from the context alone: not one parameter moved
    after = trained.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert all(p.grad is None for p in trained.parameters())


def test_the_answer_follows_the_context_not_a_memorised_task(trained):
    X, y = _tensors(200, seed=2)
    flipped_X, flipped_y = X.clone(), -y  # same queries, the task y = -w x
    flipped_X[:, 1:, 1] = -y[:, :-1]
    with torch.no_grad():
        pred = trained.forward_all(X)[:, -1, 0]
        flipped = trained.forward_all(flipped_X)[:, -1, 0]
    own = (pred - y[:, -1]).square().mean()
    assert (flipped - flipped_y[:, -1]).square().mean() < 0.5
    assert own < 0.5
    assert np.corrcoef(pred.numpy(), flipped.numpy())[0, 1] < -0.5
