"""The corpus of Chapter 9's checkers: right answers written several ways, common slips named."""

import os
import subprocess
import sys
import textwrap
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec
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


def descend(b, X, y, lr, num_steps, after=False, lr_factor=1.0):
    def body(b, _):
        value, grad = jax.value_and_grad(mse)(b, X, y)
        b_new = b - lr_factor * lr * grad
        return b_new, (mse(b_new, X, y) if after else value)

    return jax.lax.scan(body, b, length=num_steps)


def descend_fori(b, X, y, lr, num_steps):
    def body(t, carry):
        b, losses = carry
        return b - lr * jax.grad(mse)(b, X, y), losses.at[t].set(mse(b, X, y))

    return jax.lax.fori_loop(0, num_steps, body, (b, jnp.zeros(num_steps)))


mesh = jax.make_mesh((len(jax.devices()),), ("data",))
X_rows = jnp.arange(4.0 * len(jax.devices())).reshape(2 * len(jax.devices()), 2)


def sharding(answer):
    return ch09.check_batch_sharding(answer, X_rows, mesh)


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
    ],
    "check_descend_with_history": [
        right(ch09.check_descend_with_history, jax.jit(descend, static_argnames=("num_steps", "after", "lr_factor"))),
        right(
            ch09.check_descend_with_history,
            partial(jax.jit, static_argnums=4)(lambda b, X, y, lr, n: descend(b, X, y, lr, n)),
        ),
        right(ch09.check_descend_with_history, jax.jit(descend_fori, static_argnames="num_steps")),
        wrong(
            ch09.check_descend_with_history,
            jax.jit(partial(descend, after=True), static_argnames="num_steps"),
            "record it before the update",
        ),
        wrong(ch09.check_descend_with_history, descend, "not jitted"),
        wrong(ch09.check_descend_with_history, jax.jit(descend), "declare num_steps static"),
        wrong(
            ch09.check_descend_with_history,
            jax.jit(partial(descend, lr_factor=2.0), static_argnames="num_steps"),
            "differs from the reference",
        ),
        wrong(
            ch09.check_descend_with_history,
            jax.jit(lambda b, X, y, lr, num_steps: descend(b, X, y, lr, num_steps)[1], static_argnums=4),
            "pair",
        ),
    ],
    "check_batch_sharding": [
        right(sharding, jax.device_put(X_rows, NamedSharding(mesh, PartitionSpec("data")))),
        right(sharding, jax.device_put(X_rows, NamedSharding(mesh, PartitionSpec("data", None)))),
        right(sharding, jax.jit(lambda X: X, out_shardings=NamedSharding(mesh, PartitionSpec("data")))(X_rows)),
        wrong(sharding, np.asarray(X_rows), "should be a JAX array"),
        wrong(sharding, jax.device_put(X_rows, NamedSharding(mesh, PartitionSpec("data")))[:1], "shape"),
        wrong(sharding, jax.device_put(X_rows + 1, NamedSharding(mesh, PartitionSpec("data"))), "same numbers"),
        wrong(sharding, jax.device_put(X_rows, jax.devices()[0]), "no NamedSharding"),
    ],
}
CHECKS = {
    "check_static_power": (ch09.check_static_power, True),
    "check_per_example_grads": (ch09.check_per_example_grads, True),
    "check_descend_with_history": (ch09.check_descend_with_history, True),
    "check_batch_sharding": (sharding, False),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch09) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)


def test_check_batch_sharding_diagnoses_slips_on_four_devices():
    """The slips that need several devices, in a subprocess with 4 simulated CPU devices."""
    script = textwrap.dedent(
        """
        import jax
        jax.config.update("jax_num_cpu_devices", 4)
        import jax.numpy as jnp
        from jax.sharding import NamedSharding, PartitionSpec
        from jaxbook.checks import ch09
        mesh = jax.make_mesh((4,), ("data",))
        X = jnp.arange(32.0).reshape(8, 4)
        print(ch09.check_batch_sharding(jax.device_put(X, NamedSharding(mesh, PartitionSpec("data"))), X, mesh))
        print(ch09.check_batch_sharding(jax.device_put(X, NamedSharding(mesh, PartitionSpec())), X, mesh))
        print(ch09.check_batch_sharding(jax.device_put(X, NamedSharding(mesh, PartitionSpec(None, "data"))), X, mesh))
        """
    )
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    right_answer, replicated, columns = result.stdout.strip().splitlines()
    assert right_answer == "Correct: the rows are split over the devices of axis 'data', 2 rows on each"
    assert replicated.startswith("Not yet: X_sharded is replicated")
    assert columns.startswith("Not yet: X_sharded is split along another axis")
