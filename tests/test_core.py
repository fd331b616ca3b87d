"""Root network and WARP module (plain torch)."""

import pytest
import torch
from torch import nn

from skwarp.core import RootNetwork, WarpNetwork, time_features


def test_root_network_matches_torch_mlp():
    root = RootNetwork(n_inputs=3, n_outputs=2, width=5, depth=2, activation="tanh")
    mlp = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 5), nn.Tanh(),
                        nn.Linear(5, 2)).double()
    theta = torch.cat([p.detach().flatten() for p in mlp.parameters()])
    assert theta.numel() == root.n_params
    inputs = torch.randn(7, 3, dtype=torch.float64)
    torch.testing.assert_close(root(theta, inputs), mlp(inputs))


def test_root_network_batches_over_leading_dims():
    root = RootNetwork(3, 4, width=6, depth=1)
    theta = torch.randn(2, 5, root.n_params)
    inputs = torch.randn(2, 5, 3)
    out = root(theta, inputs)
    assert out.shape == (2, 5, 4)
    torch.testing.assert_close(out[1, 3], root(theta[1, 3], inputs[1, 3]))


def test_root_network_rejects_wrong_theta_size_and_activation():
    root = RootNetwork(1, 1, width=2, depth=1)
    with pytest.raises(ValueError, match="entries"):
        root(torch.zeros(root.n_params + 1), torch.zeros(1))
    with pytest.raises(ValueError, match="activation"):
        RootNetwork(1, 1, activation="swish-ish")


def test_root_network_is_a_module_without_parameters():
    import pickle

    root = RootNetwork(3, 2, width=5, depth=2)
    assert isinstance(root, nn.Module)
    assert list(root.parameters()) == [] and root.state_dict() == {}
    net = WarpNetwork(2, 3, root_width=4)
    assert dict(net.named_children())["root"] is net.root
    assert not any(key.startswith("root.") for key in net.state_dict())
    theta, inputs = torch.randn(4, root.n_params), torch.randn(4, 3)
    loaded = pickle.loads(pickle.dumps(root))
    assert isinstance(loaded, nn.Module) and loaded.n_params == root.n_params
    torch.testing.assert_close(loaded(theta, inputs), root(theta, inputs))


def test_time_features_against_hand_computed_values():
    """[tau, sin(pi tau), sin(2 pi tau), cos(pi tau), cos(2 pi tau)]."""
    r2, r3 = 2**0.5 / 2, 3**0.5 / 2
    tau = torch.tensor([1 / 6, 0.25, 0.5], dtype=torch.float64)
    expected = torch.tensor([[1 / 6, 0.5, r3, r3, 0.5],    # pi/6 and pi/3
                             [0.25, r2, 1.0, r2, 0.0],     # pi/4 and pi/2
                             [0.5, 1.0, 0.0, 0.0, -1.0]],  # pi/2 and pi
                            dtype=torch.float64)
    torch.testing.assert_close(time_features(tau, 2), expected)
    torch.testing.assert_close(time_features(tau, 0), tau[:, None])
    batched = time_features(tau.expand(4, 3), 1)
    assert batched.shape == (4, 3, 3)
    torch.testing.assert_close(batched[2], expected[:, [0, 1, 3]])


def test_tau_is_step_over_length_minus_one_and_one_for_a_single_step():
    net = WarpNetwork(2, 3, root_width=4)
    like = torch.zeros(3, 5, 2)
    expected = torch.tensor([[0, 1 / 4, 2 / 4, 3 / 4, 1],   # L = 5
                             [0, 1 / 2, 1, 3 / 2, 2],       # L = 3 (past its end: padding)
                             [1, 1, 1, 1, 1]])              # L = 1 sits at tau = 1
    torch.testing.assert_close(net._tau(5, torch.tensor([5, 3, 1]), like), expected)
    torch.testing.assert_close(net._tau(5, None, like), expected[[0, 0, 0]])
    scaled = WarpNetwork(2, 3, root_width=4, time_scale=8.0)
    torch.testing.assert_close(scaled._tau(5, None, like),
                               (torch.arange(5) / 8).expand(3, 5))


def _features(tau, n_frequencies):
    """time_features written out independently of the library."""
    columns = [tau] + [torch.sin(2**k * torch.pi * tau) for k in range(n_frequencies)] \
        + [torch.cos(2**k * torch.pi * tau) for k in range(n_frequencies)]
    return torch.stack(columns, dim=-1)


