"""Physics priors (WARP-Phys) in the core and in WarpForecaster."""

import math
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from skwarp import WarpForecaster
from skwarp.core import (
    LotkaVolterra,
    MassSpringDamper,
    PhysicsPrior,
    Sine,
    WarpNetwork,
)
from skwarp.core.physics import positive
from skwarp.datasets import make_mass_spring_damper, make_sine


def test_positive_maps_zero_to_the_scale_and_stays_positive():
    raw = torch.tensor([-50.0, 0.0, 3.0])
    values = positive(raw, 2.0)
    assert values[1].item() == pytest.approx(2.0)
    assert (values > 0).all() and values[0] < 1e-10


def test_mass_spring_damper_is_one_euler_step():
    prior = MassSpringDamper(dt=0.1, scales=(2.0, 3.0, 0.5))
    x = torch.tensor([[1.0, -2.0]])
    out = prior(torch.zeros(1, 3), torch.zeros(1), x)  # m, k, c = 2, 3, 0.5
    acceleration = (-3.0 * 1.0 - 0.5 * -2.0) / 2.0
    torch.testing.assert_close(out, torch.tensor([[1.0 + 0.1 * -2.0,
                                                   -2.0 + 0.1 * acceleration]]))
    semi = MassSpringDamper(dt=0.1, scales=(2.0, 3.0, 0.5), scheme="semi-implicit")
    out = semi(torch.zeros(1, 3), torch.zeros(1), x)
    assert out[0, 0].item() == pytest.approx(1.0 + 0.1 * (-2.0 + 0.1 * acceleration))


def test_mass_spring_damper_bounds_the_stiff_side_only():
    prior = MassSpringDamper(dt=0.1, scales=(2.0, 3.0, 0.5), spread=10.0)
    raw = torch.tensor([[-60.0, 60.0, 60.0], [0.0, 0.0, 0.0], [60.0, -60.0, -60.0]])
    m, k, c = prior.coefficients(raw)
    torch.testing.assert_close(m[:2], torch.tensor([0.2, 2.0]))  # m >= 2 / 10
    torch.testing.assert_close(k[:2], torch.tensor([30.0, 3.0]))  # k <= 3 * 10
    torch.testing.assert_close(c[:2], torch.tensor([5.0, 0.5]))
    assert m[2] > 20 and k[2] < 1e-10 and c[2] < 1e-10  # the other sides stay free
    m, k, c = MassSpringDamper(dt=0.1, spread=None).coefficients(raw)
    assert m[0] < 1e-10 and k[0] > 50  # unbounded: softplus
    # a mass driven to 0 no longer sends the step to infinity
    out = prior(torch.tensor([[-1e3, 1e3, 1e3]]), torch.zeros(1), torch.tensor([[1.0, 1.0]]))
    assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match="spread"):
        MassSpringDamper(dt=0.1, spread=1.0)


def test_sine_and_lotka_volterra_priors():
    sine = Sine(angular_speed=2 * math.pi, step=0.25)
    out = sine(torch.tensor([[0.0], [math.pi / 2]]), torch.zeros(2), torch.zeros(2, 1))
    torch.testing.assert_close(out, torch.tensor([[1.0], [0.0]]), atol=1e-6, rtol=0)
    lv = LotkaVolterra(dt=0.5)
    x = torch.tensor([[2.0, 3.0]])
    out = lv(torch.zeros(1, 4), torch.zeros(1), x)  # every rate 1
    torch.testing.assert_close(out, torch.tensor([[2.0 + 0.5 * (2 - 6), 3.0 + 0.5 * (6 - 3)]]))


def _msd_network(prior, n_outputs=2):
    torch.manual_seed(0)
    net = WarpNetwork(2, n_outputs, root_width=8, n_frequencies=1, time_scale=9.0,
                      physics=prior).double()
    with torch.no_grad():  # B = 0 would make every state the same
        net.B.normal_(std=0.1)
    return net


