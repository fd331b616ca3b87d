"""Structured transitions at scale: solver time and memory against D and T,
training at D = 10,000 and on the EigenWorms shape, and accuracy per structure.

Every case runs in a fresh subprocess so that one case's memory never hides
another's.

    python -m benchmarks.scale            # the full tables (about 30 minutes on 2 cores)
    python -m benchmarks.scale --quick    # small sizes, a smoke test
    python -m benchmarks.scale --only solver,train   # some sections

Writes benchmarks/results/scale.md (scale_quick.md with --quick).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks._harness import RESULTS, machine_header, run_case
from benchmarks._measure import max_rss_bytes, time_and_peak

STRUCTURES = ("dense", "diagonal", "complex", "blockdiag", "lowrank")
RANK, BLOCK = 8, 16
N_SERIES, N_CHANNELS = 8, 6
MB = 2**20


# --------------------------------------------------------------------------- #
# cases (each runs in its own interpreter)
# --------------------------------------------------------------------------- #
def solver_case(structure: str, n_state: int, n_steps: int, task: str, method: str,
                threads: int) -> dict:
    """Forward + backward of the final state (task "final") or of every state
    (task "all") of one transition, on random inputs."""
    import torch

    from skwarp.core.transitions import make_transition

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    transition = make_transition(structure, n_state, rank=RANK, block_size=BLOCK)
    with torch.no_grad():  # away from the identity, radius below 1
        for p in transition.parameters():
            p.mul_(0.999).add_(1e-3 * torch.randn_like(p) / max(1, p.shape[-1]) ** 0.5)
    B = (0.1 * torch.randn(n_state, N_CHANNELS)).requires_grad_()
    h0 = torch.randn(N_SERIES, n_state).requires_grad_()
    v = torch.randn(N_SERIES, n_steps, N_CHANNELS)

    def run():
        if task == "final":
            out = transition.final_state(B, v, h0, method=method)
        else:
            out = transition.states(B, v, h0, method=method)
        out.square().mean().backward()

    def drop_grads():
        for t in (B, h0, *transition.parameters()):
            t.grad = None

    seconds, peak = time_and_peak(run, reset=drop_grads)
    return {"seconds": seconds, "peak_mb": peak / MB}


def train_case(structure: str, n_series: int, n_channels: int, n_steps: int,
               n_classes: int, root_width: int, initial_state: str, threads: int,
               n_epochs: int = 1, options: dict | None = None) -> dict:
    """``n_epochs`` of WarpClassifier on random walks of the given shape."""
    import numpy as np

    from skwarp import WarpClassifier

    rng = np.random.default_rng(0)
    X = (0.1 * rng.standard_normal((n_series, n_channels, n_steps),
                                   dtype=np.float32)).cumsum(-1)
    y = np.arange(n_series) % n_classes
    clf = WarpClassifier(root_width=root_width, transition=structure,
                         transition_rank=RANK, transition_block=BLOCK,
                         initial_state=initial_state, n_epochs=n_epochs, batch_size=8,
                         input_noise=0.0, device="cpu", n_threads=threads, random_state=0,
                         **(options or {}))
    start = time.perf_counter()
    clf.fit(X, y)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    finite = bool(np.isfinite(clf.predict_proba(X[:16])).all())
    return {"fit_seconds": fit_seconds, "predict16_seconds": time.perf_counter() - start,
            "peak_rss_mb": max_rss_bytes() / MB, "n_params": clf.network_.n_params,
            "n_weights": sum(p.numel() for p in clf.network_.parameters()),
            "finite": finite}


def accuracy_case(structure: str, dataset: str, seed: int, quick: bool,
                  threads: int) -> dict:
    """Test accuracy of WarpClassifier with default settings but ``structure``."""
    from skwarp import WarpClassifier

    X, y, X_test, y_test, params = _dataset(dataset, quick)
    clf = WarpClassifier(transition=structure, transition_rank=RANK,
                         transition_block=BLOCK, random_state=seed, n_threads=threads,
                         device="cpu", **params)
    start = time.perf_counter()
    clf.fit(X, y)
    fit_seconds = time.perf_counter() - start
    return {"accuracy": float(clf.score(X_test, y_test)), "fit_seconds": fit_seconds,
            "peak_rss_mb": max_rss_bytes() / MB}


def _dataset(name: str, quick: bool):
    from sktime.datasets import load_basic_motions, load_japanese_vowels

    if name == "BasicMotions":
        X, y = load_basic_motions(split="train", return_type="numpy3D")
        X_test, y_test = load_basic_motions(split="test", return_type="numpy3D")
        return X, y, X_test, y_test, {"n_epochs": 10} if quick else {}
    if name == "JapaneseVowels":
        X, y = load_japanese_vowels(split="train", return_type="nested_univ")
        X_test, y_test = load_japanese_vowels(split="test", return_type="nested_univ")
        return X, y, X_test, y_test, {"n_epochs": 5} if quick else {}
    from skwarp.datasets import make_long_range_events

    n_steps = 1024 if quick else 16_384
    X, y = make_long_range_events(n_series=200, n_timepoints=n_steps, random_state=0)
    X_test, y_test = make_long_range_events(n_series=200, n_timepoints=n_steps,
                                            random_state=1)
    return X, y, X_test, y_test, {"n_epochs": 2 if quick else LONG_RANGE_EPOCHS}


LONG_RANGE_EPOCHS = 10
CASES = {"solver": solver_case, "train": train_case, "accuracy": accuracy_case}


# --------------------------------------------------------------------------- #
# sections
# --------------------------------------------------------------------------- #
def solver_section(quick: bool, threads: int) -> list[str]:
    states = [64, 256] if quick else [512, 2048, 10_000]
    lengths = [256, 1024] if quick else [2048, 16_384]
    rows = ["| structure | D | T | auto: s | auto: peak MB | loop: s | loop: peak MB "
            "| loop / auto |", "|---|---|---|---|---|---|---|---|"]
    for structure in STRUCTURES:
        for n_state in states:
            for n_steps in lengths:
                if structure == "dense" and n_state > 2048:
                    rows.append(f"| dense | {n_state} | {n_steps} | not run: A alone is "
                                f"{n_state**2 * 4 / MB:.0f} MB and each squaring "
                                f"{n_state**3:.0e} multiply-adds | | | | |")
                    continue
                case = {"structure": structure, "n_state": n_state, "n_steps": n_steps,
                        "task": "final", "threads": threads}
                auto = _run("solver", method="auto", **case)
                affordable = structure != "dense" or n_state <= 512
                loop = (_run("solver", method="sequential", **case)
                        if n_steps == lengths[0] and affordable else None)
                loop_cells = (f"{loop['seconds']:.3f} | {loop['peak_mb']:.0f} | "
                              f"{loop['seconds'] / auto['seconds']:.1f}x"
                              if loop else "| |")
                rows.append(f"| {structure} | {n_state} | {n_steps} | {auto['seconds']:.3f} "
                            f"| {auto['peak_mb']:.0f} | {loop_cells} |")
                print(rows[-1], flush=True)
    all_rows = ["| structure | D | T | parallel: s | parallel: peak MB | loop: s "
                "| loop: peak MB | loop / parallel |", "|---|---|---|---|---|---|---|---|"]
    n_state, n_steps = (64, 256) if quick else (512, 2048)
    for structure in STRUCTURES:
        case = {"structure": structure, "n_state": n_state, "n_steps": n_steps,
                "task": "all", "threads": threads}
        par = _run("solver", method="parallel", **case)
        loop = _run("solver", method="sequential", **case)
        all_rows.append(f"| {structure} | {n_state} | {n_steps} | {par['seconds']:.3f} | "
                        f"{par['peak_mb']:.0f} | {loop['seconds']:.3f} | "
                        f"{loop['peak_mb']:.0f} | {loop['seconds'] / par['seconds']:.1f}x |")
        print(all_rows[-1], flush=True)
    return [
        "## Solvers: time and peak memory against D and T", "",
        f"Final state, forward + backward, N={N_SERIES} series, d={N_CHANNELS} channels, "
        f"float32, {threads} torch thread(s); lowrank rank {RANK}, blockdiag blocks of "
        f"{BLOCK}. `auto` is the solver the estimators use (the chunked kernel for these "
        "sizes; lowrank runs its rank-r reduction); `loop` is the sequential loop with "
        "autograd, run at the shorter T only (and not for dense D > 512). Peak MB: growth "
        "of the resident set over a first call, sampled every millisecond; seconds: "
        "best of up to 3 further calls without the sampler (fewer when they take over "
        "3 s).", "", *rows, "",
        "Every state (the trajectory, for `decoding=\"mean\"` and forecasting), forward "
        "+ backward, parallel odd-even scan against the loop:", "", *all_rows, ""]


def train_section(quick: bool, threads: int) -> list[str]:
    big = {"n_series": 32, "n_channels": 3, "n_steps": 256 if quick else 2048,
           "n_classes": 2, "root_width": 83 if quick else 834}
    worms = {"n_series": 259 if not quick else 32, "n_channels": 6,
             "n_steps": 1024 if quick else 17_984, "n_classes": 5, "root_width": 32}
    runs = [(f"D={'1,000' if quick else '10,000'}, T={big['n_steps']}", s, big, "mlp")
            for s in STRUCTURES if s != "dense"]
    runs.append((runs[0][0], "diagonal", big, "learned"))
    runs += [(f"EigenWorms shape {worms['n_series']}x{worms['n_channels']}x"
              f"{worms['n_steps']}", s, worms, "mlp") for s in STRUCTURES]
    rows = ["| problem | structure | phi | D | weights | 1 epoch: s | predict 16: s | "
            "peak RSS MB | finite |", "|---|---|---|---|---|---|---|---|---|"]
    for problem, structure, shape, init in runs:
        r = _run("train", structure=structure, initial_state=init, threads=threads, **shape)
        rows.append(f"| {problem} | {structure} | {init} | {r['n_params']:,} | "
                    f"{r['n_weights']:,} | {r['fit_seconds']:.1f} | "
                    f"{r['predict16_seconds']:.2f} | {r['peak_rss_mb']:.0f} | "
                    f"{r['finite']} |")
        print(rows[-1], flush=True)
    return [
        "## Training at scale", "",
        f"One epoch of `WarpClassifier` (batch 8, {threads} torch threads, CPU) on random "
        "walks of the given shape, then predict_proba on 16 series. `phi`: the "
        "initial-state network, `mlp` (the default, hidden widths interpolating to D: "
        "most of the weights at D = 10,000) or `learned` (one vector). Peak RSS is the "
        "whole process's high-water mark (Python, torch and the data included).", "",
        "Dense at D = 10,000 is not run: A alone would hold 10^8 weights (400 MB, 1.6 GB "
        "with its gradient and Adam's moments) and every squaring in the kernel path "
        "costs 10^12 multiply-adds.", "", *rows, ""]


def accuracy_section(quick: bool, threads: int) -> list[str]:
    datasets = ["BasicMotions", "JapaneseVowels", "LongRange"]
    rows = ["| dataset | " + " | ".join(STRUCTURES) + " |",
            "|---|" + "---|" * len(STRUCTURES)]
    times = rows[:2]
    for dataset in datasets:
        cells, fit_cells = [], []
        for structure in STRUCTURES:
            r = _run("accuracy", structure=structure, dataset=dataset, seed=0,
                     quick=quick, threads=threads)
            cells.append(f"{r['accuracy']:.3f}")
            fit_cells.append(f"{r['fit_seconds']:.0f}")
            print(dataset, structure, r, flush=True)
        rows.append(f"| {dataset} | " + " | ".join(cells) + " |")
        times = [*times, f"| {dataset} | " + " | ".join(fit_cells) + " |"]
    return [
        "## Accuracy per structure", "",
        "Test accuracy of `WarpClassifier` with its defaults except `transition` "
        f"(random_state=0, one run each). LongRange: `skwarp.datasets."
        f"make_long_range_events`, 200 training and 200 test series of 6 channels and "
        f"{1024 if quick else 16_384} steps, {2 if quick else LONG_RANGE_EPOCHS} epochs.",
        "", *rows, "", "Fit time (seconds):", "", *times, ""]


def precision_section(quick: bool, threads: int) -> list[str]:
    shape = {"n_series": 64, "n_channels": 6, "n_steps": 128 if quick else 512,
             "n_classes": 4, "root_width": 64, "initial_state": "mlp", "threads": threads,
             "n_epochs": 3}
    variants = {"float32": {}, "bf16 root": {"root_precision": "bfloat16"},
                "compiled root": {"compile_root": True}}
    rows = ["| decoding | root | 3 epochs: s | vs float32 |", "|---|---|---|---|"]
    for decoding in ("last", "mean"):
        base = None
        for name, options in variants.items():
            r = _run("train", structure="dense", options={"decoding": decoding, **options},
                     **shape)
            base = base or r["fit_seconds"]
            rows.append(f"| {decoding} | {name} | {r['fit_seconds']:.1f} | "
                        f"{base / r['fit_seconds']:.2f}x |")
            print(rows[-1], flush=True)
    return [
        "## Root-network precision and torch.compile (CPU)", "",
        f"`WarpClassifier(root_width=64)`, 3 epochs on {shape['n_series']} random walks "
        f"of 6 channels and {shape['n_steps']} steps, dense A, {threads} threads. "
        "`decoding=\"mean\"` evaluates the root network at every step, so the root's "
        "share of the work is largest there. The compiled time includes compilation. "
        "No GPU was available to this benchmark; on a CPU, bf16 autocast mostly adds "
        "casts.", "", *rows, ""]


SECTIONS = {"solver": solver_section, "train": train_section, "accuracy": accuracy_section,
            "precision": precision_section}


def _run(kind: str, **case) -> dict:
    return run_case("benchmarks.scale", {"kind": kind, **case})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        case = json.loads(args.case)
        print(json.dumps(CASES[case.pop("kind")](**case)))
        return
    path = RESULTS / ("scale_quick.md" if args.quick else "scale.md")
    sections = _read_sections(path)
    for name in args.only.split(","):
        start = time.perf_counter()
        lines = SECTIONS[name](args.quick, args.threads)
        minutes = (time.perf_counter() - start) / 60
        command = f"python -m benchmarks.scale{' --quick' if args.quick else ''} --only {name}"
        sections[name] = [lines[0], "", *_header(command, minutes), *lines[1:]]
        _write(path, sections)  # after every section: a late failure loses nothing


def _header(command: str, minutes: float) -> list[str]:
    return [machine_header(), f"- command: `{command}` ({minutes:.0f} minutes)"]


def _read_sections(path: Path) -> dict[str, list[str]]:
    """Sections of an earlier scale.md, so one section can be re-measured alone."""
    if not path.exists():
        return {}
    sections: dict[str, list[str]] = {}
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("## "):
            current = next((n for n, t in SECTION_TITLES.items() if line == t), None)
            if current:
                sections[current] = []
        if current:
            sections[current].append(line)
    return sections


SECTION_TITLES = {
    "solver": "## Solvers: time and peak memory against D and T",
    "train": "## Training at scale",
    "accuracy": "## Accuracy per structure",
    "precision": "## Root-network precision and torch.compile (CPU)",
}


def _write(path: Path, sections: dict[str, list[str]]) -> None:
    lines = ["# Scale: structured transitions, long sequences, big roots", "",
             "Each section was measured by its own run, named under its title.", ""]
    for name in SECTIONS:
        if name in sections:
            lines += sections[name]
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
