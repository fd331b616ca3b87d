"""Seconds per training step of the authors' JAX WARP, for ``benchmarks.step``.

Runs under a Python that has jax, equinox and optax (not skwarp's environment).
The model is the authors' ``WSM`` classifier, imported (``from models import
WSM``) from a checkout of github.com/ddrous/warp that must be on
``PYTHONPATH`` (``benchmarks.step`` puts its ``--warp-src`` there); none of
their code is vendored here, and ``--warp-src`` only names the checkout for its
commit. The training step is ours: cross-entropy of the last time step's
logits, ``eqx.filter_value_and_grad``, then gradient clipping and AdaBelief as
in the authors' UEA configurations (their plateau schedule, which only
rescales the update, is left out), jitted. Inputs are random (their values do
not change the cost). Prints one JSON line: the median seconds over
``--repeats`` steps after compilation and two warm-up steps, the model's state
size D, the jax version, the platform and the checkout's git commit (null when
it cannot be read).

    PYTHONPATH=../warp python -m benchmarks._jax_reference --warp-src ../warp \\
        --steps 100 --batch 40 --root-width 32 --root-depth 2 --channels 3 --classes 4
"""

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
import types


def stub_if_missing(*names: str) -> None:
    """Empty modules for plotting/metrics imports the model does not use."""
    if importlib.util.find_spec(names[0]) is not None:
        return

    def attribute(name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    for name in names:
        module = types.ModuleType(name)
        module.__getattr__ = attribute
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warp-src", required=True,
                        help="checkout of ddrous/warp, also on PYTHONPATH")
    for name, default in [("steps", 100), ("batch", 40), ("root-width", 32),
                          ("root-depth", 2), ("channels", 3), ("classes", 4),
                          ("repeats", 5)]:
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()

    if importlib.util.find_spec("models") is None:
        sys.exit(f"no module 'models' on PYTHONPATH: it must hold a checkout of "
                 f"ddrous/warp (e.g. PYTHONPATH={args.warp_src})")
    stub_if_missing("matplotlib", "matplotlib.pyplot")
    stub_if_missing("sklearn", "sklearn.metrics")
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import optax
    from models import WSM  # the authors' module, from the checkout

    key = jax.random.PRNGKey(0)
    model = WSM(args.channels, args.root_width, args.root_depth, activation="relu",
                final_activation=None, nb_classes=args.classes, init_state_layers=2,
                input_prev_data=False, predict_uncertainty=False, time_as_channel=False,
                forcing_prob=0.25, std_lower_bound=1e-4,
                autoregressive_train=False, stochastic_ar=False, smooth_inference=True,
                positional_encoding=None, key=key)
    n_state = int(model.As[0].shape[0])

    optimizer = optax.chain(optax.clip(1e-7), optax.adabelief(1e-5))
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))

    def loss(model, x, t, y, key):
        logits = model(x, t, key)[:, -1]
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @eqx.filter_jit
    def step(model, opt_state, x, t, y, key):
        value, grads = eqx.filter_value_and_grad(loss)(model, x, t, y, key)
        updates, opt_state = optimizer.update(grads, opt_state)
        return eqx.apply_updates(model, updates), opt_state, value

    kx, ky = jax.random.split(jax.random.PRNGKey(1))
    x = jax.random.uniform(kx, (args.batch, args.steps, args.channels), minval=-1.0)
    t = jnp.broadcast_to(jnp.linspace(0.0, 1.0, args.steps)[None, :, None],
                         (args.batch, args.steps, 1))
    y = jax.random.randint(ky, (args.batch,), 0, args.classes)

    for _ in range(3):  # compilation, then two warm-up steps
        model, opt_state, value = step(model, opt_state, x, t, y, key)
        jax.block_until_ready((model, opt_state, value))
    seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        model, opt_state, value = step(model, opt_state, x, t, y, key)
        jax.block_until_ready((model, opt_state, value))
        seconds.append(time.perf_counter() - start)

    try:
        commit = subprocess.run(["git", "-C", args.warp_src, "rev-parse", "HEAD"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    print(json.dumps({"seconds": statistics.median(seconds), "D": n_state,
                      "jax": jax.__version__, "platform": jax.devices()[0].platform,
                      "commit": commit or None}))


if __name__ == "__main__":
    main()