def test_network_decodes_through_the_prior():
    prior = MassSpringDamper(dt=0.05)
    net = _msd_network(prior, n_outputs=4)  # 2 predicted means, 2 passed through
    assert net.root.n_outputs == 3 + 2
    x = torch.randn(3, 10, 2, dtype=torch.float64)
    outputs = net.forward_all(x)
    assert outputs.shape == (3, 10, 4)
    theta = net.states(x)
    tau = (torch.arange(10, dtype=torch.float64) / 9.0).expand(3, 10)  # time_scale 9
    features = torch.stack([tau, torch.sin(torch.pi * tau), torch.cos(torch.pi * tau)], -1)
    raw = net.root(theta, features)
    torch.testing.assert_close(outputs[..., :2], prior(raw[..., :3], tau, x))
    torch.testing.assert_close(outputs[..., 2:], raw[..., 3:])
    torch.testing.assert_close(net(x), outputs[:, -1])
    # unequal lengths: the prior sees each series' own last observation
    lengths = torch.tensor([10, 4, 7])
    last = net(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(last[i], net(x[i:i + 1, :n])[0])


def test_prior_parameters_are_trained_with_the_network():
    class LearnedDecay(PhysicsPrior):
        def __init__(self):
            super().__init__(n_parameters=1, n_outputs=2)
            self.rate = torch.nn.Parameter(torch.zeros(()))

        def forward(self, params, tau, x):
            return x * torch.exp(-self.rate - params)

    net = _msd_network(LearnedDecay())
    assert any(p is net.physics.rate for p in net.parameters())
    net.forward_all(torch.randn(2, 5, 2, dtype=torch.float64)).sum().backward()
    assert net.physics.rate.grad is not None and net.physics.rate.grad != 0


def test_rollout_and_teacher_forcing_feed_the_observation_to_the_prior():
    net = _msd_network(MassSpringDamper(dt=0.05))
    x = torch.randn(2, 6, 2, dtype=torch.float64)
    outputs, fed = net.teacher_forced(x, n_context=6, p_forcing=0.0,
                                      next_input=lambda y, x_t: y)
    torch.testing.assert_close(outputs, net.forward_all(x)[:, :-1])  # all truth
    outputs, fed = net.teacher_forced(x, n_context=2, p_forcing=1.0,  # truth, in the loop
                                      next_input=lambda y, x_t: y)
    torch.testing.assert_close(outputs, net.forward_all(x)[:, :-1])
    theta = net.final_state(x[:, :3])
    out, inputs = net.rollout(theta, x[:, 2], 2, 3, lambda y, x_t: y)
    torch.testing.assert_close(inputs[:, 0], out[:, 0])  # the prediction is fed back
    torch.testing.assert_close(out[:, 0], net._decode_at(theta, 2, x[:, 2]))


@pytest.mark.parametrize("fn, match", [
    (lambda p, tau, x: x[..., :1], r"returned \(2, 5, 1\); expected shape \(2, 5, 2\)"),
    (lambda p, tau, x: x.sum(), r"returned \(\)"),
    (lambda p, tau, x: x.numpy(), "returned ndarray"),
])
def test_prior_with_the_wrong_output_shape_is_named(fn, match):
    net = _msd_network(PhysicsPrior(fn, n_parameters=2, n_outputs=2))
    with torch.no_grad(), pytest.raises(ValueError, match=match):
        net.forward_all(torch.randn(2, 5, 2, dtype=torch.float64))


def test_bad_priors_are_rejected():
    with pytest.raises(TypeError, match="PhysicsPrior"):
        WarpNetwork(2, 2, physics=lambda p, tau, x: x)
    with pytest.raises(ValueError, match="more than the network's 1 outputs"):
        WarpNetwork(2, 1, physics=MassSpringDamper(dt=0.1))
    with pytest.raises(ValueError, match="n_parameters"):
        PhysicsPrior(lambda p, t, x: x, n_parameters=0, n_outputs=1)
    with pytest.raises(ValueError, match="dt"):
        MassSpringDamper(dt=-1.0)
    with pytest.raises(ValueError, match="scales must hold 3"):
        MassSpringDamper(dt=0.1, scales=(1.0, 2.0))
    with pytest.raises(ValueError, match="scheme"):
        MassSpringDamper(dt=0.1, scheme="rk4")
    net = WarpNetwork(1, 2, root_width=4, physics=MassSpringDamper(dt=0.1))
    with pytest.raises(ValueError, match="2 input channels"):
        net.forward_all(torch.randn(1, 3, 1))
    with pytest.raises(ValueError, match="pass x"):
        net.decode(torch.zeros(net.n_params), torch.zeros(()))


def _msd_forecaster(**kwargs):
    # a physics prior predicts each step from the one before: autoregressive decoding
    params = dict(context_length=20, horizon_length=20, decoding="autoregressive",
                  training_mode="recurrent",
                  n_epochs=3, root_width=8, n_frequencies=1, scaling=None,
                  window_norm=False, random_state=0, device="cpu",
                  physics=MassSpringDamper(dt=1 / 63, scales=(0.03, 10.0, 0.1)))
    return WarpForecaster(**{**params, **kwargs})


def test_forecaster_with_a_prior_predicts_through_it():
    y, _ = make_mass_spring_damper(8, 64, random_state=0)
    forecaster = _msd_forecaster()
    prior = forecaster.physics
    forecaster.fit(y)
    assert forecaster.network_.physics is not prior  # a copy is trained
    assert isinstance(forecaster.network_.physics, MassSpringDamper)
    pred = forecaster.predict(fh=[1, 2, 3])
    assert pred.shape == (8 * 3, 2) and np.isfinite(pred.to_numpy()).all()
    # the one-step forecast is the prior's Euler step from the last observation
    net = forecaster.network_
    context = torch.tensor(y.to_numpy().reshape(8, 64, 2)[:, -20:], dtype=torch.float32)
    with torch.no_grad():
        theta = net.final_state(context)
        expected = net._decode_at(theta, 19, context[:, -1])[:, :2]
    np.testing.assert_allclose(pred.to_numpy().reshape(8, 3, 2)[:, 0], expected.numpy(),
                               rtol=1e-4, atol=1e-5)
    intervals = forecaster.predict_interval(fh=[1, 2])
    assert np.isfinite(intervals.to_numpy()).all()
    assert pickle.loads(pickle.dumps(forecaster)).predict(fh=[1]).shape == (8, 2)


def test_sine_prior_forecaster_fits_one_column():
    y, _ = make_sine(6, 48, random_state=0)
    forecaster = WarpForecaster(context_length=16, horizon_length=16, n_epochs=2,
                                decoding="autoregressive", root_width=4, scaling=None,
                                window_norm=False,
                                physics=Sine(step=1 / 31), random_state=0, device="cpu")
    assert forecaster.fit(y).predict(fh=[1, 2]).shape == (12, 1)


@pytest.mark.parametrize("kwargs, match", [
    ({"scaling": "standard"}, "scaling=None and window_norm=False"),
    ({"window_norm": True}, "scaling=None and window_norm=False"),
    ({"physics": Sine()}, "predicts 1 values, but y has 2 columns"),
    ({"physics": "msd"}, "PhysicsPrior"),
    ({"decoding": "direct"}, 'use decoding="autoregressive" with physics'),
])
def test_forecaster_rejects_an_unusable_prior(kwargs, match):
    y, _ = make_mass_spring_damper(2, 48, random_state=0)
    with pytest.raises((ValueError, TypeError), match=match):
        _msd_forecaster(**kwargs).fit(y)


class LearnedStepMSD(MassSpringDamper):
    """The MSD prior with a learned step gain: a prior with its own parameter."""

    def __init__(self):
        super().__init__(dt=1 / 47, scales=(0.03, 10.0, 0.1))
        self.log_gain = torch.nn.Parameter(torch.zeros(()))

    def forward(self, params, tau, x):
        return x + torch.exp(self.log_gain) * (super().forward(params, tau, x) - x)


def test_forecaster_with_a_prior_is_reproducible_and_leaves_the_prior_untouched():
    y, _ = make_mass_spring_damper(4, 48, random_state=0)
    forecaster = _msd_forecaster(n_epochs=2, physics=LearnedStepMSD())
    first = forecaster.fit(y).predict(fh=[1, 5])
    assert forecaster.physics.log_gain.item() == 0.0  # the user's prior: untouched
    assert forecaster.network_.physics.log_gain.item() != 0.0  # its copy: trained
    again = _msd_forecaster(n_epochs=2, physics=LearnedStepMSD()).fit(y).predict(fh=[1, 5])
    cloned = clone(forecaster).fit(y).predict(fh=[1, 5])
    pd.testing.assert_frame_equal(first, again)
    pd.testing.assert_frame_equal(first, cloned)
