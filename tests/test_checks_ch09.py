"""The corpus of Chapter 9's checkers: right answers written several ways, common slips named."""

import os
import subprocess
import sys
import textwrap
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch09


def power(x, n):
    result = jnp.ones_like(x)
    for _ in range(n):
        result = result * x
    return result


def power_fori(x, n):
    return jax.lax.fori_loop(0, n, lambda i, r: r * x, jnp.ones_like(x))


def one_too_many(x, n):
    return power(x, n) * x


def example_loss(w, x_i, y_i):
    z = x_i @ w
    return jax.nn.softplus(z) - y_i * z


per_example = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))


def formula(w, X, y):
    return (jax.nn.sigmoid(X @ w) - y)[:, None] * X


def mse(b, X, y):
    return jnp.mean((X @ b - y) ** 2)


def momentum(b, X, y, lr, beta, num_steps, dampened=False, after=False, old_velocity=False, carry="tuple"):
    def body(state, _):
        b, v = (state["b"], state["v"]) if carry == "dict" else state
        value, grad = jax.value_and_grad(mse)(b, X, y)
        v_new = beta * v + ((1 - beta) * grad if dampened else grad)
        b_new = b - lr * (v if old_velocity else v_new)
        new = {"b": b_new, "v": v_new} if carry == "dict" else (b_new, v_new)
        return new, (mse(b_new, X, y) if after else value)

    start = {"b": b, "v": jnp.zeros_like(b)} if carry == "dict" else (b, jnp.zeros_like(b))
    final, losses = jax.lax.scan(body, start, length=num_steps)
    return (final["b"] if carry == "dict" else final[0]), losses


def momentum_optax(b, X, y, lr, beta, num_steps):
    tx = optax.sgd(lr, momentum=beta)

    def body(state, _):
        b, opt_state = state
        value, grad = jax.value_and_grad(mse)(b, X, y)
        updates, opt_state = tx.update(grad, opt_state)
        return (optax.apply_updates(b, updates), opt_state), value

    (b, _), losses = jax.lax.scan(body, (b, tx.init(b)), length=num_steps)
    return b, losses


def plain_gd(b, X, y, lr, beta, num_steps):
    def body(b, _):
        value, grad = jax.value_and_grad(mse)(b, X, y)
        return b - lr * grad, value

    return jax.lax.scan(body, b, length=num_steps)


MOMENTUM_STATIC = ("num_steps", "dampened", "after", "old_velocity", "carry")

