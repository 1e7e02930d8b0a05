"""Checkers for the exercises of Chapter 2 (gradient descent on quadratics and cost surfaces).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxbook.checks._compare import as_array, as_number, compare_arrays, sample_size_hints
from jaxbook.checks._core import Feedback, StudentError, call_on_jax_arrays, call_student, checker, fail


def _numbers(got: Any, name: str, i: int) -> np.ndarray:
    array = as_array(got)
    if array is None:
        raise fail(f"{name} should return numbers; got {type(got).__name__} on test input {i}")
    return array


def _bowl(t):
    return t[0] ** 2 + t[1] ** 2


def _tilted(t):
    return 3.0 * t[0] ** 2 + 0.5 * t[1] ** 2 + t[0] * t[1]


def _wavy(t):
    return jnp.sum(jnp.cos(t)) + jnp.sum(t**2)


# (f, its gradient in NumPy, start, learning rate); module-level, so a student's jit compiles once
_STEP_CASES = (
    (_bowl, lambda t: 2.0 * t, np.array([2.0, 1.0], np.float32), 0.1),
    (_tilted, lambda t: np.array([6.0 * t[0] + t[1], t[1] + t[0]]), np.array([-1.0, 2.0], np.float32), 0.05),
    (_wavy, lambda t: -np.sin(t) + 2.0 * t, np.array([0.3, -0.7, 1.1], np.float32), 0.2),
)


def _pytree_loss(params):
    return jnp.sum(params["w"] ** 2) + 3.0 * params["b"] ** 2


@checker("gradient_step", function=True)
def check_gradient_step(gradient_step: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 2.1: ``gradient_step(f, params, lr)`` should return ``p - rate * dp`` for every leaf
    ``p`` of ``params``, with ``dp`` its gradient and ``rate`` the matching leaf of ``lr``, which has
    the structure of ``params`` (a number for an array, a dict of numbers for a dict).

    Tested on three functions of an array (the bowl from (2, 1) with lr 0.1 first) and on one of a
    dict ``{"w": (2,), "b": ()}`` with ``lr = {"w": 0.1, "b": 0.05}``; the reference is each
    function's gradient written out in NumPy. Diagnoses (on all three array inputs at once, so that
    slips that coincide on the bowl are told apart) a step uphill, a forgotten learning rate, the
    change or the gradient returned instead of the new parameters, a step of ``lr`` times ``t``, a
    step of the wrong size, an answer that works on arrays but not on a dict, and one rate used for
    every leaf.
    """
    results = []
    for i, (f, grad, t, lr) in enumerate(_STEP_CASES, start=1):
        got = _numbers(
            call_student(gradient_step, f, jnp.asarray(t), lr, name="gradient_step", where=f"on test input {i}"),
            "gradient_step",
            i,
        )
        t64 = t.astype(np.float64)
        if got.shape != t64.shape:
            return Feedback(
                False,
                f"gradient_step should return the new parameters, shape {t64.shape}; got shape {got.shape} on test input {i}",
            )
        results.append((got, t64, grad(t64), lr))

    def everywhere(candidate: Callable[[np.ndarray, np.ndarray, float], np.ndarray]) -> bool:
        return all(np.allclose(got, candidate(t, g, lr), rtol=1e-4, atol=1e-5) for got, t, g, lr in results)

    if not everywhere(lambda t, g, lr: t - lr * g):
        diagnoses = [
            (
                lambda t, g, lr: t + lr * g,
                "the step goes uphill: subtract lr * gradient (the gradient points to where f grows)",
            ),
            (lambda t, g, lr: t - g, "the step ignores the learning rate: multiply the gradient by lr"),
            (lambda t, g, lr: -lr * g, "return the new parameters t - lr * grad f(t), not only the change"),
            (lambda t, g, lr: lr * g, "return the new parameters t - lr * grad f(t), not only the change"),
            (lambda t, g, lr: g, "that is the gradient; return the new parameters t - lr * grad f(t)"),
            (lambda t, g, lr: t - lr * t, "the step uses t instead of the gradient of f at t: use jax.grad(f)(t)"),
        ]
        for candidate, message in diagnoses:
            if everywhere(candidate):
                return Feedback(False, message)
        got, t, g, lr = results[0]
        ratios = [float(np.dot(t - got, g) / (lr * np.dot(g, g))) for got, t, g, lr in results if np.dot(g, g) > 0]
        size = ratios[0]
        if abs(size) > 1e-3 and everywhere(lambda t, g, lr: t - size * lr * g):
            return Feedback(
                False,
                f"the step has the right direction but is {size:.4g} times lr * gradient: the step is exactly lr times the gradient",
            )
        for i, (got, t, g, lr) in enumerate(results, start=1):
            if not np.allclose(got, t - lr * g, rtol=1e-4, atol=1e-5):
                return compare_arrays(
                    got, t - lr * g, name=f"gradient_step(...) on test input {i}", rtol=1e-4, atol=1e-5
                )
    params = {"w": np.array([2.0, 1.0], np.float32), "b": np.float32(0.5)}
    rates = {"w": 0.1, "b": 0.05}
    expected_tree = {"w": np.array([1.6, 0.8]), "b": 0.5 - 0.05 * 6.0 * 0.5}
    try:
        got = call_student(
            gradient_step,
            _pytree_loss,
            {name: jnp.asarray(value) for name, value in params.items()},
            rates,
            name="gradient_step",
            where='on a dict {"w": ..., "b": ...} of parameters with lr = {"w": 0.1, "b": 0.05}',
        )
    except StudentError as exc:
        raise fail(
            f"{exc.feedback.message}. It works on an array, but params can be any pytree, and lr then has the same "
            "structure, one rate per leaf: jax.grad(f)(params) has the structure of params too, and "
            "jax.tree.map(lambda p, g, rate: ..., params, grads, lr) updates every leaf with its own rate"
        ) from None
    if not isinstance(got, dict) or set(got) != set(params):
        return Feedback(
            False,
            'on a dict {"w": ..., "b": ...} of parameters gradient_step should return a dict with the same keys; '
            f"got {type(got).__name__}" + (f" with keys {sorted(got)}" if isinstance(got, dict) else ""),
        )
    for name, expected_leaf in expected_tree.items():
        leaf = as_array(got[name])
        if leaf is None or leaf.shape != np.shape(expected_leaf):
            return Feedback(
                False,
                f'on the dict of parameters, the leaf "{name}" should be numbers of shape {np.shape(expected_leaf)}; '
                f"got {got[name]!r}",
            )
        if np.allclose(leaf, expected_leaf, rtol=1e-4, atol=1e-5):
            continue
        other = "b" if name == "w" else "w"
        if np.allclose(
            leaf,
            np.asarray(params[name], np.float64) * (1 - rates[other] * (2.0 if name == "w" else 6.0)),
            rtol=1e-4,
            atol=1e-5,
        ):
            return Feedback(
                False,
                f'the leaf "{name}" was stepped with the rate of "{other}": give each leaf its own rate, lr["{name}"]',
            )
        return Feedback(
            False,
            f'on the dict of parameters, the leaf "{name}" is {np.round(leaf, 5).tolist()}, expected '
            f"{np.round(expected_leaf, 5).tolist()}: update each leaf p by p - (its rate) * (its gradient)",
        )
    return Feedback(
        True,
        "gradient_step agrees with p - rate * (gradient of p) on 3 functions of an array and, leaf by leaf with "
        "its own rate, on a dict of parameters; the bowl goes from (2, 1) to (1.6, 0.8)",
    )


