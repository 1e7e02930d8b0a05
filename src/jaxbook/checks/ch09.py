"""Checkers for the exercises of Chapter 9 (speed and scale).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook.checks._core import (
    Feedback,
    StudentError,
    as_array,
    call_jitted,
    call_student,
    checker,
    compare_arrays,
    fail,
    sigmoid,
)

_TRACED_ERRORS = ("TracerIntegerConversionError", "ConcretizationTypeError", "TracerBoolConversionError")


def _traced_argument_error(feedback: Feedback) -> bool:
    return any(f"raised {name}" in feedback.message for name in _TRACED_ERRORS)


def _traced_inputs(function: Any, *args: Any) -> int | None:
    """How many of ``args`` a jitted ``function`` traces (the others are static); None if unknown."""
    try:
        return len(function.trace(*args).jaxpr.in_avals)
    except Exception:
        return None


@checker("power_jit", function=True)
def check_static_power(power_jit: Callable[[Any, int], Any]) -> Feedback:
    """Exercise 9.1: ``power_jit(x, n)`` should be a jitted ``x ** n`` with ``n`` static.

    Besides the values for n = 0, 1, 3, 5, the check traces ``power_jit`` once and counts its
    traced inputs: a function in which ``n`` is traced (``jax.jit(lambda x, n: x ** n)``, or a
    ``fori_loop`` up to a traced ``n``) computes the right numbers but is not what is asked.

    Example:
      >>> import jax.numpy as jnp
      >>> check_static_power(jax.jit(lambda x, n: x**n, static_argnames="n"))
      Correct: power_jit is jitted with n static and agrees with x ** n for n = 0, 1, 3, 5
    """
    x = np.array([1.5, -2.0, 0.5, 3.0], dtype=np.float32)
    for n in (0, 1, 3, 5):
        try:
            got = call_student(power_jit, jnp.asarray(x), n, name="power_jit", where=f"for n = {n}")
        except StudentError as exc:
            if _traced_argument_error(exc.feedback):
                raise fail(
                    f"{exc.feedback.message.split(':')[0]}: n is traced, so range(n) has no value. "
                    "Declare it static: jax.jit(power, static_argnames='n')"
                ) from None
            raise
        got_array = as_array(got)
        expected = x.astype(np.float64) ** n
        if got_array is not None and got_array.shape == x.shape and not np.allclose(got_array, expected, rtol=1e-5):
            for shift, what in ((1, "one multiplication too many"), (-1, "one multiplication too few")):
                if n + shift >= 0 and np.allclose(got_array, x.astype(np.float64) ** (n + shift), rtol=1e-5):
                    return Feedback(
                        False, f"power_jit(x, {n}) is x ** {n + shift}: {what}. Start from ones and multiply n times"
                    )
        result = compare_arrays(got, expected, name=f"power_jit(x, {n})", rtol=1e-5, atol=1e-6)
        if not result.ok:
            return result
    if not hasattr(power_jit, "lower"):
        return Feedback(
            False, "power_jit gives the right numbers but is not jitted: wrap it, jax.jit(power, static_argnames='n')"
        )
    if (_traced_inputs(power_jit, jnp.asarray(x), 3) or 1) > 1:
        return Feedback(
            False,
            "power_jit gives the right numbers, but n is traced, not static: jax.jit compiles one program for "
            "every n, with n as a run-time value. Declare it static, jax.jit(power, static_argnames='n'), so that "
            "each n gets its own program with the loop unrolled",
        )
    return Feedback(True, "power_jit is jitted with n static and agrees with x ** n for n = 0, 1, 3, 5")


def _logistic_problems() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(9)
    problems = []
    for n, d in ((5, 3), (12, 4)):
        X = rng.normal(size=(n, d)).astype(np.float32)
        y = (rng.uniform(size=n) < 0.5).astype(np.float32)
        w = rng.normal(size=d).astype(np.float32)
        problems.append((w, X, y))
    return problems


@checker("per_example_grads", function=True)
def check_per_example_grads(per_example_grads: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 9.2: ``per_example_grads(w, X, y)`` should return ``(sigmoid(X w) - y)[:, None] * X``, shape ``(n, d)``.

    The reference is the hand-derived gradient of ``softplus(z) - y z`` for each example, on
    two random problems.
    """
    for i, (w, X, y) in enumerate(_logistic_problems(), start=1):
        n, d = X.shape
        got = call_jitted(
            per_example_grads,
            jnp.asarray(w),
            jnp.asarray(X),
            jnp.asarray(y),
            name="per_example_grads",
            where=f"on test input {i}",
        )
        z = X.astype(np.float64) @ w
        expected = (sigmoid(z) - y)[:, None] * X
        got_array = as_array(got)
        if got_array is not None and got_array.shape == (d, n) and n != d:
            return Feedback(
                False,
                f"per_example_grads has shape {(d, n)}, expected {(n, d)}: one row per example, as vmap's out_axes=0 gives",
            )
        if got_array is not None and got_array.shape == (d,):
            if np.allclose(got_array, expected.sum(axis=0), rtol=1e-4, atol=1e-5):
                return Feedback(
                    False,
                    "that is the sum of the per-example gradients, shape (d,): map over the examples with vmap, don't add them",
                )
            if np.allclose(got_array, expected.mean(axis=0), rtol=1e-4, atol=1e-5):
                return Feedback(
                    False,
                    "that is the mean gradient (the full-batch gradient), shape (d,): vmap over the examples to keep one row each",
                )
        if (
            got_array is not None
            and got_array.shape == (n, d)
            and np.allclose(got_array, sigmoid(z)[:, None] * X, rtol=1e-4, atol=1e-5)
        ):
            return Feedback(
                False, "the gradient is missing the - y_i z_i term of the loss: it should be (sigmoid(z_i) - y_i) x_i"
            )
        result = compare_arrays(got, expected, name=f"per_example_grads(...) on test input {i}", rtol=1e-4, atol=1e-5)
        if not result.ok:
            return result
    return Feedback(True, "per_example_grads agrees with (sigmoid(x_i . w) - y_i) x_i on 2 random problems")


