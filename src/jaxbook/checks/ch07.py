"""Checkers for the exercises of Chapter 7 (optimisers with optax).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxbook.checks._compare import as_array, compare_arrays, require
from jaxbook.checks._core import Feedback, call_on_jax_arrays, call_student, checker, fail
from jaxbook.checks._references import binary_cross_entropy, read_only, sigmoid


@checker("bce", function=True)
def check_optax_bce(bce: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 7.1: ``bce(logits, y, weights)`` should be the *weighted mean*
    ``sum(w * l) / sum(w)`` of the per-example binary cross-entropies ``l`` that
    ``optax.sigmoid_binary_cross_entropy`` computes from logits. The reference is ``logaddexp`` in
    float64; the weights of the first two tests do not sum to the number of examples, the third's
    are all 1 (the plain mean).
    """
    rng = np.random.default_rng(707)
    for i, n in enumerate([5, 40, 6], start=1):
        logits = (4.0 * rng.normal(size=n)).astype(np.float32)
        logits[0] = 60.0  # a large logit: the formula through probabilities would give inf or nan here
        y = (rng.uniform(size=n) < 0.5).astype(np.float32)
        y[0] = 0.0
        weights = rng.uniform(0.2, 3.0, size=n).astype(np.float32) if i < 3 else np.ones(n, dtype=np.float32)
        got = call_student(bce, logits, y, weights, name="bce", where=f"on test input {i}")

        def weighted(per_example: np.ndarray, w: np.ndarray = weights) -> float:
            return float(np.sum(w * per_example) / np.sum(w))

        per_example = binary_cross_entropy(logits, y, reduce=False)
        expected = weighted(per_example)
        got_array = as_array(got)
        if got_array is not None and got_array.shape == (n,):
            return Feedback(
                False, f"bce returns one loss per example, shape ({n},): take the weighted mean sum(w * l) / sum(w)"
            )
        if got_array is not None and got_array.shape == () and np.isfinite(got_array) and i < 3:
            slips = {
                "the weights are ignored: this is the plain mean of the losses; weight each "
                "example's loss by w and divide by sum(w)": float(np.mean(per_example)),
                "the weighted losses are divided by the number of examples: a weighted mean divides "
                "by the sum of the weights, sum(w * l) / sum(w)": float(np.mean(weights * per_example)),
                "this is the weighted sum: divide it by the sum of the weights": float(np.sum(weights * per_example)),
                "optax.sigmoid_binary_cross_entropy takes logits, not probabilities: don't apply the "
                "sigmoid first": weighted(binary_cross_entropy(sigmoid(logits), y, reduce=False)),
                "the arguments are in the wrong order or the labels are flipped: "
                "optax.sigmoid_binary_cross_entropy(logits, labels)": weighted(
                    binary_cross_entropy(logits, 1.0 - y, reduce=False)
                ),
            }
            for message, value in slips.items():
                if np.isclose(got_array, value, rtol=1e-4):
                    return Feedback(False, message)
        if got_array is not None and got_array.shape == () and not np.isfinite(got_array):
            return Feedback(
                False,
                f"bce is {got_array} for a logit of 60: a formula through the sigmoid's probabilities "
                "overflows; compute the loss from the logits, as optax.sigmoid_binary_cross_entropy does",
            )
        require(compare_arrays(got, expected, name=f"bce on test input {i}", rtol=1e-4, atol=1e-5))
    return Feedback(True, "bce is the weighted mean binary cross-entropy, finite even for a logit of 60")


def _test_grads(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(size=(2, 2)) * 3.0,
        "b1": rng.normal(size=2) * 0.01,
        "w2": rng.normal(size=2),
        "b2": np.float64(-0.5),
    }


def _np_adam_updates(
    grads: np.ndarray,
    lr: float,
    bias_correction: bool,
    *,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    slip: str = "",
) -> np.ndarray:
    """Adam's updates for a sequence of gradients (first axis: the step), from m = s = 0, in
    float64; ``slip`` names a common mistake, to recognise it."""
    if slip == "swapped":
        b1, b2 = b2, b1
    grads = np.asarray(grads, dtype=np.float64)
    m = np.zeros_like(grads[0])
    s = np.zeros_like(grads[0])
    updates = []
    for t, g in enumerate(grads, start=1):
        if slip == "fresh state":
            m, s = np.zeros_like(g), np.zeros_like(g)
        m = b1 * m + (g if slip == "heavy ball" else (1 - b1) * g)
        s = b2 * s + (1 - b2) * g**2
        step = 1 if slip == "fresh state" else t
        m_hat, s_hat = (m / (1 - b1**step), s / (1 - b2**step)) if bias_correction else (m, s)
        if bias_correction and slip == "m only":
            s_hat = s
        if bias_correction and slip == "s only":
            m_hat = m
        denominator = np.sqrt(s_hat + eps) if slip == "eps inside" else np.sqrt(s_hat) + eps
        updates.append(-lr * m_hat / denominator)
    return np.stack(updates)