@checker("max_lr")
def check_max_learning_rate(max_lr: Any, *, a: float, b: float) -> Feedback:
    """Exercise 2.2: the largest stable learning rate of ``a t0^2 + b t1^2`` is ``1 / max(a, b)``.

    Each coordinate is multiplied per step by ``1 - 2 c lr`` (``c`` = a or b), which must stay in
    ``[-1, 1]``. The exercise bisects to 1e-6, so the answer must lie within 0.1 % of the limit;
    a rate just below it (within 2.5 %) gets a hint that the boundary itself is asked for.
    Diagnoses the shallow direction, a lost factor 2, the best (not largest) rate, and rates just
    above or below the limit.

    Example:
      >>> check_max_learning_rate(0.04, a=2.0, b=25.0)
      Correct: max_lr = 0.04 = 1 / max(a, b): beyond it the steep coordinate is multiplied by less than -1 per step
    """
    value = as_number(max_lr, "max_lr")
    steep, shallow = max(a, b), min(a, b)
    expected = 1.0 / steep
    factor = 1.0 - 2.0 * steep * value
    if np.isclose(value, expected, rtol=1e-3):
        return Feedback(
            True,
            f"max_lr = {value:.4g} = 1 / max(a, b): beyond it the steep coordinate is multiplied by less than -1 per step",
        )
    diagnoses = [
        (
            1.0 / shallow,
            "that is the limit of the shallow direction; the steep one (the larger coefficient) diverges first",
        ),
        (2.0 / steep, "the gradient of c t^2 is 2 c t, so the factor per step is 1 - 2 c lr: did you drop the 2?"),
        (
            0.5 / steep,
            "at 1 / (2 c) the steep coordinate lands on 0 in one step; larger rates still converge (oscillating) up to 1 / c",
        ),
        (1.0 / (a + b), "1 / (a + b) is the best fixed learning rate, not the largest stable one"),
    ]
    for wrong, message in diagnoses:
        if np.isclose(value, wrong, rtol=1e-3):
            return Feedback(False, message)
    if expected < value <= 1.1 * expected:
        return Feedback(
            False,
            f"max_lr = {value:.4g} is just above the limit: there the steep coordinate's factor 1 - 2 c lr "
            f"is {factor:.3f}, below -1, so it grows at every step",
        )
    if 0.975 * expected <= value < expected:
        return Feedback(
            False,
            f"max_lr = {value:.4g} is just below the boundary, where the steep coordinate's factor 1 - 2 c lr is "
            f"{factor:.3f}, not yet -1: store the boundary itself, bisected until the interval is shorter than 1e-6, "
            "not a rate safely below it",
        )
    if 0.9 * expected <= value < 0.975 * expected:
        return Feedback(
            False,
            f"max_lr = {value:.4g} is stable but not the largest: solve |1 - 2 c lr| <= 1 exactly for the steep coefficient",
        )
    return Feedback(
        False,
        f"max_lr = {value:.4g} is not the largest stable rate; write the factor 1 - 2 c lr for each coordinate and keep both in [-1, 1]",
    )


