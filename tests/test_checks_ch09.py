"""The Chapter 9 checkers accept the right answers and name the usual slips."""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, NamedSharding, PartitionSpec

from jaxbook.checks import ch09


def power(x, n):
    result = jnp.ones_like(x)
    for _ in range(n):
        result = result * x
    return result


def test_check_static_power():
    assert ch09.check_static_power(jax.jit(power, static_argnames="n"))
    not_static = repr(ch09.check_static_power(jax.jit(power)))
    assert "TracerIntegerConversionError" in not_static and "static_argnames='n'" in not_static
    assert "not jitted" in repr(ch09.check_static_power(power))

    def one_too_many(x, n):
        return power(x, n + 1)

    assert "one multiplication too many" in repr(ch09.check_static_power(jax.jit(one_too_many, static_argnames="n")))
    assert "should be a function" in repr(ch09.check_static_power(3))


def example_loss(w, x_i, y_i):
    z = x_i @ w
    return jax.nn.softplus(z) - y_i * z


def test_check_per_example_grads():
    right = jax.vmap(jax.grad(example_loss), in_axes=(None, 0, 0))
    assert ch09.check_per_example_grads(right)
    assert ch09.check_per_example_grads(lambda w, X, y: (jax.nn.sigmoid(X @ w) - y)[:, None] * X)
    transposed = repr(ch09.check_per_example_grads(lambda w, X, y: right(w, X, y).T))
    assert "one row per example" in transposed
    summed = repr(ch09.check_per_example_grads(lambda w, X, y: right(w, X, y).sum(axis=0)))
    assert "sum of the per-example gradients" in summed
    mean = repr(ch09.check_per_example_grads(jax.grad(lambda w, X, y: jnp.mean(jax.vmap(example_loss, (None, 0, 0))(w, X, y)))))
    assert "mean gradient" in mean
    missing_y = repr(ch09.check_per_example_grads(lambda w, X, y: jax.nn.sigmoid(X @ w)[:, None] * X))
    assert "missing the - y_i z_i term" in missing_y
    assert "wrong sign" in repr(ch09.check_per_example_grads(lambda w, X, y: -right(w, X, y)))

    def broken(w, X, y):
        raise RuntimeError("boom")

    assert "raised RuntimeError on test input 1: boom" in repr(ch09.check_per_example_grads(broken))


def mse(b, X, y):
    return jnp.mean((X @ b - y) ** 2)


@partial(jax.jit, static_argnames="num_steps")
def descend_right(b, X, y, lr, num_steps):
    def body(b, _):
        value, grad = jax.value_and_grad(mse)(b, X, y)
        return b - lr * grad, value

    return jax.lax.scan(body, b, length=num_steps)


def test_check_descend_with_history():
    assert ch09.check_descend_with_history(descend_right)

    @partial(jax.jit, static_argnames="num_steps")
    def after_update(b, X, y, lr, num_steps):
        def body(b, _):
            b = b - lr * jax.grad(mse)(b, X, y)
            return b, mse(b, X, y)

        return jax.lax.scan(body, b, length=num_steps)

    assert "after step t" in repr(ch09.check_descend_with_history(after_update))

    @partial(jax.jit, static_argnames="num_steps")
    def with_final(b, X, y, lr, num_steps):
        b_final, losses = descend_right(b, X, y, lr, num_steps)
        return b_final, jnp.append(losses, mse(b_final, X, y))

    assert "losses has shape" in repr(ch09.check_descend_with_history(with_final))
    assert "declare num_steps static" in repr(ch09.check_descend_with_history(jax.jit(descend_right.__wrapped__)))
    assert "not jitted" in repr(ch09.check_descend_with_history(descend_right.__wrapped__))
    assert "should return a pair" in repr(ch09.check_descend_with_history(lambda b, X, y, lr, num_steps: b))

    @partial(jax.jit, static_argnames="num_steps")
    def doubled_lr(b, X, y, lr, num_steps):
        return descend_right(b, X, y, 2 * lr, num_steps)

    assert "differs from the reference" in repr(ch09.check_descend_with_history(doubled_lr))


def test_check_batch_sharding_on_the_available_devices():
    devices = len(jax.devices())
    mesh = jax.make_mesh((devices,), ("data",), axis_types=(AxisType.Auto,))
    X = jnp.arange(4.0 * devices).reshape(2 * devices, 2)
    X_sharded = jax.device_put(X, NamedSharding(mesh, PartitionSpec("data")))
    feedback = ch09.check_batch_sharding(X_sharded, X, mesh)
    assert feedback and "2 rows on each" in repr(feedback)
    assert "should be a JAX array" in repr(ch09.check_batch_sharding(np.asarray(X), X, mesh))
    assert "shape" in repr(ch09.check_batch_sharding(X_sharded[:1], X, mesh))
    assert "same numbers" in repr(ch09.check_batch_sharding(X_sharded + 1, X, mesh))
    assert "no NamedSharding" in repr(ch09.check_batch_sharding(jax.device_put(X, jax.devices()[0]), X, mesh))
    if devices > 1:  # the replication and wrong-axis slips only differ from the right answer with several devices
        replicated = jax.device_put(X, NamedSharding(mesh, PartitionSpec()))
        assert "replicated" in repr(ch09.check_batch_sharding(replicated, X, mesh))


def test_check_batch_sharding_diagnoses_slips_on_four_devices():
    """The slips that need several devices, in a subprocess with 4 simulated CPU devices."""
    import os
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import jax, jax.numpy as jnp
        from jax.sharding import AxisType, NamedSharding, PartitionSpec
        from jaxbook.checks import ch09
        mesh = jax.make_mesh((4,), ("data",), axis_types=(AxisType.Auto,))
        X = jnp.arange(32.0).reshape(8, 4)
        print(ch09.check_batch_sharding(jax.device_put(X, NamedSharding(mesh, PartitionSpec("data"))), X, mesh))
        print(ch09.check_batch_sharding(jax.device_put(X, NamedSharding(mesh, PartitionSpec())), X, mesh))
        print(ch09.check_batch_sharding(jax.device_put(X, NamedSharding(mesh, PartitionSpec(None, "data"))), X, mesh))
        """
    )
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=4")
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    right, replicated, columns = result.stdout.strip().splitlines()
    assert right == "Correct: the rows are split over the devices of axis 'data', 2 rows on each"
    assert replicated.startswith("Not yet: X_sharded is replicated")
    assert columns.startswith("Not yet: X_sharded is split along another axis")