@partial(jax.jit, static_argnames=("lr",))
def _optax_adam_steps(grads: jax.Array, lr: float) -> jax.Array:
    # optax.adam(lr) fed the gradients one step after the other from one fresh state (float32), in
    # one compiled program per shape and lr rather than each of optax's operations eagerly
    tx = optax.adam(lr)
    state = tx.init(grads[0])
    updates = []
    for g in grads:
        update, state = tx.update(g, state)
        updates.append(update)
    return jnp.stack(updates)


def _optax_adam_updates(grads: np.ndarray, lr: float) -> np.ndarray:
    return np.asarray(_optax_adam_steps(jnp.asarray(grads, dtype=jnp.float32), lr=float(lr)), dtype=np.float64)


@cache
def _optax_adam_reference(i: int) -> np.ndarray:
    """``_optax_adam_updates`` on test input ``i`` of ``_adam_cases()``, computed once per process."""
    _, grads, lr = _adam_cases()[i]
    return read_only(_optax_adam_updates(grads, lr))


def _adam_cases() -> list[tuple[str, np.ndarray, float]]:
    """(description, gradients, lr): random gradients of one and of three parameters, gradients
    that change sign, and a constant tiny gradient, where eps matters."""
    rng = np.random.default_rng(702)
    return [
        ("6 random gradients of one parameter", rng.normal(size=6).astype(np.float32), 0.05),
        (
            "5 steps of three parameters, gradients of different sizes",
            (rng.normal(size=(5, 3)) * [10.0, 1.0, 0.01]).astype(np.float32),
            0.03,
        ),
        ("gradients that change sign", np.array([2.0, -1.0, 0.5, -3.0, 1.0], dtype=np.float32), 0.2),
        ("a constant gradient of 1e-7", np.full(4, 1e-7, dtype=np.float32), 0.1),
    ]


_ADAM_SLIPS = {
    "fresh state": "every update is computed as a first step: m and s must be carried from one step to the next "
    "(start them at zero once, before the loop)",
    "eps inside": "eps is inside the square root; Adam (and optax.adam) divides by sqrt(s_hat) + eps, which matters "
    "when the gradient is as small as 1e-7",
    "heavy ball": "m is a running mean: m <- b1 m + (1 - b1) g, not b1 m + g",
    "swapped": "b1 and b2 are swapped: b1 = 0.9 averages the gradients, b2 = 0.999 their squares",
    "m only": "only m is bias-corrected: divide s by 1 - b2**t as well",
    "s only": "only s is bias-corrected: divide m by 1 - b1**t as well",
}