def _network(**kwargs):
    torch.manual_seed(0)
    net = WarpNetwork(3, 4, root_width=8, n_frequencies=2, **kwargs).double()
    with torch.no_grad():  # move away from A = I, B = 0 so the test can fail
        D = net.n_params
        net.transition.A.copy_(torch.eye(D) + 0.01 * torch.randn(D, D))
        net.B.normal_()
    return net


METHODS = ["sequential", "parallel", "kernel"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kwargs", [{}, {"time_channel": True}, {"initial_state": "learned"}])
def test_warp_matches_its_definition(kwargs, method):
    net = _network(**kwargs)
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    inputs = x
    if kwargs.get("time_channel"):
        tau = (torch.arange(9, dtype=torch.float64) / 8).expand(2, 9).unsqueeze(-1)
        inputs = torch.cat((x, tau), dim=-1)
    theta = net.initial_state(x[:, 0])
    expected = [theta]
    for t in range(1, 9):
        theta = theta @ net.A.T + (inputs[:, t] - inputs[:, t - 1]) @ net.B.T
        expected.append(theta)
    expected = torch.stack(expected, dim=1)
    scan_method = "parallel" if method == "kernel" else method
    torch.testing.assert_close(net.states(x, method=scan_method), expected)
    torch.testing.assert_close(net.final_state(x, method=method), expected[:, -1])
    tau = (torch.arange(9, dtype=torch.float64) / 8).expand(2, 9)  # t / (L - 1)
    torch.testing.assert_close(net.forward_all(x), net.root(expected, _features(tau, 2)))
    torch.testing.assert_close(net(x), net.forward_all(x)[:, -1])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kwargs", [{}, {"time_channel": True}, {"state_clip": 0.5}])
def test_padded_batch_equals_series_one_by_one(kwargs, method):
    net = _network(**kwargs)
    lengths = torch.tensor([7, 1, 4])
    x = torch.randn(3, 7, 3, dtype=torch.float64)
    x[1, 1:] = torch.inf  # garbage after a series' end must not leak
    x[2, 4:] = torch.nan
    scan_method = "parallel" if method == "kernel" else method
    batched = net(x, lengths, method=method)
    batched_all = net.forward_all(x, lengths, method=scan_method)
    loss = batched.square().sum() + batched_all.square().sum()
    grads = torch.autograd.grad(loss, list(net.parameters()))
    assert all(torch.isfinite(g).all() for g in grads)
    for i, n in enumerate(lengths.tolist()):
        alone = net(x[i:i + 1, :n])
        torch.testing.assert_close(batched[i:i + 1], alone)
        torch.testing.assert_close(batched_all[i, :n], net.forward_all(x[i:i + 1, :n])[0])


def test_length_one_series_decodes_at_tau_one_everywhere():
    net = _network()
    x = torch.randn(2, 1, 3, dtype=torch.float64)
    torch.testing.assert_close(net(x), net.forward_all(x)[:, -1])
    padded = torch.cat((x, torch.randn(2, 4, 3, dtype=torch.float64)), dim=1)
    torch.testing.assert_close(net.forward_all(padded, torch.tensor([1, 1]))[:, 0], net(x))


def test_lengths_are_checked():
    net = _network()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    for bad in ([0, 5], [6, 2], [[5, 5]], [2.0, 3.0]):
        with pytest.raises(ValueError, match="lengths"):
            net(x, torch.tensor(bad))
    with pytest.raises(ValueError, match="shape"):
        net(torch.randn(2, 5, 4, dtype=torch.float64))
    torch.testing.assert_close(net(x, [5, 5]), net(x))  # lists are accepted


def test_state_clip_bounds_the_state():
    net = _network(state_clip=0.1)
    x = 100 * torch.randn(2, 20, 3, dtype=torch.float64)
    assert net.states(x)[:, 1:].abs().max() <= 0.1
    torch.testing.assert_close(net.final_state(x), net.states(x)[:, -1])


def test_initial_state_mlp_starts_near_root_init():
    net = WarpNetwork(2, 3, root_width=4)
    x0 = torch.randn(5, 2)
    theta0 = net.initial_state(x0)
    assert theta0.shape == (5, net.n_params)
    # a usable root network at initialisation: bounded weights, spread out
    assert theta0.abs().max() < 2 and theta0.std() > 0.05


def test_invalid_options():
    with pytest.raises(ValueError, match="initial_state"):
        WarpNetwork(2, 2, initial_state="zeros")
    net = WarpNetwork(2, 2, root_width=4)
    with pytest.raises(ValueError, match="method"):
        net(torch.zeros(1, 3, 2), method="magic")
