"""The WARP module: a linear recurrence over the weights of a root network.

``theta_0 = phi(x_0)`` and ``theta_t = A theta_{t-1} + B v_t``, where the drive
``v_t`` is ``x_t - x_{t-1}`` (the paper) or, optionally, the values or
differences of a learned embedding of ``x``; the output at step ``t`` is
``root(time_features(tau_t); theta_t)`` (Nzoyem et al., "Weight-Space Linear
Recurrent Neural Networks", ICLR 2026). Plain torch: no sklearn or sktime here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import torch
from torch import Tensor, nn

from skwarp.core.embedding import ConvEmbedding, mean_pool, pooled_lengths, pooled_steps
from skwarp.core.physics import check_physics
from skwarp.core.root import RootNetwork, time_features
from skwarp.core.scan import (
    FINAL_STATE_METHODS,
    SCAN_METHODS,
    check_lengths,
    final_state_sequential,
    scan_sequential,
    valid_mask,
)
from skwarp.core.spec import NetworkSpec
from skwarp.core.transitions import Transition, make_transition

__all__ = ["InitialStateMLP", "LearnedInitialState", "WarpNetwork"]


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
        Output size of the network (e.g. number of classes). With a physics
        prior the root network has ``physics.n_parameters + n_outputs -
        physics.n_outputs`` outputs: the first feed ``physics(params, tau,
        x_t)``, whose prediction fills the first ``physics.n_outputs``
        outputs; the rest pass through unchanged.
    spec : NetworkSpec, optional
        Every other setting (:class:`skwarp.core.spec.NetworkSpec`, whose
        defaults are the paper's network).
    **settings
        Settings of ``spec`` to override, by name
        (``WarpNetwork(3, 2, root_width=8)``).

    Input series are tensors of shape ``(N, T, d)``; ``lengths`` (N,) gives each
    series' own length when a padded batch holds series of unequal length
    (valid steps first). The settings are kept as ``spec``.
    """

    def __init__(self, n_channels: int, n_outputs: int, spec: NetworkSpec | None = None,
                 **settings) -> None:
        super().__init__()
        spec = replace(NetworkSpec() if spec is None else spec, **settings)
        if spec.physics is not None:
            check_physics(spec.physics, n_outputs)
        self.spec = spec
        self.n_channels, self.n_outputs = n_channels, n_outputs
        # the settings read at every call, as plain attributes
        self.n_frequencies, self.stride = spec.n_frequencies, spec.stride
        self.root_precision, self.compile_root = spec.root_precision, spec.compile_root
        self.time_channel, self.state_clip = spec.time_channel, spec.state_clip
        self.time_scale, self.physics = spec.time_scale, spec.physics
        self.drive, self.reference_length = spec.drive, spec.reference_length
        n_root_outputs = n_outputs
        if spec.physics is not None:
            n_root_outputs += spec.physics.n_parameters - spec.physics.n_outputs
        self.root = RootNetwork(1 + 2 * spec.n_frequencies, n_root_outputs, spec.root_width,
                                spec.root_depth, spec.activation)
        n_params = self.root.n_params
        theta_init = self.root.init_params()
        if spec.initial_state == "mlp":
            self.initial_state = InitialStateMLP(n_channels, theta_init, spec.init_layers)
        else:
            self.initial_state = LearnedInitialState(theta_init)
        self.embedding = None if spec.embedding is None else ConvEmbedding(
            n_channels, spec.embedding_width, spec.embedding_layers, spec.embedding_kernel,
            spec.causal_embedding, spec.embedding_dilated, spec.embedding_norm,
            spec.embedding_pool)
        n_features = n_channels if self.embedding is None else self.embedding.n_outputs
        n_drive = n_features + int(spec.time_channel)
        self.transition: Transition = make_transition(
            spec.transition, n_params, rank=spec.transition_rank,
            block_size=spec.transition_block, radius=spec.transition_radius,
            max_phase=spec.transition_phase)
        # a transition without a running average (all but "lru") ignores the setting
        self.running_average = spec.running_average and \
            self.transition.supports_running_average
        self.B = nn.Parameter(self.transition.initial_drive_matrix(n_drive))

    def drive_matrix(self) -> Tensor:
        """The ``B`` the recurrence uses (D, d'): the transition's
        :meth:`~skwarp.core.transitions.Transition.scale_drive` of the
        parameter ``B`` for ``reference_length`` (``B`` itself but for a
        decaying "lru" transition, which scales each state's row). With
        ``running_average`` the transition divides by its
        :meth:`~skwarp.core.transitions.LRUTransition.fill` at every step
        instead, so ``B`` is used as it is."""
        if self.running_average:
            return self.B
        n_steps = None if self.reference_length is None \
            else self.recurrence_steps(self.reference_length)
        return self.transition.scale_drive(self.B, n_steps)

    @property
    def n_params(self) -> int:
        """``D``, the size of the state."""
        return self.root.n_params

    @property
    def A(self) -> Tensor:
        """The transition as a dense ``D x D`` matrix (the parameter itself for
        ``transition="dense"``)."""
        return self.transition.matrix()

    # -- inputs ------------------------------------------------------------ #
    def _tau(self, n_steps: int, lengths: Tensor | None, like: Tensor) -> Tensor:
        """Normalised time ``t / (L - 1)`` of shape (N, T).

        A length-1 series sits at ``tau = 1``, where :meth:`forward` decodes.
        """
        steps = torch.arange(n_steps, dtype=like.dtype, device=like.device)
        if self.time_scale is not None:
            return (steps / self.time_scale).expand(like.shape[0], -1)
        if lengths is None:
            lengths = torch.full((like.shape[0],), n_steps, device=like.device)
        last = (lengths - 1).to(like.dtype).unsqueeze(1)
        return torch.where(last > 0, steps / last.clamp(min=1), torch.ones_like(steps))

    def step_lengths(self, lengths: Tensor) -> Tensor:
        """Steps of the recurrence (the states' time axis) for series of
        ``lengths`` time points: ``ceil(ceil(lengths / stride) / embedding_pool)``."""
        lengths = pooled_lengths(lengths, self.stride)
        return lengths if self.embedding is None else self.embedding.output_lengths(lengths)

    def recurrence_steps(self, n_timepoints: int) -> int:
        """:meth:`step_lengths` of one length given as an int."""
        pool = 1 if self.embedding is None else self.embedding.pool
        return pooled_steps(pooled_steps(n_timepoints, self.stride), pool)

    def _inputs(self, x: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """The (pooled, embedded) inputs ``e`` (N, T', d') and their lengths."""
        if self.stride > 1:
            x = mean_pool(x, lengths, self.stride)
            lengths = None if lengths is None else pooled_lengths(lengths, self.stride)
        if self.embedding is not None:
            x = self.embedding(x, lengths)
            lengths = None if lengths is None else self.embedding.output_lengths(lengths)
        if self.time_channel:
            x = torch.cat((x, self._tau(x.shape[1], lengths, x).unsqueeze(-1)), dim=-1)
        return x, lengths

    def _drive(self, x: Tensor, lengths: Tensor | None) -> tuple[Tensor, Tensor | None]:
        """The drive at steps t >= 1, shape (N, T'-1, d'): differences
        ``e_t - e_{t-1}`` or values ``e_t`` of the (embedded, pooled) inputs
        ``e``; and its lengths.

        Drives past a series' end are zero, so padding (even inf or NaN)
        reaches neither the states nor the gradients.
        """
        x, lengths = self._inputs(x, lengths)
        drive = x[:, 1:] - x[:, :-1] if self.drive == "difference" else x[:, 1:]
        if lengths is None:
            return drive, None
        drive_lengths = (lengths - 1).clamp(min=0)
        valid = valid_mask(drive_lengths, drive.shape[1]).unsqueeze(-1)
        return torch.where(valid, drive, torch.zeros_like(drive)), drive_lengths

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
        drive, drive_lengths = self._drive(x, lengths)
        if self.state_clip is not None:
            return final_state_sequential(self.transition.operator(), self.drive_matrix(),
                                          drive, theta0, drive_lengths, clip=self.state_clip)
        if self.running_average:
            return self.transition.averaged_final_state(self.B, drive, theta0, drive_lengths,
                                                        method=method)
        return self.transition.final_state(self.drive_matrix(), drive, theta0, drive_lengths,
                                           method=method)

    def states(self, x: Tensor, lengths: Tensor | None = None,
               method: str = "auto") -> Tensor:
        """The whole trajectory ``theta_0 .. theta_{T'-1}``, shape (N, T', D),
        with ``T' = ceil(T / stride)`` (``T`` for ``stride=1``).

        Steps past a series' length hold that series' last state.
        """
        lengths = self._check_input(x, lengths, method, SCAN_METHODS)
        theta0 = self.initial_state(x[:, 0])
        drive, drive_lengths = self._drive(x, lengths)
        if drive.shape[1] == 0:
            return theta0.unsqueeze(1)
        if self.state_clip is not None:
            rest = scan_sequential(self.transition.operator(),
                                   drive @ self.drive_matrix().T, theta0,
                                   clip=self.state_clip)
        elif self.running_average:
            rest = self.transition.averaged_states(self.B, drive, theta0, method=method)
        else:
            rest = self.transition.states(self.drive_matrix(), drive, theta0, method=method)
        trajectory = torch.cat((theta0.unsqueeze(1), rest), dim=1)
        if lengths is not None:  # freeze after the last step (A would keep acting)
            index = torch.minimum(torch.arange(trajectory.shape[1], device=x.device),
                                  drive_lengths[:, None])
            trajectory = torch.gather(trajectory, 1,
                                      index.unsqueeze(-1).expand_as(trajectory))
        return trajectory

    # -- decoding ---------------------------------------------------------- #
    def decode(self, theta: Tensor, tau: Tensor, x: Tensor | None = None,
               features: Tensor | None = None) -> Tensor:
        """Outputs (..., n_outputs) for states ``theta`` (..., D) at times ``tau``
        (...); a physics prior also needs the observations ``x`` (..., d) there.
        ``features``: ``time_features(tau, n_frequencies)`` when the caller has
        them already (any shape that broadcasts with ``theta``'s leading ones)."""
        outputs = self._root_outputs(theta, tau, features)
        if self.physics is None:
            return outputs
        if x is None:
            raise ValueError("a network with a physics prior decodes from the current "
                             "observation too: pass x")
        n_params = self.physics.n_parameters
        prediction = self.physics(outputs[..., :n_params], tau, x)
        expected = (*outputs.shape[:-1], self.physics.n_outputs)
        if not isinstance(prediction, Tensor) or prediction.shape != expected:
            got = tuple(prediction.shape) if isinstance(prediction, Tensor) \
                else type(prediction).__name__
            raise ValueError(f"the physics prior {type(self.physics).__name__} returned "
                             f"{got}; expected shape {expected} (the leading dimensions "
                             f"of its inputs, then n_outputs={self.physics.n_outputs})")
        return torch.cat((prediction, outputs[..., n_params:]), dim=-1)

    def _root_outputs(self, theta: Tensor, tau: Tensor,
                      features: Tensor | None = None) -> Tensor:
        """Root network outputs for states ``theta`` (..., D) at times ``tau`` (...)."""
        if features is None:
            features = time_features(tau, self.n_frequencies)
        if self.root_precision == "float32":
            return self._root_fn()(theta, features)
        with torch.autocast(theta.device.type, dtype=torch.bfloat16):
            return self._root_fn()(theta, features).to(theta.dtype)

    def _root_fn(self) -> Callable[[Tensor, Tensor], Tensor]:
        if not self.compile_root:
            return self.root
        if "_compiled_root" not in self.__dict__:  # not a submodule: never saved
            self.__dict__["_compiled_root"] = torch.compile(self.root, dynamic=True)
        return self.__dict__["_compiled_root"]

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_compiled_root", None)
        return state

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                method: str = "auto") -> Tensor:
        """Outputs at each series' last step (``tau = 1``), shape (N, n_outputs)."""
        theta = self.final_state(x, lengths, method)
        last = None
        if self.physics is not None:
            steps = torch.full((x.shape[0],), x.shape[1], device=x.device) \
                if lengths is None else lengths.to(x.device)
            last = x[torch.arange(x.shape[0], device=x.device), steps - 1]
        return self.decode(theta, torch.ones(theta.shape[0], dtype=theta.dtype,
                                             device=theta.device), last)

    def forward_all(self, x: Tensor, lengths: Tensor | None = None,
                    method: str = "auto") -> Tensor:
        """Outputs at every step of the recurrence, shape (N, T', n_outputs)
        (see :meth:`states`)."""
        theta = self.states(x, lengths, method)
        if lengths is not None:
            lengths = self.step_lengths(check_lengths(lengths, x.shape[1], x.device))
        return self.decode(theta, self._tau(theta.shape[1], lengths, theta), x)

    # -- recurrent (autoregressive) mode ------------------------------------ #
    def _check_recurrent(self) -> None:
        """Recurrent mode takes one step per time point, embeds each step on its
        own and decodes at ``t / time_scale``."""
        if self.stride > 1:
            raise ValueError("recurrent (autoregressive) mode takes one step per time "
                             "point: it needs stride=1")
        if self.embedding is not None and (self.embedding.kernel_size != 1
                                           or self.embedding.norms is not None
                                           or self.embedding.pool != 1):
            raise ValueError("recurrent (autoregressive) mode supports only a pointwise "
                             "embedding: embedding_kernel=1, embedding_norm=False and "
                             "embedding_pool=1")
        if self.time_scale is None:
            raise ValueError("recurrent mode needs time_scale (tau of future steps)")
        if self.running_average:
            raise ValueError("recurrent (autoregressive) mode does not support "
                             "running_average: it needs running_average=False")

    def _recurrent_step(self) -> tuple[Callable[[Tensor], Tensor],
                                       Callable[[Tensor, Tensor, Tensor, int],
                                                tuple[Tensor, Tensor]]]:
        """``embed(x)``, the embedding of one step's inputs (N, d), and
        ``step(theta_t, e_t, x_next, t_next) -> (theta_{t+1}, e_{t+1})``: the
        next state from the state at ``t``, the embedded input at ``t`` and
        the input at ``t+1``, and the embedded input at ``t+1``, so each step
        is embedded once (``t_next = t + 1``: the time channel of a value
        drive is ``tau_{t+1}``). What every step shares (the transition's
        operator, the drive matrix, the embedding's weights) is built once,
        here, not at every step."""
        self._check_recurrent()
        operator = self.transition.operator()
        drive_t = self.drive_matrix().T
        # a kernel-1 Conv1d is a Linear on each step
        layers = [] if self.embedding is None else \
            [(conv.weight[..., 0], conv.bias) for conv in self.embedding.convs]

        def embed(x: Tensor) -> Tensor:
            for weight, bias in layers:
                x = torch.relu(nn.functional.linear(x, weight, bias))
            return x

        def step(theta: Tensor, e_prev: Tensor, x_next: Tensor,
                 t_next: int) -> tuple[Tensor, Tensor]:
            e_next = embed(x_next)
            drive = e_next - e_prev if self.drive == "difference" else e_next
            if self.time_channel:
                tau = (1 if self.drive == "difference" else t_next) / self.time_scale
                drive = torch.cat((drive, torch.full_like(drive[:, :1], tau)), dim=-1)
            theta = torch.addmm(operator.apply(theta), drive, drive_t)
            if self.state_clip is not None:
                theta = theta.clamp(-self.state_clip, self.state_clip)
            return theta, e_next

        return embed, step

    def _times(self, first: int, n_steps: int, n_series: int,
               like: Tensor) -> tuple[Tensor, Tensor]:
        """``tau`` (n_steps, n_series) of steps ``first .. first + n_steps - 1``
        and their time features (n_steps, 1 + 2 n_frequencies), computed once
        for a loop over those steps."""
        steps = torch.arange(first, first + n_steps, dtype=like.dtype, device=like.device)
        tau = steps / self.time_scale
        return tau.unsqueeze(1).expand(-1, n_series), time_features(tau, self.n_frequencies)

    def _decode_at(self, theta: Tensor, t: int, x_t: Tensor) -> Tensor:
        self._check_recurrent()
        tau = torch.full(theta.shape[:1], t / self.time_scale, dtype=theta.dtype,
                         device=theta.device)
        return self.decode(theta, tau, x_t)

    def rollout(self, theta: Tensor, x_last: Tensor, t_last: int, n_steps: int,
                next_input: Callable[[Tensor, Tensor], Tensor],
                known: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Generate ``n_steps`` steps autoregressively from state ``theta`` at step
        ``t_last`` whose input was ``x_last``.

        At each step the root output ``y_t`` is decoded, the next input is
        ``next_input(y_t, x_t)`` (a prediction's mean, or a sample), and the
        state advances with it. When ``next_input`` predicts only the first
        channels, the rest (exogenous inputs) come from ``known``
        (N, n_steps, d_known). Returns outputs (N, n_steps, n_outputs) and the
        inputs fed (N, n_steps, d).
        """
        embed, step = self._recurrent_step()
        taus, features = self._times(t_last, n_steps, theta.shape[0], theta)
        outputs, inputs = [], []
        x_t, e_t = x_last, embed(x_last)
        for k, t in enumerate(range(t_last, t_last + n_steps)):
            y_t = self.decode(theta, taus[k], x_t, features[k])
            x_next = next_input(y_t, x_t)
            if known is not None:
                x_next = torch.cat((x_next, known[:, k]), dim=-1)
            if k < n_steps - 1:  # the state after the last output is never decoded
                theta, e_t = step(theta, e_t, x_next, t + 1)
            outputs.append(y_t)
            inputs.append(x_next)
            x_t = x_next
        return torch.stack(outputs, dim=1), torch.stack(inputs, dim=1)

    def teacher_forced(self, x: Tensor, n_context: int, p_forcing: float,
                       next_input: Callable[[Tensor, Tensor], Tensor],
                       generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Outputs at steps ``0 .. T-2`` in recurrent mode, shape (N, T-1, n_outputs),
        and the inputs the model was fed at steps ``0 .. T-2`` (N, T-1, d).

        The first ``n_context`` inputs are the truth; after that each input is
        the truth with probability ``p_forcing`` and otherwise
        ``next_input(y_t, input_t)``, the model's own prediction. Channels that
        ``next_input`` does not predict (exogenous inputs) stay the truth.

        The context's states depend on the truth alone: they are one scan
        (:meth:`states`) and decoded at once, as in :meth:`forward_all`; only
        the steps after the context run one at a time. Every step after the
        context draws its coin flip from ``generator`` (the last one too,
        although its input is never fed), so the random streams are those of
        a loop over every step.
        """
        self._check_recurrent()
        n_series, n_out = x.shape[0], x.shape[1] - 1
        if n_out < 1:
            raise ValueError("teacher forcing needs series of at least 2 steps")
        n_forced = min(max(n_context, 1), n_out)  # outputs whose inputs are all the truth
        fed = x[:, :n_forced]
        theta = self.states(fed)
        taus, features = self._times(0, n_out, n_series, x)
        outputs = [self.decode(theta, taus[:n_forced].T, fed, features[:n_forced])]
        inputs = [fed]
        if n_context > n_out:  # every input is the truth, and no coin is flipped
            return outputs[0], fed
        embed, step = self._recurrent_step()
        theta, fed = theta[:, -1], fed[:, -1]
        y_t, e_t = outputs[0][:, -1], embed(fed)
        truth = x.unbind(1)
        looped_outputs, looped_inputs = [], []
        for t in range(n_forced - 1, n_out):
            if t >= n_forced:
                y_t = self.decode(theta, taus[t], fed, features[t])
                looped_outputs.append(y_t)
            keep = torch.rand(n_series, 1, generator=generator).to(x.device) < p_forcing
            predicted = next_input(y_t, fed)
            if t == n_out - 1:  # the input after the last output is never fed
                break
            x_next = truth[t + 1]
            n_pred = predicted.shape[-1]
            if n_pred < x_next.shape[-1]:  # the exogenous channels stay the truth
                predicted = torch.cat((predicted, x_next[:, n_pred:]), dim=-1)
            x_next = torch.where(keep, x_next, predicted)
            theta, e_t = step(theta, e_t, x_next, t + 1)
            fed = x_next
            looped_inputs.append(fed)
        if looped_outputs:
            outputs.append(torch.stack(looped_outputs, dim=1))
            inputs.append(torch.stack(looped_inputs, dim=1))
        return torch.cat(outputs, dim=1), torch.cat(inputs, dim=1)