@checker("adam_updates", function=True)
def check_adam_updates(adam_updates: Callable[..., Any]) -> Feedback:
    """Exercise 7.2: ``adam_updates(grads, lr, bias_correction)`` should return Adam's updates
    (b1 = 0.9, b2 = 0.999, eps = 1e-8 outside the square root, m and s starting at zero) for the
    gradients ``grads`` of successive steps (first axis: the step), shaped like ``grads``, with or
    without the bias correction. Optax has no Adam without it.

    The references: ``optax.adam(lr)`` step after step when ``bias_correction`` is true, and the
    formulas in float64 NumPy when it is false (the unit tests check that the same formulas with
    the correction give optax's updates).
    """
    for i, (description, grads, lr) in enumerate(_adam_cases(), start=1):
        for correction in (False, True):
            where = f"with bias_correction={correction} on {description} (lr={lr})"
            got = call_on_jax_arrays(
                adam_updates, grads.copy(), lr, correction, name="adam_updates", where=f"on test input {i}, {where}"
            )
            expected = _optax_adam_reference(i - 1) if correction else _np_adam_updates(grads, lr, False)
            got_array = as_array(got)
            if (
                got_array is not None
                and got_array.shape == expected.shape
                and np.allclose(got_array, expected, rtol=1e-3, atol=1e-7 * lr)
            ):
                continue
            if got_array is not None and got_array.shape == expected.shape:
                if not np.all(np.isfinite(got_array)):
                    return Feedback(
                        False,
                        f"adam_updates contains NaN or infinity {where}: is the step t counted from 1? At t = 0 the "
                        "correction 1 - b1**t is zero",
                    )
                other = _np_adam_updates(grads, lr, not correction)
                if np.allclose(got_array, other, rtol=1e-3, atol=1e-7 * lr):
                    if correction:
                        message = (
                            "these updates have no bias correction: with bias_correction=True divide m by "
                            "1 - b1**t and s by 1 - b2**t, with t = 1 at the first step"
                        )
                    else:
                        message = "these updates are bias-corrected: with bias_correction=False use m and s as they are"
                    return Feedback(False, f"{where}: {message}")
                if np.allclose(-got_array, expected, rtol=1e-3, atol=1e-7 * lr):
                    return Feedback(
                        False,
                        f"{where}: the updates have the wrong sign; an update is ADDED to the parameters, -lr m/(sqrt(s) + eps)",
                    )
                if np.allclose(got_array * lr, expected, rtol=1e-3, atol=1e-7 * lr):
                    return Feedback(False, f"{where}: the updates are not multiplied by the learning rate lr")
                if np.allclose(got_array, np.abs(expected), rtol=1e-3, atol=1e-7 * lr) and np.any(expected > 0):
                    return Feedback(False, f"{where}: these are the sizes |u_t|; return the signed updates")
                for slip, message in _ADAM_SLIPS.items():
                    wrong = _np_adam_updates(grads, lr, correction, slip=slip)
                    if np.allclose(got_array, wrong, rtol=1e-3, atol=1e-7 * lr):
                        return Feedback(False, f"{where}: {message}")
            require(compare_arrays(got, expected, name=f"the updates {where}", rtol=1e-3, atol=1e-7 * lr))
    return Feedback(
        True,
        "adam_updates matches optax.adam with the bias correction and the formulas without it: uncorrected, the "
        "first steps are several times lr",
    )


def _first_update(tx: Any, grads: dict, params: dict, *, name: str) -> np.ndarray:
    # the first update of tx from a fresh state, flattened in key order (float64)
    state = call_student(tx.init, params, name=f"{name}.init")
    result = call_student(tx.update, grads, state, params, name=f"{name}.update")
    if (
        not isinstance(result, tuple)
        or len(result) != 2
        or not isinstance(result[0], dict)
        or set(result[0]) != set(grads)
    ):
        raise fail(f"{name}.update should return (updates, state) with updates shaped like the gradients")
    flat = _flat(result[0])
    if flat is None:
        raise fail(f"{name}.update returned updates that are not arrays of numbers")
    return flat


def _clip_problem() -> tuple[dict, dict]:
    """The parameters and the two gradients (global norms about 30 and 0.3: clipped, and not) on
    which check_clipped_sgd takes a first step, in float32."""
    rng = np.random.default_rng(73)
    params = {
        "W1": rng.normal(size=(2, 2)) * 5.0,
        "b1": rng.normal(size=2) * 5.0,
        "w2": rng.normal(size=2) * 5.0,
        "b2": np.float64(3.0),
    }
    params = jax.tree.map(lambda a: np.asarray(a, dtype=np.float32), params)
    cases = {
        "large": jax.tree.map(lambda g: np.asarray(10.0 * g, dtype=np.float32), _test_grads(3)),
        "small": jax.tree.map(lambda g: np.asarray(0.01 * g, dtype=np.float32), _test_grads(4)),
    }
    return params, cases


