"""In-context learning: WARP answers regression queries from its context alone.

    python examples/in_context_learning.py         # table; a plot with matplotlib

Every sequence is a new task ``y = w x + noise`` (``w`` random): step ``t``
shows the query ``x_t`` beside the previous answer ``y_{t-1}``
(:func:`skwarp.datasets.make_linear_regression_tasks`). WARP reads the
sequence with its linear recurrence over the root network's weights; the root
outputs the weight and bias of a linear model of the query (a three-line
physics prior), so at step ``t`` it answers ``x_t`` from the ``t`` pairs seen
so far. A small causal convolution (kernel 2) embeds the sequence first: its
ReLU features of ``(x_{t-1}, y_{t-1})`` let the linear recurrence average
products such as ``x y``, which estimating ``w`` needs and which a linear
recurrence over the raw sequence cannot form. The states average the pairs
seen so far (``running_average``), so the root reads means such as that of
``x y`` at every step rather than sums that grow with ``t`` (the root, a
function of the weights it is given, cannot divide by ``t``). After
training on random tasks, it is scored on new tasks with no gradient step:
the error falls as pairs arrive. Beside it: a GRU with about as many
parameters, trained the same way, and least squares on the pairs seen (the
optimum for this task).
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

from skwarp.core import PhysicsPrior, WarpNetwork
from skwarp.datasets import make_linear_regression_tasks

N_PAIRS, NOISE, N_EPOCHS = 16, 0.1, 20


def linear_readout(params, tau, x):
    """The root's outputs are the weight and bias of a linear model of the query."""
    return params[..., :1] * x[..., :1] + params[..., 1:2]


class GRURegressor(torch.nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.gru = torch.nn.GRU(2, hidden, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.gru(x)[0])[..., 0]


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def make_warp(embedding: bool = True, running_average: bool = True) -> WarpNetwork:
    """WARP with the linear readout. With ``embedding`` (WarpClassifier's
    recipe): a causal conv embedding (3 layers of kernel 2) whose values drive
    a stable diagonal transition that averages them over the steps so far
    (``running_average``; False: over the whole sequence of ``N_PAIRS``
    steps, so early states are small). Without: the paper's WARP (dense ``A``
    from the identity, differences of the raw sequence as the drive)."""
    kwargs = dict(embedding="conv", embedding_kernel=2, causal_embedding=True,
                  embedding_width=32, embedding_layers=3, drive="value", transition="lru",
                  reference_length=N_PAIRS,
                  running_average=running_average) if embedding else {}
    return WarpNetwork(2, 1, root_width=16, n_frequencies=1, time_scale=N_PAIRS - 1,
                       physics=PhysicsPrior(linear_readout, n_parameters=2, n_outputs=1),
                       **kwargs)


def matching_gru(n_target: int) -> GRURegressor:
    """The widest GRU with at most ``n_target`` parameters."""
    hidden = 8
    while n_params(GRURegressor(hidden + 1)) <= n_target:
        hidden += 1
    return GRURegressor(hidden)


def train(model, predict, X, y, n_epochs: int = N_EPOCHS, seed: int = 0) -> float:
    """Adam on the MSE of every step, batches of 64 shuffled by ``seed``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(n_epochs):
        for index in torch.randperm(len(X), generator=generator).split(64):
            loss = (predict(X[index]) - y[index]).square().mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    return time.perf_counter() - start


def least_squares_curve(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MSE at each step of the minimum-norm least-squares fit to the pairs before it."""
    errors = np.empty_like(y)
    for task in range(len(X)):
        x = X[task, :, :-1]
        for t in range(N_PAIRS):
            w = np.linalg.pinv(x[:t]) @ y[task, :t] if t else np.zeros(x.shape[1])
            errors[task, t] = (x[t] @ w - y[task, t]) ** 2
    return errors.mean(axis=0)


def main(n_epochs: int = N_EPOCHS) -> None:
    torch.set_num_threads(1)
    X, y, _ = make_linear_regression_tasks(4000, N_PAIRS, noise=NOISE, random_state=0)
    X_test, y_test, _ = make_linear_regression_tasks(1000, N_PAIRS, noise=NOISE,
                                                     random_state=1)
    X, y, Xt, yt = (torch.tensor(a, dtype=torch.float32) for a in (X, y, X_test, y_test))

    with torch.random.fork_rng(devices=[]):  # seeded here, global RNG left as it was
        torch.manual_seed(0)
        warp = make_warp()
        gru = matching_gru(n_params(warp))

    def warp_predict(x):
        return warp.forward_all(x)[..., 0]

    warp_time = train(warp, warp_predict, X, y, n_epochs)
    gru_time = train(gru, gru, X, y, n_epochs)

    frozen = copy.deepcopy(warp.state_dict())
    with torch.no_grad():  # test time: no gradient, no parameter update
        curves = {"WARP": (warp_predict(Xt) - yt).square().mean(0).numpy(),
                  "GRU": (gru(Xt) - yt).square().mean(0).numpy()}
    assert all(torch.equal(frozen[k], v) for k, v in warp.state_dict().items())
    curves["least squares"] = least_squares_curve(X_test, y_test)

    print(f"WARP {n_params(warp):,} parameters (fit {warp_time:.0f} s), GRU hidden "
          f"{gru.gru.hidden_size} {n_params(gru):,} parameters (fit {gru_time:.0f} s); "
          f"{n_epochs} epochs on 4000 tasks, noise {NOISE}; test on 1000 new tasks")
    print("context pairs | " + " | ".join(curves))
    for t in range(N_PAIRS):
        print(f"{t:13d} | " + " | ".join(f"{c[t]:.3f}" for c in curves.values()))
    _plot(curves)


def _plot(curves: dict) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("pip install matplotlib for the plot")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in curves.items():
        ax.plot(np.arange(N_PAIRS), curve, marker="o", label=name)
    ax.set(xlabel="(x, y) pairs in the context", ylabel="query MSE", yscale="log",
           title="In-context linear regression, no gradient step at test time")
    ax.legend()
    fig.tight_layout()
    fig.savefig("in_context_learning.png", dpi=120)
    print("wrote in_context_learning.png")


if __name__ == "__main__":
    main()