def _regression_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(22)
    cases = [
        (np.array([2.0, 2.0], np.float32), np.array([1.0, 2.0, 3.0], np.float32), np.array([1.0, 2.2, 2.8], np.float32))
    ]
    for n in (5, 12):
        x = rng.uniform(-2, 4, size=n).astype(np.float32)
        y = (0.5 + 1.5 * x + rng.normal(size=n)).astype(np.float32)
        cases.append((rng.normal(size=2).astype(np.float32), x, y))
    return cases


@checker("regression_gradient", function=True)
def check_regression_gradient(regression_gradient: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 2.3: ``regression_gradient(b, x, y)`` should return the gradient of
    ``mean((b0 + b1 x - y)^2)`` with respect to ``(b0, b1)``, shape ``(2,)``.

    The reference is ``(2/n) (sum e, sum e x)`` in float64; at ``b = (2, 2)`` on ``x = (1, 2, 3)``,
    ``y = (1, 2.2, 2.8)`` it is ``(8, 17.4667)``. Diagnoses a sum instead of a mean, ``n - 1``, a
    lost 2, a sign and a swapped order.
    """
    for i, (b, x, y) in enumerate(_regression_cases(), start=1):
        got = call_on_jax_arrays(regression_gradient, b, x, y, name="regression_gradient", where=f"on test input {i}")
        b64, x64, y64 = (v.astype(np.float64) for v in (b, x, y))
        errors = b64[0] + b64[1] * x64 - y64
        n = len(x)
        expected = 2.0 / n * np.array([errors.sum(), (errors * x64).sum()])
        hints = sample_size_hints(n)
        hints[float(n)] = f"the cost is a mean over the n = {n} examples, so its gradient has 2/n, not 2 (a sum)"
        hints[0.5] = "the derivative of a square brings down a factor of 2"
        hints[float(n) / 2] = "the gradient of a mean of squares is (2/n) X^T e: you used a sum and dropped the 2"
        hints[0.5 * n / (n - 1)] = f"you divided by n - 1 = {n - 1} instead of n and dropped the 2"
        if n == 3:  # n / (n - 1) = n / 2: both slips give the factor 1.5
            hints[1.5] = (
                "you divided by n - 1 = 2 instead of n = 3, or used a sum and dropped the 2: the gradient is (2/n) X^T e"
            )
        result = compare_arrays(
            got, expected, name=f"the gradient on test input {i}", rtol=1e-4, atol=1e-4, hints=hints
        )
        if not result.ok:
            if "reverse order" in result.message:
                return Feedback(
                    False,
                    "the entries are swapped: first the derivative with respect to the intercept b0, then the slope b1",
                )
            return result
    return Feedback(
        True, "regression_gradient agrees with jax.grad on 3 data sets, (8, 17.4667) at (2, 2) on the three points"
    )


def _back_transform_x_cases() -> list[tuple[np.ndarray, float, float]]:
    return [
        (np.array([40.9, 10.41], np.float32), 5.0, 5.7807),
        (np.array([3.0, -0.5], np.float32), -2.0, 0.5),
        (np.array([-4.0, 0.8], np.float32), 10.0, 3.0),
    ]


@checker("back_transform_x", function=True)
def check_back_transform_x(back_transform_x: Callable[..., Any]) -> Feedback:
    """Exercise 2.4: ``back_transform_x(b, x_mean, x_sd)`` should map ``(b0, b1)`` of
    ``y = b0 + b1 x_s`` (only ``x`` standardised, ``y`` in its own units) back to
    ``(intercept, slope)`` with ``slope = b1 / x_sd`` and ``intercept = b0 - slope * x_mean``.

    The reference is that formula in float64 on three inputs (the first like the thermometer data).
    Diagnoses a missing shift ``- slope * x_mean``, a shift of the wrong sign, a shift by the
    unscaled ``b1 * x_mean`` (the chapter's slip, in this setting), a slope scaled the wrong way or
    not at all, and a swapped pair.

    Example:
      >>> check_back_transform_x(lambda b, m, s: (b[0] - b[1] / s * m, b[1] / s))
      Correct: back_transform_x maps the coefficients of a fit on standardised x back correctly on 3 test inputs
    """
    for i, (b, x_mean, x_sd) in enumerate(_back_transform_x_cases(), start=1):
        got = _numbers(
            call_student(
                back_transform_x, jnp.asarray(b), x_mean, x_sd, name="back_transform_x", where=f"on test input {i}"
            ),
            "back_transform_x",
            i,
        )
        if got.shape != (2,):
            return Feedback(False, f"back_transform_x should return a pair (intercept, slope); got shape {got.shape}")
        if not np.all(np.isfinite(got)):
            return Feedback(False, f"back_transform_x returned NaN or infinity on test input {i}: {got.tolist()}")
        b0, b1 = (float(v) for v in b)
        slope = b1 / x_sd
        intercept = b0 - slope * x_mean
        close = lambda value, target: np.isclose(value, target, rtol=1e-4, atol=1e-4)
        if close(got[0], slope) and close(got[1], intercept):
            return Feedback(False, "the pair is in the wrong order: return (intercept, slope)")
        if not close(got[1], slope):
            if close(got[1], b1 * x_sd):
                return Feedback(
                    False, "the slope is scaled the wrong way: x_s = (x - x_mean) / x_sd, so slope = b1 / x_sd"
                )
            if close(got[1], b1):
                return Feedback(False, "the slope is still per standard deviation of x: divide b1 by x_sd")
            return Feedback(False, f"the slope on test input {i} is {got[1]:.6g}, expected {slope:.6g}")
        if close(got[0], intercept):
            continue
        if close(got[0], b0):
            return Feedback(
                False, "the intercept is missing - slope * x_mean: x was centred, so the line must be shifted back"
            )
        if close(got[0], b0 + slope * x_mean):
            return Feedback(
                False, "the intercept adds slope * x_mean: subtract it (at x = x_mean the line must give b0)"
            )
        if close(got[0], b0 - b1 * x_mean):
            return Feedback(
                False,
                "the intercept shifts by b1 * x_mean, with the slope still in standardised units: use slope * x_mean "
                "with slope = b1 / x_sd",
            )
        return Feedback(False, f"the intercept on test input {i} is {got[0]:.6g}, expected {intercept:.6g}")
    return Feedback(
        True, "back_transform_x maps the coefficients of a fit on standardised x back correctly on 3 test inputs"
    )