def _clip_optimizers(max_norm: float, wd: float, lr: float) -> list[tuple[Any, str]]:
    """The reference chain (message ``""``), then the slips check_clipped_sgd names, with their messages."""
    clip, decay, sgd = optax.clip_by_global_norm(max_norm), optax.add_decayed_weights(wd), optax.sgd(lr)
    return [
        (optax.chain(clip, decay, sgd), ""),
        (
            optax.chain(optax.clip(max_norm), decay, sgd),
            "optax.clip clips each entry separately and changes the direction; clip_by_global_norm rescales "
            "the whole gradient",
        ),
        (
            optax.chain(clip, sgd),
            "there is no weight decay: put optax.add_decayed_weights(0.01) between the clipping and the SGD step",
        ),
        (
            optax.chain(decay, clip, sgd),
            "the decay was added before the clipping, so it was clipped with the gradient: clip first, then "
            "add_decayed_weights",
        ),
        (
            optax.chain(decay, sgd),
            "the large gradient was not clipped: the update is the plain step -lr (g + wd params). Put "
            "optax.clip_by_global_norm(1.0) first in the chain",
        ),
        (optax.sgd(lr), "the large gradient was not clipped and there is no weight decay: this is plain SGD"),
        (
            optax.chain(decay, sgd, clip),
            "the update has norm 1: the SGD step was clipped to norm 1, not the gradient; chain "
            "clip_by_global_norm(1.0) first, then the decay, then sgd(0.1)",
        ),
        (
            optax.chain(clip, sgd, decay),
            "the decay was added after the SGD step, so it enters the update as +wd params, without the "
            "learning rate and with the sign that pushes the parameters away from zero: add it before sgd",
        ),
        (
            optax.chain(clip, optax.add_decayed_weights(-wd), sgd),
            "the decay has the wrong sign: add_decayed_weights(0.01) adds +0.01 params, which sgd's minus "
            "sign turns into a pull towards zero",
        ),
        (
            optax.chain(clip, decay, optax.scale(lr)),
            "the update has the wrong sign: optax updates are ADDED, so SGD's is -lr times",
        ),
    ]


@cache
def _clip_references(max_norm: float, wd: float, lr: float) -> list[tuple[dict[str, np.ndarray], str]]:
    """The first update of the reference and of each slip of ``_clip_optimizers`` on both gradients
    of ``_clip_problem``, flattened in key order, with the slip's message. They depend on nothing
    the student passes, so they are computed once per process, in one compiled call."""
    optimizers = _clip_optimizers(max_norm, wd, lr)

    @jax.jit
    def first_updates(params: dict, cases: dict) -> list[dict]:
        return [
            {label: tx.update(grads, tx.init(params), params)[0] for label, grads in cases.items()}
            for tx, _ in optimizers
        ]

    updates = first_updates(*_clip_problem())
    return [
        ({label: read_only(_flat(tree)) for label, tree in per_case.items()}, message)
        for per_case, (_, message) in zip(updates, optimizers)
    ]


@checker("tx")
def check_clipped_sgd(tx: Any, *, max_norm: float = 1.0, wd: float = 0.01, lr: float = 0.1) -> Feedback:
    """Exercise 7.3: ``tx`` should clip the gradients to global norm ``max_norm``, then add the
    decoupled weight decay ``wd * params`` (not clipped), then take an SGD step of learning rate
    ``lr``: ``optax.chain(optax.clip_by_global_norm(1.0), optax.add_decayed_weights(0.01),
    optax.sgd(0.1))``, whose update is ``-lr * (clip(g) + wd * params)``. The slips are named by
    comparing with the optimisers they build.
    """
    if not isinstance(tx, optax.GradientTransformation):
        return Feedback(
            False, f"tx should be an optax.GradientTransformation, e.g. built with optax.chain; got {type(tx).__name__}"
        )
    params, cases = _clip_problem()
    got = {label: _first_update(tx, grads, params, name="tx") for label, grads in cases.items()}
    for label, flat_got in got.items():
        if not np.all(np.isfinite(flat_got)):
            return Feedback(False, f"the update on {label} gradients contains NaN or infinity")

    def same_as(other: dict[str, np.ndarray]) -> bool:
        return all(np.allclose(got[label], other[label], rtol=1e-4, atol=1e-7) for label in cases)

    (reference, _), *slips = _clip_references(float(max_norm), float(wd), float(lr))
    if same_as(reference):
        return Feedback(True, "tx clips the gradient to global norm 1, adds the weight decay, then steps with lr 0.1")
    for other, message in slips:
        if same_as(other):
            return Feedback(False, message)
    flat_expected = reference["large"]
    ratio = np.linalg.norm(got["large"]) / max(np.linalg.norm(flat_expected), 1e-30)
    return Feedback(
        False,
        f"on the large gradient the update's norm is {ratio:.3g} times the expected one; check the learning rate, "
        "the clipping threshold and the decay",
    )


def _flat(tree: Any) -> np.ndarray | None:
    # the leaves of a dict of arrays, in key order, as one float64 vector (None if not numeric)
    if not isinstance(tree, dict):
        return None
    parts = [as_array(tree[k]) for k in sorted(tree)]
    if any(p is None for p in parts):
        return None
    return np.concatenate([np.ravel(p) for p in parts])


