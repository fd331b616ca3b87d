"""In-context linear regression: WARP beside a parameter-matched GRU, several seeds.

The task and the models are those of ``examples/in_context_learning.py``
(copied here: nothing imports ``examples/``): every sequence is a new task
``y = w x + noise``, step ``t`` shows the query ``x_t`` beside the previous
answer ``y_{t-1}``, and the model answers ``x_t`` from the ``t`` pairs before
it, with no gradient step at test time. Rows:

* WARP (paper): no embedding, the recurrence reads the raw sequence;
* WARP: WarpClassifier's recipe: a causal conv embedding (kernel 2, 3
  layers, 32 channels) whose values drive a stable diagonal (LRU) transition,
  each state averaging the drive over the steps so far (``running_average``);
* WARP (average over 16 steps): the same, each state averaging the drive over
  the whole sequence (``reference_length``; the classifier's default before
  ``running_average``), so an early state is a small part of a sum;
* GRU: the widest with at most the embedded WARP's parameters;
* least squares on the pairs seen (the optimum, for reference).

Each seed draws its own training tasks, test tasks, initial weights and
batch order; every model trains with the same epochs, batches and optimiser.

    python -m benchmarks.in_context --seeds 3 4 5   # 20 epochs on 4,000 tasks
    python -m benchmarks.in_context --quick     # 1 seed, 2 epochs

Writes benchmarks/results/in_context.md and in_context.json.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from benchmarks._baselines import n_params
from benchmarks._harness import RESULTS, command, machine_header, markdown_table
from skwarp.core import PhysicsPrior, WarpNetwork
from skwarp.datasets import make_linear_regression_tasks

N_PAIRS, NOISE, N_EPOCHS = 16, 0.1, 20
N_TRAIN, N_TEST = 4000, 1000
REPORTED_PAIRS = (1, 4, 8, 15)
MODELS = ("WARP (paper)", "WARP", "WARP (average over 16 steps)", "GRU", "least squares")


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


def make_warp(embedding: bool = True, running_average: bool = True) -> WarpNetwork:
    """WARP whose root outputs the weight and bias of a linear model of the
    query; with ``embedding``, WarpClassifier's recipe (the module docstring)."""
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


def train(model, predict, X, y, n_epochs: int, seed: int) -> float:
    """Adam on the MSE of every step, batches of 64 shuffled by ``seed``; seconds."""
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


def run_seed(seed: int, n_epochs: int) -> dict[str, dict]:
    X, y, _ = make_linear_regression_tasks(N_TRAIN, N_PAIRS, noise=NOISE,
                                           random_state=seed)
    X_test, y_test, _ = make_linear_regression_tasks(N_TEST, N_PAIRS, noise=NOISE,
                                                     random_state=10_000 + seed)
    Xt, yt = (torch.tensor(a, dtype=torch.float32) for a in (X, y))
    Xs, ys = (torch.tensor(a, dtype=torch.float32) for a in (X_test, y_test))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        paper, warp = make_warp(embedding=False), make_warp()
        gru = matching_gru(n_params(warp))
        fixed = make_warp(running_average=False)  # WARP's start, compared side by side
        fixed.load_state_dict(warp.state_dict())
    models = {"WARP (paper)": (paper, lambda x: paper.forward_all(x)[..., 0]),
              "WARP": (warp, lambda x: warp.forward_all(x)[..., 0]),
              "WARP (average over 16 steps)": (fixed, lambda x: fixed.forward_all(x)[..., 0]),
              "GRU": (gru, gru)}
    results = {}
    for name, (model, predict) in models.items():
        seconds = train(model, predict, Xt, yt, n_epochs=n_epochs, seed=seed)
        with torch.no_grad():
            curve = (predict(Xs) - ys).square().mean(0).numpy()
        results[name] = {"curve": curve.tolist(), "params": n_params(model),
                         "fit_s": seconds}
        print(f"seed {seed} {name:13s} MSE at 15 pairs {curve[15]:.4f} "
              f"({n_params(model):,} parameters, {seconds:.0f} s)", flush=True)
    results["least squares"] = {"curve": least_squares_curve(X_test, y_test).tolist(),
                                "params": 0, "fit_s": 0.0}
    return results


def report(runs: dict[int, dict], args: argparse.Namespace, seconds: float) -> str:
    seeds = list(runs)
    lines = ["# In-context linear regression: WARP and a parameter-matched GRU", "",
             machine_header(),
             f"- command: `{command('in_context')}`",
             f"- {N_TRAIN:,} training tasks and {N_TEST:,} new test tasks per seed, "
             f"{N_PAIRS} steps each, noise {NOISE}; {args.epochs} epochs, batch 64, "
             f"Adam 1e-3, one torch thread; seeds {', '.join(map(str, seeds))}; whole run "
             f"{seconds / 60:.1f} min",
             "- query MSE on the test tasks after `k` pairs (no gradient step at test "
             "time): mean over seeds (min - max)", ""]
    table = []
    for name in MODELS:
        curves = np.array([runs[s][name]["curve"] for s in seeds])
        cells = [f"{curves[:, k].mean():.4f} ({curves[:, k].min():.4f} - "
                 f"{curves[:, k].max():.4f})" for k in REPORTED_PAIRS]
        params = runs[seeds[0]][name]["params"]
        fit = np.mean([runs[s][name]["fit_s"] for s in seeds])
        table.append([name, f"{params:,}", *cells, f"{fit:.0f}"])
    lines += markdown_table(
        ["model", "parameters", *(f"{k} pairs" for k in REPORTED_PAIRS), "fit s"], table)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args()
    args.seeds = args.seeds or ([0] if args.quick else [0, 1, 2])
    args.epochs = args.epochs or (2 if args.quick else N_EPOCHS)
    torch.set_num_threads(1)
    start = time.perf_counter()
    runs = {seed: run_seed(seed, args.epochs) for seed in args.seeds}
    text = report(runs, args, time.perf_counter() - start)
    print(text)
    suffix = "_quick" if args.quick else ""
    (RESULTS / f"in_context{suffix}.md").write_text(text)
    rows = [{"model": name, "seed": seed, "pairs": k, "query_mse": runs[seed][name]["curve"][k]}
            for seed in runs for name in MODELS for k in range(N_PAIRS)]
    (RESULTS / f"in_context{suffix}.json").write_text(json.dumps({"rows": rows}, indent=1))
    print(f"wrote {RESULTS / f'in_context{suffix}.md'}")


if __name__ == "__main__":
    main()