CORPUS = {
    "check_static_power": [
        right(ch09.check_static_power, jax.jit(power, static_argnames="n")),
        right(ch09.check_static_power, jax.jit(power, static_argnums=1)),
        right(ch09.check_static_power, partial(jax.jit, static_argnames=("n",))(lambda x, n: x**n)),
        right(ch09.check_static_power, jax.jit(power_fori, static_argnames="n")),
        wrong(ch09.check_static_power, jax.jit(lambda x, n: x**n), "n is traced, not static"),
        wrong(ch09.check_static_power, jax.jit(power_fori), "n is traced, not static"),
        wrong(ch09.check_static_power, jax.jit(power), "range(n) has no value"),
        wrong(ch09.check_static_power, power, "not jitted"),
        wrong(ch09.check_static_power, jax.jit(one_too_many, static_argnames="n"), "one multiplication too many"),
    ],
    "check_per_example_grads": [
        right(ch09.check_per_example_grads, per_example),
        right(ch09.check_per_example_grads, formula),
        right(ch09.check_per_example_grads, jax.jit(per_example)),
        right(
            ch09.check_per_example_grads,
            lambda w, X, y: np.stack([np.asarray(jax.grad(example_loss)(w, X[i], y[i])) for i in range(len(y))]),
        ),
        wrong(ch09.check_per_example_grads, lambda w, X, y: formula(w, X, y).T, "one row per example"),
        wrong(
            ch09.check_per_example_grads,
            lambda w, X, y: formula(w, X, y).sum(axis=0),
            "sum of the per-example gradients",
        ),
        wrong(ch09.check_per_example_grads, lambda w, X, y: formula(w, X, y).mean(axis=0), "mean gradient"),
        wrong(ch09.check_per_example_grads, lambda w, X, y: jax.nn.sigmoid(X @ w)[:, None] * X, "- y_i z_i"),
        wrong(ch09.check_per_example_grads, lambda w, X, y: -formula(w, X, y), "wrong sign"),
        wrong(
            ch09.check_per_example_grads,
            jax.vmap(jax.grad(example_loss, argnums=1), in_axes=(None, 0, 0)),
            "with respect to x_i",
        ),
    ],
    "check_trace_count": [
        right(ch09.check_trace_count, 3),
        right(ch09.check_trace_count, np.int64(3)),
        right(ch09.check_trace_count, 3.0),
        wrong(ch09.check_trace_count, 5, "one trace per call"),
        wrong(ch09.check_trace_count, 2, "counts only the shapes"),
        wrong(ch09.check_trace_count, 1, "one program for every call"),
        wrong(ch09.check_trace_count, 4, "is not the number of traces"),
        wrong(ch09.check_trace_count, 3.5, "whole number"),
    ],
    "check_momentum_with_history": [
        right(ch09.check_momentum_with_history, jax.jit(momentum, static_argnames=MOMENTUM_STATIC)),
        right(ch09.check_momentum_with_history, jax.jit(partial(momentum, carry="dict"), static_argnames="num_steps")),
        right(ch09.check_momentum_with_history, jax.jit(momentum_optax, static_argnames="num_steps")),
        wrong(
            ch09.check_momentum_with_history, jax.jit(plain_gd, static_argnames="num_steps"), "plain gradient descent"
        ),
        wrong(
            ch09.check_momentum_with_history,
            jax.jit(partial(momentum, dampened=True), static_argnames="num_steps"),
            "dampened",
        ),
        wrong(
            ch09.check_momentum_with_history,
            jax.jit(partial(momentum, old_velocity=True), static_argnames="num_steps"),
            "old velocity",
        ),
        wrong(
            ch09.check_momentum_with_history,
            jax.jit(partial(momentum, after=True), static_argnames="num_steps"),
            "loss after step t",
        ),
        wrong(ch09.check_momentum_with_history, momentum, "not jitted"),
        wrong(ch09.check_momentum_with_history, jax.jit(momentum), "declare num_steps static"),
    ],
}
CHECKS = {
    "check_static_power": (ch09.check_static_power, True),
    "check_per_example_grads": (ch09.check_per_example_grads, True),
    "check_trace_count": (ch09.check_trace_count, False),
    "check_momentum_with_history": (ch09.check_momentum_with_history, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    # check_data_parallel_grads needs several devices: its corpus runs in a subprocess below
    assert set(CORPUS) | {"check_data_parallel_grads"} == {name for name in dir(ch09) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)


DATA_PARALLEL_CORPUS = textwrap.dedent(
    """
    import jax
    jax.config.update("jax_num_cpu_devices", 4)
    from functools import partial
    from flax import nnx
    from jax.sharding import PartitionSpec as P
    from jaxbook import flax_models
    from jaxbook.checks import ch09

    mesh = jax.make_mesh((4,), ("data",), devices=jax.devices("cpu"))
    graphdef, _ = nnx.split(flax_models.MLP(2, [8], 2, rngs=nnx.Rngs(0)), nnx.Param)
    specs = dict(mesh=mesh, in_specs=(P(), P("data"), P("data")), out_specs=P())

    def loss(params, X, y):
        return flax_models.softmax_loss(nnx.merge(graphdef, params), X, y)

    def grad_of_mean(params, X, y):
        return jax.grad(lambda p: jax.lax.pmean(loss(p, X, y), "data"))(params)

    def reduced_grad(params, X, y, reduce):
        g = jax.grad(loss)(params, X, y)
        return reduce(g, "data") if reduce else g

    cases = {
        "right, grad of the pmean'd loss": jax.jit(jax.shard_map(grad_of_mean, **specs)),
        "right, not jitted": jax.shard_map(grad_of_mean, **specs),
        "right, check_vma=False and pmean of the gradients": jax.shard_map(
            partial(reduced_grad, reduce=jax.lax.pmean), check_vma=False, **specs
        ),
        "wrong, pmean after grad": jax.shard_map(partial(reduced_grad, reduce=jax.lax.pmean), **specs),
        "wrong, psum": jax.shard_map(partial(reduced_grad, reduce=jax.lax.psum), check_vma=False, **specs),
        "wrong, psum after grad": jax.shard_map(partial(reduced_grad, reduce=jax.lax.psum), **specs),
        "wrong, no collective": jax.shard_map(partial(reduced_grad, reduce=None), check_vma=False, **specs),
        "wrong, stacked": jax.shard_map(
            partial(reduced_grad, reduce=None), mesh=mesh, in_specs=specs["in_specs"], out_specs=P("data")
        ),
        "wrong, automatic": lambda params, X, y: jax.grad(loss)(params, X, y),
        "wrong, None": None,
        "wrong, raises": lambda params, X, y: 1 / 0,
    }
    for name, answer in cases.items():
        print(name, "|", ch09.check_data_parallel_grads(answer, mesh))
    """
)


def test_check_data_parallel_grads_corpus_on_four_devices():
    """Right and wrong shard_map gradients, in a subprocess with 4 simulated CPU devices."""
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", DATA_PARALLEL_CORPUS], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    verdicts = dict(line.split(" | ") for line in result.stdout.strip().splitlines())
    phrases = {
        "wrong, pmean after grad": "4 times too large",
        "wrong, psum": "4 times too large",
        "wrong, psum after grad": "16 times too large",
        "wrong, no collective": "first device's rows only",
        "wrong, stacked": "stacked, one per device",
        "wrong, automatic": "without jax.shard_map",
        "wrong, None": "is None",
        "wrong, raises": "raised ZeroDivisionError",
    }
    for name, verdict in verdicts.items():
        if name.startswith("right"):
            assert verdict.startswith("Correct:"), (name, verdict)
        else:
            assert verdict.startswith("Not yet:") and phrases[name] in verdict, (name, verdict)
    assert len(verdicts) == 11