def _run_updates(tx: Any, grads_sequence: list, *, name: str) -> list:
    # feed a sequence of gradients to tx from one fresh state; return the updates
    params = grads_sequence[0]
    state = call_student(tx.init, params, name=f"{name}.init", allow_none=True)
    updates = []
    for t, grads in enumerate(grads_sequence, start=1):
        result = call_student(tx.update, grads, state, params, name=f"{name}.update", where=f"at step {t}")
        if not isinstance(result, tuple) or len(result) != 2:
            raise fail(f"{name}.update should return a pair (updates, new_state); got {type(result).__name__}")
        update, state = result
        updates.append(update)
    return updates


@checker("momentum", function=True)
def check_momentum(momentum: Any) -> Feedback:
    """Exercise 7.4: ``momentum(lr, beta)`` should return an ``optax.GradientTransformation``,
    written with ``init`` and ``update`` functions, whose updates are ``-lr * v`` with the velocity
    ``v <- beta * v + g`` (``v`` starts at zero): those of ``optax.sgd(lr, momentum=beta)``.
    """
    rng = np.random.default_rng(74)
    for lr, beta in [(0.1, 0.9), (0.03, 0.5)]:
        tx = call_student(momentum, lr, beta, name="momentum", where=f"with lr={lr}, beta={beta}")
        if not isinstance(tx, optax.GradientTransformation):
            return Feedback(
                False,
                "momentum(lr, beta) should return an optax.GradientTransformation(init, update); "
                f"got {type(tx).__name__}",
            )
        grads_sequence = [
            {"W": rng.normal(size=(2, 3)).astype(np.float32), "b": rng.normal(size=3).astype(np.float32)}
            for _ in range(4)
        ]
        got = _run_updates(tx, grads_sequence, name="tx")
        reference = optax.sgd(lr, momentum=beta)
        expected = _run_updates(reference, grads_sequence, name="optax.sgd")
        for t, (g, e) in enumerate(zip(got, expected), start=1):
            flat_got, flat_expected = _flat(g), _flat(e)
            if flat_got is None or set(g) != set(e):
                return Feedback(
                    False, f"the updates at step {t} should be a dict shaped like the gradients {sorted(e)}"
                )
            if np.allclose(flat_got, flat_expected, rtol=1e-4, atol=1e-7):
                continue
            plain = _flat(grads_sequence[t - 1]) * -lr
            if t > 1 and np.allclose(flat_got, plain, rtol=1e-4, atol=1e-7):
                return Feedback(
                    False,
                    "from step 2 on the update is the plain SGD step -lr * g: the velocity is not carried "
                    "from one step to the next (update must return the new velocity as the new state)",
                )
            ema = optax.chain(optax.ema(beta, debias=False), optax.scale(-lr))
            ema_updates = _run_updates(ema, grads_sequence, name="reference")
            if np.allclose(flat_got, _flat(ema_updates[t - 1]), rtol=1e-4, atol=1e-7):
                return Feedback(
                    False,
                    "your velocity is a running mean, v <- beta v + (1 - beta) g; heavy-ball momentum "
                    "adds the whole gradient: v <- beta v + g",
                )
            if np.allclose(flat_got, -flat_expected, rtol=1e-4, atol=1e-7):
                return Feedback(False, "the update has the wrong sign: optax updates are ADDED, so it is -lr * v")
            if t == 1 and np.allclose(flat_got, 0.0, atol=1e-12):
                return Feedback(
                    False,
                    "the first update is zero: update the velocity with the new gradient first, then step with it",
                )
            return Feedback(
                False,
                f"with lr={lr}, beta={beta} the update at step {t} differs from optax.sgd(lr, momentum=beta) "
                f"(largest difference {np.max(np.abs(flat_got - flat_expected)):.3g})",
            )
    return Feedback(True, "momentum matches optax.sgd(lr, momentum=beta) step after step")


def _rmsprop_sizes(lr: float, g: float, num_steps: int) -> np.ndarray:
    # optax.rmsprop's defaults: decay 0.9, eps 1e-8 inside the square root, s starts at 0
    t = np.arange(1, num_steps + 1)
    s = (1.0 - 0.9**t) * g**2
    return lr * abs(g) / np.sqrt(s + 1e-8)