def _reference_descent(b, X, y, lr, num_steps):
    b = np.asarray(b, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    losses = []
    for _ in range(num_steps):
        residual = X @ b - y
        losses.append(np.mean(residual**2))
        b = b - lr * 2.0 * X.T @ residual / len(y)
    return b, np.array(losses), np.mean((X @ b - y) ** 2)


@checker("descend_with_history", function=True)
def check_descend_with_history(descend_with_history: Callable[..., Any]) -> Feedback:
    """Exercise 9.3: ``descend_with_history(b, X, y, lr, num_steps)`` should return ``(b_final, losses)``
    with ``losses[t]`` the mean squared error before step ``t``, shape ``(num_steps,)``.

    The reference is plain gradient descent in float64 NumPy, on two random problems.
    """
    rng = np.random.default_rng(3)
    for i, (n, p, num_steps) in enumerate(((20, 3, 5), (30, 2, 12)), start=1):
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = rng.normal(size=n).astype(np.float32)
        b = np.zeros(p, dtype=np.float32)
        try:
            got = call_student(
                descend_with_history,
                jnp.asarray(b),
                jnp.asarray(X),
                jnp.asarray(y),
                0.1,
                num_steps,
                name="descend_with_history",
                where=f"on test input {i}",
            )
        except StudentError as exc:
            if _traced_argument_error(exc.feedback):
                raise fail(
                    f"{exc.feedback.message.split(':')[0]}: declare num_steps static, "
                    "e.g. @partial(jax.jit, static_argnames='num_steps')"
                ) from None
            raise
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return Feedback(
                False, f"descend_with_history should return a pair (b_final, losses); got {type(got).__name__}"
            )
        b_expected, losses_expected, final_loss = _reference_descent(b, X, y, 0.1, num_steps)
        b_got, losses_got = as_array(got[0]), as_array(got[1])
        if (
            losses_got is not None
            and losses_got.shape == (num_steps,)
            and not np.allclose(losses_got, losses_expected, rtol=1e-4)
        ):
            after = np.append(losses_expected[1:], final_loss)
            if np.allclose(losses_got, after, rtol=1e-4):
                return Feedback(
                    False,
                    "losses[t] is the loss after step t: record it before the update (the loss at the carry the body receives)",
                )
        if losses_got is not None and losses_got.shape != (num_steps,):
            return Feedback(
                False,
                f"losses has shape {losses_got.shape}, expected {(num_steps,)}: one loss per step, from lax.scan's second output",
            )
        result = compare_arrays(got[1], losses_expected, name=f"losses on test input {i}", rtol=1e-4, atol=1e-5)
        if not result.ok:
            return result
        result = compare_arrays(b_got, b_expected, name=f"b_final on test input {i}", rtol=1e-4, atol=1e-5)
        if not result.ok:
            return result
    if not hasattr(descend_with_history, "lower"):
        return Feedback(
            False,
            "the numbers are right, but descend_with_history is not jitted: add @partial(jax.jit, static_argnames='num_steps')",
        )
    return Feedback(True, "descend_with_history agrees with plain gradient descent, history and final parameters")


@checker("X_sharded")
def check_batch_sharding(X_sharded: Any, X: Any, mesh: jax.sharding.Mesh, axis_name: str = "data") -> Feedback:
    """Exercise 9.4: ``X_sharded`` should hold the values of ``X`` with its rows split over the mesh axis ``axis_name``.

    Example:
      >>> from jax.sharding import NamedSharding, PartitionSpec
      >>> mesh = jax.make_mesh((len(jax.devices()),), ("data",))
      >>> X = jnp.zeros((len(jax.devices()) * 2, 2))
      >>> check_batch_sharding(jax.device_put(X, NamedSharding(mesh, PartitionSpec("data"))), X, mesh)
      Correct: the rows are split over the devices of axis 'data', 2 rows on each
    """
    expected = np.asarray(X)
    if not isinstance(X_sharded, jax.Array):
        return Feedback(
            False, f"X_sharded should be a JAX array placed with jax.device_put; got {type(X_sharded).__name__}"
        )
    if X_sharded.shape != expected.shape:
        return Feedback(
            False,
            f"X_sharded has shape {X_sharded.shape}, expected {expected.shape}: shard the whole array, don't slice it",
        )
    if not np.array_equal(np.asarray(X_sharded), expected):
        return Feedback(False, "X_sharded does not hold the same numbers as X: place X itself with jax.device_put")
    sharding = X_sharded.sharding
    if not isinstance(sharding, jax.sharding.NamedSharding):
        return Feedback(
            False, "X_sharded has no NamedSharding: use jax.device_put(X, NamedSharding(mesh, PartitionSpec('data')))"
        )
    devices = mesh.shape[axis_name]
    spec = tuple(sharding.spec) + (None,) * (X_sharded.ndim - len(sharding.spec))
    if devices > 1 and sharding.is_fully_replicated:
        return Feedback(
            False,
            "X_sharded is replicated: every device holds all rows (PartitionSpec()). Split the rows with PartitionSpec('data')",
        )
    if spec[0] != axis_name and any(entry == axis_name for entry in spec[1:]):
        return Feedback(
            False,
            f"X_sharded is split along another axis, spec {sharding.spec}: the rows are the first axis, PartitionSpec('data')",
        )
    if spec[0] != axis_name:
        return Feedback(
            False,
            f"the rows of X_sharded are not split over the axis {axis_name!r}: got spec {sharding.spec}, expected PartitionSpec('data')",
        )
    if set(sharding.mesh.devices.flat) != set(mesh.devices.flat):
        return Feedback(False, "X_sharded is placed on another mesh: use the mesh given")
    rows = expected.shape[0] // devices
    return Feedback(True, f"the rows are split over the devices of axis {axis_name!r}, {rows} rows on each")
