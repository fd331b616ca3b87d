"""What skipping the masks of full-length mini-batches saves: WarpClassifier's
default fit with and without them, interleaved in one process.

A mini-batch whose series all fill it reaches the loss without lengths
(``skwarp._training._fills``), so no step is masked, and the embedding pool
(``skwarp.core.embedding.mean_pool_last``) then averages its windows without a
mask: the same values up to float rounding, fewer kernels. Two variants put
the earlier code back: "pool before" pools as commit a363df3 did (time in the
middle, so transposed copies, and a mask with its zeros and padded copy even
without lengths), "masked (before)" also replaces ``_fills`` with a function
that always says no. Each (dataset, variant) fits ``--repeats``
times, alternating; the table keeps the fastest. One torch thread.

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
    import skwarp.core.embedding as embedding
    from skwarp import WarpClassifier
    from skwarp.datasets import load_ts

    fills, pool = training._fills, embedding.mean_pool_last

    def pool_before(h, lengths, stride):  # (N, C, T), as at commit a363df3
        h = h.transpose(1, 2)
        n_series, n_steps, n_features = h.shape
        n_windows = embedding.pooled_steps(n_steps, stride)
        if lengths is None:
            lengths = torch.full((n_series,), n_steps, device=h.device)
        keep = embedding.valid_mask(lengths, n_windows * stride).unsqueeze(-1)
        h = torch.nn.functional.pad(h, (0, 0, 0, n_windows * stride - n_steps))
        h = torch.where(keep, h, torch.zeros_like(h))
        sums = h.reshape(n_series, n_windows, stride, n_features).sum(2)
        counts = keep.reshape(n_series, n_windows, stride).sum(2, keepdim=True)
        return (sums / counts.clamp(min=1).to(h.dtype)).transpose(1, 2)

    variants = {"unmasked (today)": (fills, pool), "pool before": (fills, pool_before),
                "masked (before)": (lambda batch: False, pool_before)}
    rows = []
    for name in args.datasets:
        X, y = load_ts(name, split="train")
        seconds = {variant: [] for variant in variants}
        for _ in range(args.repeats):
            for variant, (training._fills, embedding.mean_pool_last) in variants.items():
                clf = WarpClassifier(n_epochs=args.epochs, random_state=0)
                start = time.perf_counter()
                clf.fit(X, y)
                seconds[variant].append(time.perf_counter() - start)
        training._fills, embedding.mean_pool_last = fills, pool
        best = [min(seconds[v]) for v in variants]
        rows.append(f"| {name} | " + " | ".join(f"{b:.2f}" for b in best)
                    + f" | {best[0] / best[1]:.3f} | {best[0] / best[2]:.3f} |")
        print(rows[-1], flush=True)
    lines = ["# Full-length mini-batches without masks: WarpClassifier's fit", "",
             machine_header(), f"- command: `{command('unmasked_batches')}`",
             f"- defaults with n_epochs={args.epochs}, official training split, one torch "
             f"thread; fastest of {args.repeats} alternating fits per variant", "",
             "| dataset | unmasked (today) s | pool before s | masked (before) s | "
             "today / pool before | today / masked |", "|---|---|---|---|---|---|",
             *rows]
    write_report("unmasked_batches", lines)


if __name__ == "__main__":
    main()
