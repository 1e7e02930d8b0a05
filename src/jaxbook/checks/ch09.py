"""Checkers for the exercises of Chapter 9 (speed and scale).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook.checks._compare import as_array, as_whole_number, compare_arrays, require
from jaxbook.checks._core import Feedback, StudentError, call_jitted, call_on_jax_arrays, checker, fail
from jaxbook.checks._references import sigmoid

_TRACED_ERRORS = ("TracerIntegerConversionError", "ConcretizationTypeError", "TracerBoolConversionError")


def _traced_argument_error(feedback: Feedback) -> bool:
    return any(f"raised {name}" in feedback.message for name in _TRACED_ERRORS)


#: The calls check_static_choice makes, as (rows of X, kind, delta): both kinds, three values of
#: delta, two batch sizes.
_ROBUST_CALLS = (
    (40, "squared", 1.0),
    (40, "huber", 1.0),
    (40, "huber", 0.5),
    (40, "huber", 2.0),
    (25, "huber", 1.0),
    (25, "squared", 2.0),
)


def _robust_problem(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(b, X, y)`` with residuals spread over both sides of every delta the check uses."""
    rng = np.random.default_rng(90 + n)
    X = rng.normal(size=(n, 3)).astype(np.float32)
    y = (2.0 * rng.normal(size=n)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    return b, X, y


def _robust_losses(b: np.ndarray, X: np.ndarray, y: np.ndarray, kind: str, delta: float) -> dict[str, float]:
    """The loss, in float64, and what the usual slips compute instead: {name: value}."""
    r = X.astype(np.float64) @ b.astype(np.float64) - y
    a = np.abs(r)
    if kind != "huber":
        return {"right": float(np.mean(r**2))}
    return {
        "right": float(np.mean(np.where(a <= delta, r**2, 2 * delta * a - delta**2))),
        "no offset": float(np.mean(np.where(a <= delta, r**2, 2 * delta * a))),
        "swapped": float(np.mean(np.where(a <= delta, 2 * delta * a - delta**2, r**2))),
    }


_ROBUST_SLIPS = {
    "no offset": "beyond delta the loss is 2 delta |r| - delta**2: without the - delta**2 it jumps at |r| = delta",
    "swapped": "the two branches are swapped: r**2 where |r| <= delta, the straight line 2 delta |r| - delta**2 beyond",
}


def _static_arguments_message(message: str) -> str | None:
    """What a failed call of robust_loss_jit says about the arguments made static, if anything."""
    if "'str'" in message and ("as an abstract array" in message or "not a valid JAX type" in message):
        return (
            "jit could not trace kind: it is a Python string that chooses which code runs, and only arrays "
            "and numbers can be traced. Make kind static, jax.jit(robust_loss, static_argnames='kind'); "
            "delta, a number the loss computes with, stays traced"
        )
    if "Non-hashable static arguments" in message:
        return (
            "an array (b, X or y) was made static: a static argument must be hashable, and is compiled into "
            "the program, so every new batch would compile again. Make only kind static"
        )
    if any(f"raised {name}" in message for name in _TRACED_ERRORS):
        return (
            f"{message.split(':')[0]}: a Python if (or float(), min, max, and/or) on a traced value, delta or "
            "the residuals. Only kind is static: delta must stay traced, and the test |r| <= delta is on the "
            "residuals, which are data whatever is static: compute both branches and choose with "
            "jnp.where(jnp.abs(r) <= delta, ...)"
        )
    return None


@checker("robust_loss_jit", function=True)
def check_static_choice(robust_loss_jit: Callable[..., Any]) -> Feedback:
    """Exercise 9.1: ``robust_loss_jit(b, X, y, kind, delta)`` should be ``jax.jit`` of the mean
    squared error (``kind="squared"``) or the mean of ``h(r) = r**2`` for ``|r| <= delta`` and
    ``2 delta |r| - delta**2`` beyond (``kind="huber"``), of the residuals ``r = X b - y``, with
    ``kind`` static and ``delta`` traced.

    The check makes the six calls of ``_ROBUST_CALLS`` and compares with the same losses in
    float64 NumPy. Then it traces ``robust_loss_jit`` to see which arguments it compiles into the
    program: ``kind`` must be (a string cannot be traced), ``delta`` must not (each new value
    would compile again), and so it counts the programs that the six calls compile, one per
    distinct (shapes, static values). Named: nothing static or the wrong argument static (the
    string reaches the tracer), an array made static (unhashable), a Python ``if`` on the
    residuals, ``delta`` static too, a function that is not jitted, the textbook Huber loss (half
    this one), the line without ``- delta**2``, the branches swapped, a sum instead of a mean.

    Example:
      >>> def robust_loss(b, X, y, kind, delta):
      ...     r = X @ b - y
      ...     if kind == "huber":
      ...         return jnp.mean(jnp.where(jnp.abs(r) <= delta, r**2, 2 * delta * jnp.abs(r) - delta**2))
      ...     return jnp.mean(r**2)
      >>> check_static_choice(jax.jit(robust_loss, static_argnames="kind"))  # doctest: +ELLIPSIS
      Correct: robust_loss_jit agrees with both losses, with kind static and delta traced: ...
    """
    for n, kind, delta in _ROBUST_CALLS:
        b, X, y = _robust_problem(n)
        call = f"robust_loss_jit(b, X, y, {kind!r}, {delta}) with {n} rows"
        try:
            got = call_on_jax_arrays(robust_loss_jit, b, X, y, kind, delta, name="robust_loss_jit", where=f"in {call}")
        except StudentError as exc:
            message = _static_arguments_message(exc.feedback.message)
            if message is not None:
                raise fail(message) from None
            raise
        values = _robust_losses(b, X, y, kind, delta)
        got_array = as_array(got)
        if got_array is not None and got_array.shape == (n,):
            return Feedback(False, f"{call} returned one loss per example, shape ({n},): return their mean")
        if got_array is not None and got_array.size == 1 and np.isfinite(got_array).all():
            value = float(got_array.reshape(()))
            for slip, text in _ROBUST_SLIPS.items():
                if slip in values and np.isclose(value, values[slip], rtol=1e-4, atol=1e-5):
                    return Feedback(False, f"{call}: {text}")
        hints = {float(n): f"that is a sum over the {n} examples: the loss is their mean"}
        if kind == "huber":
            hints[0.5] = (
                "that is the textbook Huber loss, r**2 / 2 and delta (|r| - delta / 2); this exercise's is "
                "twice it, r**2 and 2 delta |r| - delta**2, so that it equals the squared error for small residuals"
            )
        require(compare_arrays(got, values["right"], name=call, rtol=1e-4, atol=1e-5, hints=hints))
    if not hasattr(robust_loss_jit, "trace"):
        return Feedback(
            False,
            "the losses are right, but robust_loss_jit is not jitted: it should be "
            "jax.jit(robust_loss, static_argnames=...) with the arguments you chose static",
        )
    programs = set()
    for n, kind, delta in _ROBUST_CALLS:
        b, X, y = (jnp.asarray(a) for a in _robust_problem(n))
        try:
            in_avals = tuple(robust_loss_jit.trace(b, X, y, kind, delta).jaxpr.in_avals)
        except Exception:  # cannot look inside: the values were right, say no more than that
            return Feedback(True, "robust_loss_jit is jitted and agrees with both losses on the check's 6 calls")
        delta_traced = any(aval.shape == () for aval in in_avals)
        programs.add((n, kind) if delta_traced else (n, kind, delta))
    if not delta_traced:
        return Feedback(
            False,
            f"the losses are right, but delta is static too: it is compiled into the program, so each new delta "
            f"compiles again ({len(programs)} programs for the {len(_ROBUST_CALLS)} calls). A number you tune over "
            "many values should stay traced: make only kind static",
        )
    return Feedback(
        True,
        f"robust_loss_jit agrees with both losses, with kind static and delta traced: the {len(_ROBUST_CALLS)} "
        f"calls compile {len(programs)} programs, one per pair (kind, number of rows); a new delta reuses one",
    )


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
        require(compare_arrays(got, expected, name=f"per_example_grads(...) on test input {i}", rtol=1e-4, atol=1e-5))
    return Feedback(True, "per_example_grads agrees with (sigmoid(x_i . w) - y_i) x_i on 2 random problems")


@functools.cache
def _count_traces(disabled: bool) -> int:
    """How many times a fresh ``jax.jit(power, static_argnames="n")`` traces ``power`` for the calls of
    Exercise 9.2, counted with a side effect; it depends on nothing the student passes, so it is
    counted once per process, and apart inside ``jax.disable_jit()`` (``disabled``), where ``power``
    runs on every call."""
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
    return len(counted)


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
    expected = _count_traces(disabled=bool(jax.config.jax_disable_jit))
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
        require(compare_arrays(got[1], losses_expected, name=f"losses on test input {i}", rtol=1e-4, atol=1e-6))
        require(compare_arrays(b_got, b_expected, name=f"b_final on test input {i}", rtol=1e-4, atol=1e-5))
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


# --- the padded batch with shard_map ----------------------------------------------------------------


def _padded_problems(devices: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Two logistic-regression batches ``(w, X, y, mask)`` of ``devices`` equal blocks, in which the
    blocks hold different numbers of real rows: a random mask (the masked-out rows hold numbers
    too), and a batch padded at the end with rows of zeros."""
    rng = np.random.default_rng(29)
    problems = []
    for block, d, padding in ((12, 3, None), (10, 2, 3)):
        rows = devices * block
        X = rng.normal(size=(rows, d)).astype(np.float32)
        y = (rng.uniform(size=rows) < 0.5).astype(np.float32)
        w = rng.normal(size=d).astype(np.float32)
        mask = np.ones(rows, dtype=np.float32)
        if padding is None:
            for device in range(devices):  # 2 to block - 1 real rows, at random places, a different count per block
                keep = 2 + (7 * device + 3) % (block - 2)
                dropped = rng.permutation(block)[keep:]
                mask[device * block + dropped] = 0.0
        else:
            mask[rows - padding :] = 0.0
            X[rows - padding :], y[rows - padding :] = 0.0, 0.0
        problems.append((w, X, y, mask))
    return problems


def _masked_grads(w, X, y, mask, devices: int) -> dict[str, np.ndarray]:
    """The gradient over the real rows, in float64, and what the usual slips compute instead."""
    w, X, y, mask = (np.asarray(a, dtype=np.float64) for a in (w, X, y, mask))
    per_row = (sigmoid(X @ w) - y)[:, None] * X  # the gradient of softplus(z) - y z for each row
    sums = (mask[:, None] * per_row).reshape(devices, -1, X.shape[1]).sum(axis=1)  # one row per device
    counts = mask.reshape(devices, -1).sum(axis=1)
    right = sums.sum(axis=0) / counts.sum()
    mean_of_means = (sums / counts[:, None]).mean(axis=0)
    return {
        "right": right,
        "mean of means": mean_of_means,
        "sum of means": devices * mean_of_means,
        "no mask": per_row.mean(axis=0),
        "all rows": sums.sum(axis=0) / len(y),
        "first device": sums[0] / counts[0],
        "first device's sum": sums[0] / counts.sum(),
        "first device's sum, times devices": devices * sums[0] / counts.sum(),
        "devices times": devices * right,
        "over devices": right / devices,
    }


def _masked_slips(devices: int) -> dict[str, str]:
    return {
        "mean of means": (
            "that is the mean of the devices' mean losses: it weights every device alike, but they hold "
            "different numbers of real rows. Add the masked losses and the real rows over the devices, "
            "lax.psum(sum, 'data') / lax.psum(count, 'data')"
        ),
        "sum of means": (
            "that is the sum of the devices' mean gradients (inside shard_map, jax.grad with respect to the "
            "replicated w adds up what every device contributes): divide the psum of the masked sums by the "
            "psum of the real rows, lax.psum(sum, 'data') / lax.psum(count, 'data')"
        ),
        "no mask": "the padding rows were counted: multiply each row's loss by its mask, and divide by the real rows",
        "all rows": (
            "you divided by every row, padding included: divide by the number of real rows, "
            "lax.psum(jnp.sum(mask), 'data')"
        ),
        "first device": (
            "that is the mean over the first device's real rows only: the devices' sums were never combined "
            "(lax.psum over 'data')"
        ),
        "first device's sum": (
            "that is the first device's masked sum only, divided by all the real rows: add the devices' "
            "gradients with lax.psum (with check_vma=False, the gradient stays per device)"
        ),
        "first device's sum, times devices": (
            f"that is {devices} times the first device's gradient alone: with check_vma=False, jax.grad does not "
            f"add up the devices' contributions to the shared w, and the psum in the loss multiplies its gradient "
            f"by {devices}. With check_vma=False, add the devices' gradients with lax.psum; with the default "
            "check_vma, differentiate the psum'd loss"
        ),
        "devices times": (
            f"the gradient is {devices} times too large: inside shard_map the gradient with respect to the "
            "replicated w is already summed over the devices, and a psum after jax.grad sums again. "
            "Differentiate the psum'd loss instead (or use check_vma=False)"
        ),
        "over devices": (
            f"the gradient is {devices} times too small: lax.pmean divides by the number of devices; the "
            "weighted mean is lax.psum(sum) / lax.psum(count), with no other division"
        ),
    }


@checker("masked_logistic_grad", function=True)
def check_masked_grad(masked_logistic_grad: Callable[..., Any], mesh: jax.sharding.Mesh) -> Feedback:
    """Exercise 9.5: ``masked_logistic_grad(w, X, y, mask)`` should be the gradient of the masked mean
    logistic loss ``sum_i m_i l_i(w) / sum_i m_i``, ``l_i = softplus(x_i . w) - y_i x_i . w``,
    computed with ``jax.shard_map`` over ``mesh`` (``w`` replicated, the rows split over ``"data"``).

    The reference is ``X_real^T (sigmoid(X_real w) - y_real) / n_real`` over the real rows, in
    float64 NumPy, on two batches whose blocks hold different numbers of real rows (a random
    mask; padding at the end). Named: the mean of the devices' means, the padding counted, the
    division by every row, one device's rows only, a psum after ``jax.grad`` (the devices' count
    too many), a ``pmean`` too many, stacked outputs, boolean indexing. The check also looks
    inside the traced function for ``shard_map`` and a collective.
    """
    from jax.sharding import NamedSharding, PartitionSpec

    if not isinstance(mesh, jax.sharding.Mesh):
        return Feedback(False, f"the second argument should be the chapter's mesh, a jax.sharding.Mesh; got {mesh!r}")
    devices = mesh.shape.get("data") if hasattr(mesh.shape, "get") else None
    if not devices:
        return Feedback(False, "the mesh given has no axis 'data': pass the chapter's mesh")
    rows = NamedSharding(mesh, PartitionSpec("data"))
    slips = _masked_slips(devices)
    for i, (w, X, y, mask) in enumerate(_padded_problems(devices), start=1):
        d = X.shape[1]
        sharded = [jax.device_put(a, rows) for a in (X, y, mask)]
        with jax.set_mesh(mesh):
            try:
                got = call_jitted(  # jitted: an eager shard_map runs op by op on every device, very slowly
                    masked_logistic_grad, jnp.asarray(w), *sharded, name="masked_logistic_grad", where=f"on test {i}"
                )
            except StudentError as exc:
                if "NonConcreteBooleanIndexError" in exc.feedback.message:
                    raise fail(
                        "masked_logistic_grad indexes with the mask (X[mask > 0]): that makes a shape depend on "
                        "the data, which jit cannot compile. Keep every row, and multiply each row's loss by its mask"
                    ) from None
                if "require replication" in exc.feedback.message:
                    raise fail(
                        "masked_logistic_grad returns a value that differs from device to device, while "
                        "out_specs=PartitionSpec() promises one value, the same on every device: a per-device sum "
                        "or count (such as jnp.sum(mask) of one device's rows) reached the result without lax.psum"
                    ) from None
                raise
        expected = _masked_grads(w, X, y, mask, devices)
        got_array = as_array(got)
        if devices > 1 and got_array is not None and got_array.shape in ((devices, d), (devices * d,)):
            return Feedback(
                False,
                f"the gradient comes back stacked, one per device (shape {got_array.shape}): return one gradient, "
                "the same on every device, with out_specs=PartitionSpec(), combined over the devices with lax.psum",
            )
        if got_array is not None and got_array.shape == (d,) and np.isfinite(got_array).all():
            if not np.allclose(got_array, expected["right"], rtol=1e-4, atol=1e-6):
                for slip, text in slips.items():
                    if np.allclose(got_array, expected[slip], rtol=1e-4, atol=1e-6):
                        return Feedback(False, text)
        require(
            compare_arrays(got, expected["right"], name=f"masked_logistic_grad(...) on test {i}", rtol=1e-4, atol=1e-6)
        )
    try:
        with jax.set_mesh(mesh):
            jaxpr = jax.make_jaxpr(masked_logistic_grad)(jnp.asarray(w), *sharded)
        primitives = _primitives(jaxpr.jaxpr)
    except Exception:
        primitives = None
    if primitives is not None and "shard_map" not in primitives:
        return Feedback(
            False,
            "the gradient is right, but it is computed without jax.shard_map: the exercise asks for what one "
            "device does written by hand, with the sums across devices explicit (lax.psum)",
        )
    if primitives is not None and not primitives & {"psum", "psum_invariant", "pmean", "all_reduce", "psum2"}:
        return Feedback(False, "the gradient is right, but no collective (lax.psum) combines the devices' sums")
    return Feedback(
        True,
        f"masked_logistic_grad agrees with the gradient over the real rows alone, on 2 batches whose "
        f"{devices} blocks hold different numbers of real rows",
    )
