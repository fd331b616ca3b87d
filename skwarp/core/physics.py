"""Physics priors: give the root network's outputs a physical meaning.

With a prior, the root network no longer outputs the prediction itself: it
outputs the parameters of a known model (e.g. mass, stiffness and damping),
and the prior turns them, the normalised time ``tau`` and the current
observation ``x`` into the prediction of the next observation (WARP-Phys in
the WARP paper).

A prior is a :class:`PhysicsPrior`: subclass it and write ``forward``, or wrap
a function ``fn(params, tau, x) -> prediction``::

    decay = PhysicsPrior(lambda p, tau, x: x * torch.exp(-softplus(p)),
                         n_parameters=1, n_outputs=1)

``params`` has shape (..., n_parameters), ``tau`` (...) and ``x`` (..., d); the
prediction must have shape (..., n_outputs). Plain torch: no sklearn here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn
from torch.nn.functional import softplus

__all__ = ["LotkaVolterra", "MassSpringDamper", "PhysicsPrior", "Sine", "check_physics",
           "positive"]

_SOFTPLUS_OF_ONE = math.log(math.e - 1.0)  # softplus(_SOFTPLUS_OF_ONE) == 1


class PhysicsPrior(nn.Module):
    """A known model parametrised by the root network's outputs.

    Parameters
    ----------
    fn : callable, optional
        ``fn(params, tau, x) -> prediction``; subclasses override
        :meth:`forward` instead.
    n_parameters : int
        Root outputs the prior consumes.
    n_outputs : int
        Size of the prediction.
    """

    def __init__(self, fn: Callable[[Tensor, Tensor, Tensor], Tensor] | None = None, *,
                 n_parameters: int, n_outputs: int) -> None:
        super().__init__()
        for name, value in (("n_parameters", n_parameters), ("n_outputs", n_outputs)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if fn is not None and not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        self.fn, self.n_parameters, self.n_outputs = fn, n_parameters, n_outputs

    def forward(self, params: Tensor, tau: Tensor, x: Tensor) -> Tensor:
        """The prediction of the next observation, shape (..., n_outputs)."""
        if self.fn is None:
            raise NotImplementedError("pass fn, or subclass PhysicsPrior and override forward")
        return self.fn(params, tau, x)


def positive(raw: Tensor, scale: Tensor | float) -> Tensor:
    """``scale * softplus(raw + c)`` with ``c`` such that ``raw = 0`` gives ``scale``."""
    return scale * softplus(raw + _SOFTPLUS_OF_ONE)


def _require_channels(x: Tensor, n: int, prior: str, names: str) -> None:
    if x.shape[-1] < n:
        raise ValueError(f"the {prior} prior needs {n} input channels ({names}), "
                         f"got {x.shape[-1]}")


class MassSpringDamper(PhysicsPrior):
    """One Euler step of ``m x'' = -k x - c x'`` with positive ``m, k, c``.

    The root outputs three numbers; ``m, k, c = scales * softplus(.)``
    (zero outputs give ``scales``), then ``m`` is held at least ``scales[0] /
    spread`` and ``k, c`` at most ``scales[1:] * spread``. The observation's
    first two channels are position and velocity; the prediction is the next
    (position, velocity).

    The step divides by ``m``: unbounded, a state that wanders off in an
    autoregressive rollout can drive ``m`` to 0 (and ``k`` up) and the
    prediction to infinity within a few steps. With ``w2 = dt^2 k / m`` and
    ``g = dt c / m``, the semi-implicit step is stable when ``g < 2`` and
    ``w2 + 2 g < 4``, so the bounds keep it stable when ``dt^2 k_max / m_min +
    2 dt c_max / m_min < 4`` (the explicit step is never stable undamped).

    Parameters
    ----------
    dt : float
        Time between two observations.
    scales : sequence of 3 floats, default=(1, 1, 1)
        Typical magnitudes of ``m``, ``k`` and ``c``.
    scheme : {"explicit", "semi-implicit"}, default="explicit"
        Explicit Euler (the paper), or semi-implicit Euler (position moves
        with the updated velocity; it keeps undamped orbits closed).
    spread : float > 1 or None, default=10.0
        Bound ``m`` from below and ``k, c`` from above, a factor ``spread``
        away from ``scales`` (the sides that make the step stiff); None:
        no bounds.
    """

    def __init__(self, dt: float, scales: Sequence[float] = (1.0, 1.0, 1.0),
                 scheme: str = "explicit", spread: float | None = 10.0) -> None:
        super().__init__(n_parameters=3, n_outputs=2)
        if scheme not in ("explicit", "semi-implicit"):
            raise ValueError(f"scheme must be 'explicit' or 'semi-implicit', got {scheme!r}")
        if spread is not None and _positive_float("spread", spread) <= 1:
            raise ValueError(f"spread must be > 1 or None, got {spread!r}")
        self.dt, self.scheme = _positive_float("dt", dt), scheme
        self.spread = None if spread is None else float(spread)
        self.register_buffer("scales", _positive_vector("scales", scales, 3))

    def coefficients(self, params: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``m, k, c`` from the root outputs (..., 3)."""
        scales = self.scales.to(params)
        m, k, c = positive(params, scales).unbind(-1)
        if self.spread is not None:  # the identity inside the bounds
            m = torch.maximum(m, scales[0] / self.spread)
            k = torch.minimum(k, scales[1] * self.spread)
            c = torch.minimum(c, scales[2] * self.spread)
        return m, k, c

    def forward(self, params: Tensor, tau: Tensor, x: Tensor) -> Tensor:
        _require_channels(x, 2, "mass-spring-damper", "position, velocity")
        m, k, c = self.coefficients(params)
        position, velocity = x[..., 0], x[..., 1]
        new_velocity = velocity + self.dt * (-k * position - c * velocity) / m
        moving = new_velocity if self.scheme == "semi-implicit" else velocity
        return torch.stack((position + self.dt * moving, new_velocity), dim=-1)


