"""The WARP module: a linear recurrence over the weights of a root network.

``theta_0 = phi(x_0)`` and ``theta_t = A theta_{t-1} + B (x_t - x_{t-1})``;
the output at step ``t`` is ``root(time_features(tau_t); theta_t)``. See
``shared/WARP.md`` section 1. Plain torch: no sklearn or sktime here.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from skwarp.core.root import RootNetwork, time_features
from skwarp.core.scan import (
    FINAL_STATE_METHODS,
    SCAN_METHODS,
    check_lengths,
    final_state,
    final_state_sequential,
    linear_scan,
    scan_sequential,
    valid_mask,
)

INITIAL_STATES = ("mlp", "learned")


class InitialStateMLP(nn.Module):
    """``phi``: first observation to initial root weights.

    Hidden widths interpolate linearly between ``n_inputs`` and ``n_params``
    (two layers: 2/3 d + 1/3 D and 1/3 d + 2/3 D). The output bias starts at
    ``theta_init`` and the output weight small, so every series starts near a
    well-initialised root network.
    """

    def __init__(self, n_inputs: int, theta_init: Tensor, n_layers: int = 2) -> None:
        super().__init__()
        n_params = theta_init.numel()
        widths = [round(n_inputs + (k / (n_layers + 1)) * (n_params - n_inputs))
                  for k in range(1, n_layers + 1)]
        layers: list[nn.Module] = []
        for n_in, n_out in zip([n_inputs] + widths[:-1], widths, strict=True):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        out = nn.Linear(([n_inputs] + widths)[-1], n_params)
        with torch.no_grad():
            out.weight.mul_(0.1)
            out.bias.copy_(theta_init)
        self.net = nn.Sequential(*layers, out)

    def forward(self, x0: Tensor) -> Tensor:
        return self.net(x0)


class LearnedInitialState(nn.Module):
    """``theta_0`` as one learned vector shared by all series."""

    def __init__(self, theta_init: Tensor) -> None:
        super().__init__()
        self.theta0 = nn.Parameter(theta_init.clone())

    def forward(self, x0: Tensor) -> Tensor:
        return self.theta0.expand(x0.shape[0], -1)


class WarpNetwork(nn.Module):
    """WARP: weight-space linear recurrent network.

    Parameters
    ----------
    n_channels : int
        Channels ``d`` of the input series.
    n_outputs : int
        Output size of the root network (e.g. number of classes).
    root_width, root_depth : int
        Hidden width and number of hidden layers of the root network.
    activation : str
        Root network activation.
    n_frequencies : int
        Sinusoidal features of ``tau`` fed to the root network besides ``tau``.
    initial_state : {"mlp", "learned"}
        ``phi(x_0)`` or one learned vector.
    init_layers : int
        Hidden layers of ``phi``.
    time_channel : bool
        Append ``tau`` as an input channel (B gets one more column).
    state_clip : float or None
        Clip ``theta_t`` to ``[-state_clip, state_clip]`` after every step. This
        makes the recurrence nonlinear, so it runs as a sequential loop.

    Input series are tensors of shape ``(N, T, d)``; ``lengths`` (N,) gives each
    series' own length when a padded batch holds series of unequal length
    (valid steps first).
    """

    def __init__(self, n_channels: int, n_outputs: int, *, root_width: int = 32,
                 root_depth: int = 1, activation: str = "relu", n_frequencies: int = 4,
                 initial_state: str = "mlp", init_layers: int = 2,
                 time_channel: bool = False, state_clip: float | None = None) -> None:
        super().__init__()
        if initial_state not in INITIAL_STATES:
            raise ValueError(f"initial_state must be one of {INITIAL_STATES}, "
                             f"got {initial_state!r}")
        self.n_channels, self.n_frequencies = n_channels, n_frequencies
        self.time_channel, self.state_clip = time_channel, state_clip
        self.root = RootNetwork(1 + 2 * n_frequencies, n_outputs, root_width,
                                root_depth, activation)
        n_params = self.root.n_params
        theta_init = self.root.init_params()
        if initial_state == "mlp":
            self.initial_state = InitialStateMLP(n_channels, theta_init, init_layers)
        else:
            self.initial_state = LearnedInitialState(theta_init)
        n_drive = n_channels + int(time_channel)
        self.A = nn.Parameter(torch.eye(n_params))
        self.B = nn.Parameter(torch.zeros(n_params, n_drive))

    @property
    def n_params(self) -> int:
        """``D``, the size of the state."""
        return self.root.n_params

    # -- inputs ------------------------------------------------------------ #
    def _tau(self, n_steps: int, lengths: Tensor | None, like: Tensor) -> Tensor:
        """Normalised time ``t / (L - 1)`` of shape (N, T).

        A length-1 series sits at ``tau = 1``, where :meth:`forward` decodes.
        """
        steps = torch.arange(n_steps, dtype=like.dtype, device=like.device)
        if lengths is None:
            lengths = torch.full((like.shape[0],), n_steps, device=like.device)
        last = (lengths - 1).to(like.dtype).unsqueeze(1)
        return torch.where(last > 0, steps / last.clamp(min=1), torch.ones_like(steps))

    def _drive(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """Input differences ``x_t - x_{t-1}``, t >= 1, shape (N, T-1, d').

        Differences past a series' end are zero, so padding (even inf or NaN)
        reaches neither the states nor the gradients.
        """
        if self.time_channel:
            x = torch.cat((x, self._tau(x.shape[1], lengths, x).unsqueeze(-1)), dim=-1)
        drive = x[:, 1:] - x[:, :-1]
        if lengths is None:
            return drive
        valid = valid_mask(lengths - 1, drive.shape[1]).unsqueeze(-1)
        return torch.where(valid, drive, torch.zeros_like(drive))

    @staticmethod
    def _drive_lengths(lengths: Tensor | None) -> Tensor | None:
        return None if lengths is None else (lengths - 1).clamp(min=0)

    # -- states ------------------------------------------------------------ #
    def _check_input(self, x: Tensor, lengths, method: str, methods) -> Tensor | None:
        if method not in methods:
            raise ValueError(f"method must be one of {methods}, got {method!r}")
        if x.ndim != 3 or x.shape[2] != self.n_channels or x.shape[1] == 0:
            raise ValueError(f"x must have shape (N, T >= 1, {self.n_channels}), "
                             f"got {tuple(x.shape)}")
        return None if lengths is None else check_lengths(lengths, x.shape[1], x.device)

    def final_state(self, x: Tensor, lengths: Tensor | None = None,
                    method: str = "auto") -> Tensor:
        """``theta`` at each series' last step, shape (N, D)."""
        lengths = self._check_input(x, lengths, method, FINAL_STATE_METHODS)
        theta0 = self.initial_state(x[:, 0])
        drive = self._drive(x, lengths)
        drive_lengths = self._drive_lengths(lengths)
        if self.state_clip is not None:
            return final_state_sequential(self.A, self.B, drive, theta0, drive_lengths,
                                          clip=self.state_clip)
        return final_state(self.A, self.B, drive, theta0, drive_lengths, method=method)

    def states(self, x: Tensor, lengths: Tensor | None = None,
               method: str = "auto") -> Tensor:
        """The whole trajectory ``theta_0 .. theta_{T-1}``, shape (N, T, D).

        Steps past a series' length hold that series' last state.
        """
        lengths = self._check_input(x, lengths, method, SCAN_METHODS)
        theta0 = self.initial_state(x[:, 0])
        drive = self._drive(x, lengths)
        if drive.shape[1] == 0:
            return theta0.unsqueeze(1)
        if self.state_clip is not None:
            rest = scan_sequential(self.A, drive @ self.B.T, theta0, clip=self.state_clip)
        else:
            rest = linear_scan(self.A, drive @ self.B.T, theta0, method=method)
        trajectory = torch.cat((theta0.unsqueeze(1), rest), dim=1)
        if lengths is not None:  # freeze after the last step (A would keep acting)
            index = torch.minimum(torch.arange(x.shape[1], device=x.device),
                                  (lengths - 1).clamp(min=0)[:, None])
            trajectory = torch.gather(trajectory, 1,
                                      index.unsqueeze(-1).expand_as(trajectory))
        return trajectory

    # -- decoding ---------------------------------------------------------- #
    def decode(self, theta: Tensor, tau: Tensor) -> Tensor:
        """Root network outputs for states ``theta`` (..., D) at times ``tau`` (...)."""
        return self.root(theta, time_features(tau, self.n_frequencies))

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                method: str = "auto") -> Tensor:
        """Outputs at each series' last step (``tau = 1``), shape (N, n_outputs)."""
        theta = self.final_state(x, lengths, method)
        return self.decode(theta, torch.ones(theta.shape[0], dtype=theta.dtype,
                                             device=theta.device))

    def forward_all(self, x: Tensor, lengths: Tensor | None = None,
                    method: str = "auto") -> Tensor:
        """Outputs at every step, shape (N, T, n_outputs)."""
        theta = self.states(x, lengths, method)
        return self.decode(theta, self._tau(x.shape[1], lengths, theta))