@checker("rmsprop_step_sizes", function=True)
def check_rmsprop_step_sizes(rmsprop_step_sizes: Callable[..., Any]) -> Feedback:
    """Exercise 7.5: ``rmsprop_step_sizes(lr, g, num_steps)`` should return the sizes ``|update|`` of
    the first ``num_steps`` updates of ``optax.rmsprop(lr)`` (one parameter, constant gradient
    ``g``, one state threaded through the steps). The reference is the closed form
    ``lr |g| / sqrt((1 - 0.9**t) g**2 + 1e-8)``.
    """
    cases = [(0.1, 2.0, 6), (0.01, -0.5, 4), (0.1, 1e-4, 5)]
    for lr, g, num_steps in cases:
        where = f"with lr={lr}, g={g}, num_steps={num_steps}"
        got = call_student(rmsprop_step_sizes, lr, g, num_steps, name="rmsprop_step_sizes", where=where)
        expected = _rmsprop_sizes(lr, g, num_steps)
        got_array = as_array(got)
        if got_array is not None and got_array.shape == expected.shape:
            if np.allclose(got_array, -np.sign(g) * expected, rtol=1e-3) and not np.allclose(got_array, expected):
                return Feedback(False, f"{where}: these are the signed updates; the sizes are their absolute values")
            if np.allclose(got_array, expected[0], rtol=1e-3):
                return Feedback(
                    False,
                    f"{where}: every step has the size of the first: the state is initialised afresh at each "
                    "step; init once and pass each update's new state to the next",
                )
            if np.allclose(got_array, lr, rtol=1e-3):
                return Feedback(
                    False, f"{where}: every step has size lr: that is Adam's bias-corrected step, not RMSprop's"
                )
            t = np.arange(1, num_steps + 1)
            outside = lr * abs(g) / (np.sqrt((1.0 - 0.9**t) * g**2) + 1e-8)
            without_eps = lr / np.sqrt(1.0 - 0.9**t)
            if abs(g) < 1e-3 and (
                np.allclose(got_array, without_eps, rtol=1e-3) or np.allclose(got_array, outside, rtol=1e-3)
            ):
                return Feedback(
                    False,
                    f"{where}: these sizes leave eps out, or put it outside the square root, g / (sqrt(s) + eps); "
                    "optax.rmsprop divides by sqrt(s + eps), which matters when g**2 is as small as eps = 1e-8: "
                    "compute the sizes with optax.rmsprop",
                )
        require(compare_arrays(got, expected, name=f"the step sizes {where}", rtol=1e-3, atol=1e-9))
    return Feedback(
        True,
        "rmsprop_step_sizes matches optax.rmsprop: the first step is about 3.2 lr, and the steps shrink towards lr",
    )


def _squared_error(params: Any, X: Any, y: Any) -> Any:
    return ((X @ params["w"] + params["b"] - y) ** 2).mean()


@partial(jax.jit, static_argnames=("tx", "variant"))
def _reference_step(tx: Any, params: Any, state: Any, Xb: Any, yb: Any, variant: str) -> tuple:
    # one step of the reference loop, compiled once per optimiser and variant (the check's own code)
    if variant == "fresh state":
        state = tx.init(params)
    loss, grads = jax.value_and_grad(_squared_error)(params, Xb, yb)
    updates, state = tx.update(grads, state, params)
    params = (
        jax.tree.map(lambda p, u: p - u, params, updates)
        if variant == "subtract"
        else optax.apply_updates(params, updates)
    )
    return params, state, _squared_error(params, Xb, yb) if variant == "after" else loss


def _reference_loop(tx: Any, params: Any, X: np.ndarray, y: np.ndarray, rows: np.ndarray, variant: str = "") -> tuple:
    # the loop of Exercise 7.6 step by step in Python (variant: a common slip, to name it)
    state = tx.init(params)
    losses = []
    for batch in rows:
        Xb, yb = (X, y) if variant == "full batch" else (X[batch], y[batch])
        params, state, loss = _reference_step(tx, params, state, Xb, yb, variant)
        losses.append(loss)
    return params, np.asarray(losses, dtype=np.float64)


#: The optimisers check_train_on_batches runs, made once so that the compiled reference steps are reused.
_BATCH_OPTIMIZERS = (
    ("optax.adam(0.05)", optax.adam(0.05)),
    ("optax.sgd(0.05, momentum=0.9)", optax.sgd(0.05, momentum=0.9)),
)


