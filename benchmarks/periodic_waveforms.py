"""Unequal lengths, many classes, amplitude that differs between classes:
WarpClassifier with and without ``series_norm`` beside MiniRocket, MR-Hydra
and QUANT on ``skwarp.datasets.make_periodic_waveforms``.

The panel has the traits of a dataset on which the defaults once underfit
(537 training series of 100 to 1,344 points, 11 classes); train and test sets
are drawn with different seeds from the same class templates. WarpClassifier
rows share ``--warp-params`` (a short budget by default: the question is
whether a network fits such data at all); the peers pad each series with its
last value to the longest length (they need equal lengths). MR-Hydra and
QUANT need ``aeon`` (the ``benchmark`` extra) and are skipped without it.

    python -m benchmarks.periodic_waveforms                 # about 10 minutes
    python -m benchmarks.periodic_waveforms --quick         # smoke test

Writes benchmarks/results/periodic_waveforms.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from benchmarks._harness import RESULTS, command, machine_header, markdown_table, write_report  # noqa: E402

WARP_PARAMS = {"n_networks": 1, "n_epochs": 20}


def padded(X: list, length: int) -> np.ndarray:
    """(n, 1, length): each series followed by its last value."""
    out = np.empty((len(X), 1, length))
    for i, frame in enumerate(X):
        values = frame.to_numpy()[:, 0]
        out[i, 0, :len(values)], out[i, 0, len(values):] = values, values[-1]
    return out


def make_model(name: str, warp_params: dict, random_state: int = 0):
    if name.startswith("WarpClassifier"):
        from skwarp import WarpClassifier

        series_norm = "series_norm=False" not in name
        return WarpClassifier(random_state=random_state, n_threads=1,
                              **{**warp_params, "series_norm": series_norm})
    if name == "MiniRocket":
        from sktime.classification.kernel_based import RocketClassifier

        return RocketClassifier(rocket_transform="minirocket", random_state=0)
    from aeon.classification.convolution_based import MultiRocketHydraClassifier
    from aeon.classification.interval_based import QUANTClassifier

    kind = {"MR-Hydra": MultiRocketHydraClassifier, "QUANT": QUANTClassifier}[name]
    return kind(random_state=0)


def run(name: str, data: tuple, warp_params: dict, random_state: int = 0) -> dict:
    X_train, y_train, X_test, y_test = data
    if not name.startswith("WarpClassifier"):
        length = max(len(x) for x in X_train + X_test)
        X_train, X_test = padded(X_train, length), padded(X_test, length)
    model = make_model(name, warp_params, random_state)
    start = time.perf_counter()
    model.fit(X_train, y_train)
    fit_s = time.perf_counter() - start
    row = {"model": name, "fit_s": fit_s,
           "test_accuracy": float(np.mean(model.predict(X_test) == y_test)),
           "train_accuracy": float(np.mean(model.predict(X_train) == y_train))}
    if name.startswith("WarpClassifier"):
        row["train_loss"] = [model.history_["train_loss"][0], model.history_["train_loss"][-1]]
    print(row, flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warp-params", type=json.loads, default=WARP_PARAMS)
    parser.add_argument("--amplitude-range", type=float, default=1000.0)
    parser.add_argument("--models", nargs="+", default=[
        "WarpClassifier (series_norm=False)", "WarpClassifier", "MiniRocket", "MR-Hydra",
        "QUANT"])
    parser.add_argument("--random-state", type=int, default=0,
                        help="WarpClassifier's random_state (the data stay the same)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    import torch

    from skwarp.datasets import make_periodic_waveforms

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    n_train, n_test = (60, 60) if args.quick else (537, 537)
    if args.quick:
        args.warp_params = {**args.warp_params, "n_epochs": 2}
    X_train, y_train = make_periodic_waveforms(n_train, amplitude_range=args.amplitude_range,
                                               random_state=0)
    X_test, y_test = make_periodic_waveforms(n_test, amplitude_range=args.amplitude_range,
                                             random_state=1)
    rows = []
    for name in args.models:
        try:
            rows.append(run(name, (X_train, y_train, X_test, y_test), args.warp_params,
                            args.random_state))
        except ImportError as error:
            print(f"skipped {name}: {error}")
    lines = ["# Periodic waveforms: unequal lengths, 11 classes, amplitudes over "
             f"{args.amplitude_range:,.0f}x", "", machine_header(),
             f"- command: `{command('periodic_waveforms')}`",
             f"- `make_periodic_waveforms`: {n_train} training series (random_state 0), "
             f"{n_test} test series (random_state 1), lengths 100-1,344; one thread each",
             f"- WarpClassifier rows: `{json.dumps(args.warp_params)}` on top of the defaults; "
             "peers: each series padded with its last value",
             "- fit seconds as a user sees them: MiniRocket's and MR-Hydra's include "
             "compiling their numba kernels (their first fit in the process)", ""]
    lines += markdown_table(
        ["model", "test accuracy", "train accuracy", "first -> last training loss", "fit s"],
        [[r["model"], f"{r['test_accuracy']:.3f}", f"{r['train_accuracy']:.3f}",
          "{:.2f} -> {:.2f}".format(*r["train_loss"]) if "train_loss" in r else "-",
          f"{r['fit_s']:.0f}"] for r in rows])
    print("\n".join(lines))
    write_report("periodic_waveforms", lines, args.quick)
    if not args.quick:
        (RESULTS / "periodic_waveforms.json").write_text(json.dumps({"rows": rows}, indent=1))


if __name__ == "__main__":
    main()
