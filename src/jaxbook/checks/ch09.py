"""Checkers for the exercises of Chapter 9 (speed and scale).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook.checks._compare import as_array, as_whole_number, compare_arrays
from jaxbook.checks._core import Feedback, StudentError, call_jitted, call_on_jax_arrays, call_student, checker, fail
from jaxbook.checks._references import sigmoid

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
    """Exercise 9.3: ``per_example_grads(w, X, y)`` should return ``(sigmoid(X w) - y)[:, None] * X``, shape ``(n, d)``.

    The reference is the hand-derived gradient of ``softplus(z) - y z`` for each example, on
    two random problems.
    """
    for i, (w, X, y) in enumerate(_logistic_problems(), start=1):
        n, d = X.shape
        got = call_on_jax_arrays(
            per_example_grads, w, X, y, name="per_example_grads", where=f"on test input {i}", jit=True
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
        if (
            got_array is not None
            and got_array.shape == (n, d)
            and np.allclose(got_array, (sigmoid(z) - y)[:, None] * w[None, :], rtol=1e-4, atol=1e-5)
        ):
            return Feedback(
                False,
                "that is the gradient with respect to x_i, (sigmoid(z_i) - y_i) w: jax.grad differentiates with "
                "respect to its first argument by default, so keep w first (argnums=0)",
            )
        result = compare_arrays(got, expected, name=f"per_example_grads(...) on test input {i}", rtol=1e-4, atol=1e-5)
        if not result.ok:
            return result
    return Feedback(True, "per_example_grads agrees with (sigmoid(x_i . w) - y_i) x_i on 2 random problems")


@checker("traces")
def check_trace_count(traces: Any) -> Feedback:
    """Exercise 9.2: how many times ``jax.jit(power, static_argnames="n")`` traces ``power`` for the
    calls ``(ones(3), 2)``, ``(ones(3), 3)``, ``(ones(5), 2)``, ``(ones(3), 2)``, ``(ones(3), 3)``:
    one trace per new combination of shape and static value, so 3.

    The check counts it again itself, with a fresh jitted function, rather than trusting the
    number 3 written here.

    Example:
      >>> check_trace_count(3)
      Correct: 3 traces: one for each new pair (shape of x, value of n); the repeats reuse the compiled programs
    """
    counted = []

    def power(x, n):
        counted.append((x.shape, n))
        result = jnp.ones_like(x)
        for _ in range(n):
            result = result * x
        return result

    power_jit = jax.jit(power, static_argnames="n")
    for size, n in ((3, 2), (3, 3), (5, 2), (3, 2), (3, 3)):
        power_jit(jnp.ones(size), n)
    expected = len(counted)
    got = as_whole_number(traces, "traces")
    if got == expected:
        return Feedback(
            True,
            f"{expected} traces: one for each new pair (shape of x, value of n); the repeats reuse the compiled programs",
        )
    if got == 5:
        return Feedback(
            False,
            "5 would be one trace per call: a repeated call with the same shape and the same static n reuses "
            "the compiled program. Count the traces with a Python side effect (a list you append to) inside power",
        )
    if got == 2:
        return Feedback(
            False,
            "2 counts only the shapes: a static argument is part of the program too, so each new value of n "
            "traces again",
        )
    if got == 1:
        return Feedback(False, "1 would mean one program for every call: new shapes and new static values trace again")
    return Feedback(
        False,
        f"{got} is not the number of traces: count them with a side effect inside power (it runs only while tracing)",
    )


def _reference_momentum(b, X, y, lr, beta, num_steps):
    b = np.asarray(b, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    v = np.zeros_like(b)
    losses = []
    for _ in range(num_steps):
        residual = X @ b - y
        losses.append(np.mean(residual**2))
        v = beta * v + 2.0 * X.T @ residual / len(y)
        b = b - lr * v
    return b, np.array(losses), np.mean((X @ b - y) ** 2)


def _momentum_variants(b, X, y, lr, beta, num_steps):
    """What the usual slips compute: (message, b_final, losses)."""
    b64, X64, y64 = (np.asarray(a, dtype=np.float64) for a in (b, X, y))

    def run(update, record_after=False):
        bb, v, losses = b64.copy(), np.zeros_like(b64), []
        for _ in range(num_steps):
            g = 2.0 * X64.T @ (X64 @ bb - y64) / len(y64)
            before = np.mean((X64 @ bb - y64) ** 2)
            bb, v = update(bb, v, g)
            losses.append(np.mean((X64 @ bb - y64) ** 2) if record_after else before)
        return bb, np.array(losses)

    return [
        (
            "that is plain gradient descent: the velocity is never used. Carry (b, v), update "
            "v = beta * v + grad, then b = b - lr * v",
            *run(lambda bb, v, g: (bb - lr * g, v)),
        ),
        (
            "that is the dampened form v = beta * v + (1 - beta) * grad (an exponential average, as in Adam's "
            "first moment): heavy-ball momentum adds the whole gradient, v = beta * v + grad",
            *run(lambda bb, v, g: (bb - lr * (beta * v + (1 - beta) * g), beta * v + (1 - beta) * g)),
        ),
        (
            "b moves by the old velocity: update v first (v = beta * v + grad), then b = b - lr * v with the new v",
            *run(lambda bb, v, g: (bb - lr * v, beta * v + g)),
        ),
        (
            "losses[t] is the loss after step t: record the loss at the b the body receives, before the update",
            *run(lambda bb, v, g: (bb - lr * (beta * v + g), beta * v + g), record_after=True),
        ),
    ]


@checker("momentum_with_history", function=True)
def check_momentum_with_history(momentum_with_history: Callable[..., Any]) -> Feedback:
    """Exercise 9.4: ``momentum_with_history(b, X, y, lr, beta, num_steps)`` should run heavy-ball
    momentum on the mean squared error, ``v = beta * v + grad`` then ``b = b - lr * v`` from
    ``v = 0``, and return ``(b_final, losses)`` with ``losses[t]`` the loss before step ``t``.

    The reference is the same recursion in float64 NumPy, on two random problems; the usual
    slips (no velocity, the dampened average, the update with the old velocity, the loss after
    the step) are named.
    """
    rng = np.random.default_rng(9)
    for i, (n, p, num_steps, lr, beta) in enumerate(((20, 3, 6, 0.1, 0.9), (30, 2, 11, 0.05, 0.5)), start=1):
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = rng.normal(size=n).astype(np.float32)
        b = rng.normal(size=p).astype(np.float32)
        try:
            got = call_on_jax_arrays(
                momentum_with_history,
                b,
                X,
                y,
                lr,
                beta,
                num_steps,
                name="momentum_with_history",
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
                False, f"momentum_with_history should return a pair (b_final, losses); got {type(got).__name__}"
            )
        b_got, losses_got = as_array(got[0]), as_array(got[1])
        if losses_got is not None and losses_got.shape != (num_steps,):
            return Feedback(
                False,
                f"losses has shape {losses_got.shape}, expected {(num_steps,)}: one loss per step, "
                "from lax.scan's second output",
            )
        b_expected, losses_expected, _ = _reference_momentum(b, X, y, lr, beta, num_steps)
        close = (
            b_got is not None
            and b_got.shape == b_expected.shape
            and np.allclose(b_got, b_expected, rtol=1e-4, atol=1e-5)
            and losses_got is not None
            and np.allclose(losses_got, losses_expected, rtol=1e-4, atol=1e-6)
        )
        if not close:
            for message, b_slip, losses_slip in _momentum_variants(b, X, y, lr, beta, num_steps):
                if (
                    b_got is not None
                    and b_got.shape == b_slip.shape
                    and losses_got is not None
                    and np.allclose(b_got, b_slip, rtol=1e-4, atol=1e-5)
                    and np.allclose(losses_got, losses_slip, rtol=1e-4, atol=1e-6)
                ):
                    return Feedback(False, message)
        result = compare_arrays(got[1], losses_expected, name=f"losses on test input {i}", rtol=1e-4, atol=1e-6)
        if not result.ok:
            return result
        result = compare_arrays(b_got, b_expected, name=f"b_final on test input {i}", rtol=1e-4, atol=1e-5)
        if not result.ok:
            return result
    if not hasattr(momentum_with_history, "lower"):
        return Feedback(
            False,
            "the numbers are right, but momentum_with_history is not jitted: "
            "add @partial(jax.jit, static_argnames='num_steps')",
        )
    return Feedback(True, "momentum_with_history agrees with heavy-ball momentum, history and final parameters")


def _primitives(jaxpr: Any) -> set[str]:
    """The names of every primitive in a jaxpr, inner jaxprs (jit, shard_map, scan, ...) included."""
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for value in eqn.params.values():
            for inner in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(inner, "jaxpr", inner)
                if hasattr(inner, "eqns"):
                    names |= _primitives(inner)
    return names


def _full_batch_grad(model: Any, X: Any, y: Any) -> Any:
    from flax import nnx

    from jaxbook import flax_models

    return nnx.jit(nnx.grad(flax_models.softmax_loss))(model, X, y)


@checker("data_parallel_grads", function=True)
def check_data_parallel_grads(data_parallel_grads: Callable[..., Any], mesh: jax.sharding.Mesh) -> Feedback:
    """Exercise 9.5: ``data_parallel_grads(params, X, y)`` should be the gradient of
    ``flax_models.softmax_loss`` for the hill classifier ``MLP(2, [8], 2)``, with ``params`` the
    ``nnx.Param`` state of ``nnx.split(model, nnx.Param)``, computed with ``jax.shard_map`` over
    ``mesh``: on each device the gradient of ``lax.pmean`` of its rows' loss over ``"data"`` (with
    ``check_vma=False``, equivalently, ``lax.pmean`` of each device's gradient).

    The reference is ``nnx.grad`` of the loss on the whole batch, on one device, for two random
    initialisations. The check also looks inside the traced function for ``shard_map`` and a
    collective, so the automatic (compiler-partitioned) gradient is not taken for the hand-written
    one.
    """
    from flax import nnx
    from jax.sharding import NamedSharding, PartitionSpec

    from jaxbook import flax_models, hill

    devices = mesh.shape.get("data") if hasattr(mesh.shape, "get") else None
    if not devices:
        return Feedback(False, "the mesh given has no axis 'data': pass the chapter's mesh")
    data = hill.hill_data(jax.random.key(0))
    X, y = data.X_train[:1000], data.y_train[:1000]
    rows = NamedSharding(mesh, PartitionSpec("data"))
    X_sharded, y_sharded = jax.device_put(X, rows), jax.device_put(y, rows)
    for i, seed in enumerate((1, 2), start=1):
        model = flax_models.MLP(2, [8], 2, rngs=nnx.Rngs(seed))
        graphdef, params = nnx.split(model, nnx.Param)
        expected = nnx.to_pure_dict(_full_batch_grad(model, X, y))
        with jax.set_mesh(mesh):
            got = call_jitted(  # jitted: an eager shard_map runs op by op on every device, very slowly
                data_parallel_grads, params, X_sharded, y_sharded, name="data_parallel_grads", where=f"on test {i}"
            )
        try:
            got_dict = nnx.to_pure_dict(got) if isinstance(got, nnx.State) else got
            got_leaves, got_tree = jax.tree.flatten(got_dict)
            expected_leaves, expected_tree = jax.tree.flatten(expected)
        except Exception as exc:
            return Feedback(False, f"data_parallel_grads should return the gradients as params' pytree: {exc}")
        if got_tree != expected_tree:
            return Feedback(
                False,
                "data_parallel_grads should return a pytree like params (what nnx.grad returns for the model); "
                f"got {got_tree}",
            )
        got_leaves = [as_array(leaf) for leaf in got_leaves]
        expected_leaves = [np.asarray(leaf, dtype=np.float64) for leaf in expected_leaves]
        if any(g is None for g in got_leaves):
            return Feedback(False, "data_parallel_grads returned leaves that are not arrays")
        if any(g.shape != e.shape for g, e in zip(got_leaves, expected_leaves)):
            stacked = all(
                g.shape[:1] == (devices * e.shape[0],) if e.ndim else g.shape == (devices,)
                for g, e in zip(got_leaves, expected_leaves)
            )
            if stacked:
                return Feedback(
                    False,
                    "the gradients come back stacked, one per device (out_specs splits them over 'data'): return "
                    "one gradient, the same on every device, with out_specs=PartitionSpec(), and make it the "
                    "full-batch one by differentiating lax.pmean(loss, 'data')",
                )
            return Feedback(False, "some gradients have the wrong shape: return one gradient per parameter, as params")

        def matches(factor):
            return all(np.allclose(g, factor * e, rtol=1e-3, atol=1e-6) for g, e in zip(got_leaves, expected_leaves))

        if not matches(1.0):
            if matches(float(devices)):
                return Feedback(
                    False,
                    f"the gradients are {devices} times too large: the devices' gradients were added, not averaged. "
                    "Either lax.psum was used, or lax.pmean came after jax.grad: inside shard_map the gradient with "
                    "respect to replicated params is already summed over the devices. Average the loss, "
                    "jax.grad of lax.pmean(loss, 'data')",
                )
            if matches(float(devices) ** 2):
                return Feedback(
                    False,
                    f"the gradients are {devices**2} times too large: inside shard_map the gradient with respect "
                    "to replicated params is already summed over the devices, and lax.psum sums again. "
                    "Average the loss instead, jax.grad of lax.pmean(loss, 'data')",
                )
            shard = X.shape[0] // devices
            first = nnx.to_pure_dict(_full_batch_grad(model, X[:shard], y[:shard]))
            if all(
                np.allclose(g, np.asarray(e), rtol=1e-3, atol=1e-6) for g, e in zip(got_leaves, jax.tree.leaves(first))
            ):
                return Feedback(
                    False,
                    "that is the gradient on the first device's rows only: the devices' gradients were never "
                    "combined. Average them with lax.pmean(grads, 'data') inside the shard_map",
                )
            worst = max(float(np.max(np.abs(g - e))) for g, e in zip(got_leaves, expected_leaves))
            return Feedback(
                False,
                f"the gradients differ from nnx.grad on the whole batch (largest difference {worst:.3g}): "
                "each device should take nnx.grad of the mean loss on its own rows",
            )
    try:
        with jax.set_mesh(mesh):
            jaxpr = jax.make_jaxpr(data_parallel_grads)(params, X_sharded, y_sharded)
        primitives = _primitives(jaxpr.jaxpr)
    except Exception:
        primitives = None
    if primitives is not None and "shard_map" not in primitives:
        return Feedback(
            False,
            "the gradients are right, but they are computed without jax.shard_map: the exercise asks for the "
            "per-device computation written by hand, with the average across devices explicit (lax.pmean)",
        )
    if primitives is not None and not primitives & {"psum", "psum_invariant", "pmean", "all_reduce", "psum2"}:
        return Feedback(False, "the gradients are right, but no collective (lax.pmean) averages them across devices")
    return Feedback(
        True,
        f"data_parallel_grads agrees with nnx.grad on the whole batch: each of the {devices} devices works on "
        "its own rows, and a collective you wrote combines them",
    )