def _batch_problem() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(X, y, rows, start) of check_train_on_batches, the same every time."""
    rng = np.random.default_rng(76)
    X = rng.normal(size=(40, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rng.normal(size=40)).astype(np.float32)
    rows = np.stack([rng.permutation(40)[:8] for _ in range(12)])
    start = {"w": np.zeros(3, dtype=np.float32), "b": np.float32(0.0)}
    return X, y, rows, start


@cache
def _batch_reference(optimizer: int, variant: str = "") -> tuple:
    """``_reference_loop`` on the problem of check_train_on_batches with ``_BATCH_OPTIMIZERS[optimizer]``:
    it depends on nothing the student passes, so it is run once per process."""
    X, y, rows, start = _batch_problem()
    params, losses = _reference_loop(_BATCH_OPTIMIZERS[optimizer][1], start, X, y, rows, variant)
    return params, read_only(losses)


@checker("train_on_batches", function=True)
def check_train_on_batches(train_on_batches: Callable[..., Any]) -> Feedback:
    """Exercise 7.6: ``train_on_batches(tx, loss_fn, params, X, y, rows)`` should run one optax
    step per row of ``rows`` (the mini-batch ``X[rows[t]], y[rows[t]]``), carrying the optimiser
    state, and return ``(params, losses)`` with each step's mini-batch loss before its update. The
    reference is the same loop written step by step in Python.
    """
    X, y, rows, start = _batch_problem()
    # the student's function gets JAX arrays, as the notebook's data are: a plain (not jitted) scan
    # indexes X with a traced batch, which a NumPy X would refuse
    X_jax, y_jax, rows_jax = jnp.asarray(X), jnp.asarray(y), jnp.asarray(rows)
    for k, (label, tx) in enumerate(_BATCH_OPTIMIZERS):
        where = f"with tx = {label}"
        fresh = {name: value.copy() for name, value in start.items()}  # a loop that changes params in place
        got = call_student(
            train_on_batches, tx, _squared_error, fresh, X_jax, y_jax, rows_jax, name="train_on_batches", where=where
        )
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return Feedback(False, f"train_on_batches should return a pair (params, losses); got {type(got).__name__}")
        got_params, got_losses = got
        flat = _flat(got_params) if isinstance(got_params, dict) and set(got_params) == {"w", "b"} else None
        if flat is None:
            return Feedback(
                False, "the first item returned should be the final params, a dict with the keys of params: 'b', 'w'"
            )
        losses = as_array(got_losses)
        if losses is None or losses.shape != (len(rows),):
            shape = None if losses is None else losses.shape
            return Feedback(False, f"the losses should have one entry per step, shape ({len(rows)},); got {shape}")
        expected_params, expected_losses = _batch_reference(k)
        if np.allclose(flat, _flat(expected_params), rtol=1e-3, atol=1e-5) and np.allclose(
            losses, expected_losses, rtol=1e-3, atol=1e-6
        ):
            continue
        slips = {
            "fresh state": "the optimiser state is not carried from step to step: call tx.init once, before the "
            "scan, and pass each update's new state to the next step",
            "full batch": "every step used all of X and y: step t should use only its mini-batch X[rows[t]], y[rows[t]]",
            "subtract": "the updates were subtracted: optax's updates already carry the minus sign, add them with "
            "optax.apply_updates",
        }
        for variant, message in slips.items():
            wrong_params, wrong_losses = _batch_reference(k, variant)
            if np.allclose(flat, _flat(wrong_params), rtol=1e-3, atol=1e-5):
                return Feedback(False, f"{where}: {message}")
        if np.allclose(flat, _flat(expected_params), rtol=1e-3, atol=1e-5):
            _, after = _batch_reference(k, "after")
            if np.allclose(losses, after, rtol=1e-3, atol=1e-6):
                return Feedback(
                    False,
                    f"{where}: the losses are measured after each update; record the loss before it, the value "
                    "that value_and_grad returns with the gradient",
                )
            return Feedback(
                False, f"{where}: the final params are right, but the losses differ from each step's mini-batch loss"
            )
        return Feedback(
            False,
            f"{where}: the final params differ from the reference loop's (largest difference "
            f"{np.max(np.abs(flat - _flat(expected_params))):.3g})",
        )
    return Feedback(True, "train_on_batches takes the same steps as optax does one by one, with Adam and with momentum")