class Sine(PhysicsPrior):
    """``amplitude * sin(angular_speed * (tau + step) + phase)``, learned phase.

    The root outputs the phase; the prediction at normalised time ``tau`` is
    the value one ``step`` later (``step = 1 / time_scale`` when every
    observation is one step of ``tau``).

    Parameters
    ----------
    angular_speed : float, default=2 pi
        Radians per unit of ``tau``.
    step : float, default=0.0
        ``tau`` between the observation and the predicted one.
    amplitude : float, default=1.0
    """

    def __init__(self, angular_speed: float = 2 * math.pi, step: float = 0.0,
                 amplitude: float = 1.0) -> None:
        super().__init__(n_parameters=1, n_outputs=1)
        self.angular_speed = _positive_float("angular_speed", angular_speed)
        self.amplitude = _positive_float("amplitude", amplitude)
        self.step = float(step)

    def forward(self, params: Tensor, tau: Tensor, x: Tensor) -> Tensor:
        angle = self.angular_speed * (tau + self.step) + params[..., 0]
        return (self.amplitude * torch.sin(angle)).unsqueeze(-1)


class LotkaVolterra(PhysicsPrior):
    """One explicit Euler step of ``u' = alpha u - beta u v``, ``v' = delta u v -
    gamma v`` with positive rates (``scales * softplus`` of the root outputs).

    Parameters
    ----------
    dt : float
        Time between two observations.
    scales : sequence of 4 floats, default=(1, 1, 1, 1)
        Typical magnitudes of ``alpha, beta, gamma, delta``.
    """

    def __init__(self, dt: float, scales: Sequence[float] = (1.0, 1.0, 1.0, 1.0)) -> None:
        super().__init__(n_parameters=4, n_outputs=2)
        self.dt = _positive_float("dt", dt)
        self.register_buffer("scales", _positive_vector("scales", scales, 4))

    def forward(self, params: Tensor, tau: Tensor, x: Tensor) -> Tensor:
        _require_channels(x, 2, "Lotka-Volterra", "prey, predator")
        alpha, beta, gamma, delta = positive(params, self.scales.to(params)).unbind(-1)
        u, v = x[..., 0], x[..., 1]
        rate = torch.stack((alpha * u - beta * u * v, delta * u * v - gamma * v), dim=-1)
        return x[..., :2] + self.dt * rate


def _positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _positive_vector(name: str, values, size: int) -> Tensor:
    values = [_positive_float(name, v) for v in values]
    if len(values) != size:
        raise ValueError(f"{name} must hold {size} numbers, got {len(values)}")
    return torch.tensor(values)


def check_physics(physics, n_outputs: int) -> None:
    """A prior fits a network of ``n_outputs`` outputs (TypeError / ValueError)."""
    if not isinstance(physics, nn.Module) or not all(
            isinstance(getattr(physics, a, None), int)
            for a in ("n_parameters", "n_outputs")):
        raise TypeError("physics must be a skwarp.core.PhysicsPrior (an nn.Module with "
                        f"integer n_parameters and n_outputs), got {type(physics).__name__}; "
                        "wrap a function as PhysicsPrior(fn, n_parameters=.., n_outputs=..)")
    if physics.n_outputs > n_outputs:
        raise ValueError(f"the physics prior predicts {physics.n_outputs} values, more than "
                         f"the network's {n_outputs} outputs")
