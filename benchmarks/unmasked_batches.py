"""What skipping the masks of full-length mini-batches saves: WarpClassifier's
default fit with and without it, interleaved in one process.

A mini-batch whose series all fill it reaches the loss without lengths
(``skwarp._training._fills``), so no step is masked: the same values up to
float rounding, fewer kernels. The "masked" variant forces the old path by
replacing ``_fills`` with a function that always says no. Each (dataset,
variant) fits ``--repeats`` times, alternating; the table keeps the fastest.
One torch thread.

    python -m benchmarks.unmasked_batches
    python -m benchmarks.unmasked_batches --datasets GunPoint --epochs 2   # smoke

Writes benchmarks/results/unmasked_batches.md.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from benchmarks._report import command, machine_header, write_report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["GunPoint", "ArrowHead", "ACSF1"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    import skwarp._training as training
    from skwarp import WarpClassifier
    from skwarp.datasets import load_ts

    unmasked = training._fills
    variants = {"unmasked (today)": unmasked, "masked (before)": lambda batch: False}
    rows = []
    for name in args.datasets:
        X, y = load_ts(name, split="train")
        seconds = {variant: [] for variant in variants}
        for _ in range(args.repeats):
            for variant, fills in variants.items():
                training._fills = fills
                clf = WarpClassifier(n_epochs=args.epochs, random_state=0)
                start = time.perf_counter()
                clf.fit(X, y)
                seconds[variant].append(time.perf_counter() - start)
        training._fills = unmasked
        new, old = (min(seconds[v]) for v in variants)
        rows.append(f"| {name} | {new:.2f} | {old:.2f} | {new / old:.3f} |")
        print(rows[-1], flush=True)
    lines = ["# Full-length mini-batches without masks: WarpClassifier's fit", "",
             machine_header(), f"- command: `{command('unmasked_batches')}`",
             f"- defaults with n_epochs={args.epochs}, official training split, one torch "
             f"thread; fastest of {args.repeats} alternating fits per variant", "",
             "| dataset | unmasked (today) s | masked (before) s | ratio |", "|---|---|---|---|",
             *rows]
    write_report("unmasked_batches", lines)


if __name__ == "__main__":
    main()
