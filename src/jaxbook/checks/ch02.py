"""Checkers for the exercises of Chapter 2 (gradient descent on quadratics and cost surfaces).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook.checks._compare import as_array, as_number, compare_arrays, require, sample_size_hints
from jaxbook.checks._core import Feedback, StudentError, call_on_jax_arrays, call_student, checker, fail
from jaxbook.checks._references import read_only


def _numbers(got: Any, name: str, i: int) -> np.ndarray:
    array = as_array(got)
    if array is None:
        raise fail(f"{name} should return numbers; got {type(got).__name__} on test input {i}")
    return array


@jax.jit  # a student's vmap of it is one batched program, not one per operation
def _line_mse(b, x, y):
    return jnp.mean((b[0] + b[1] * x - y) ** 2)


def _line_mse_np(b, x, y):
    return float(np.mean((b[0] + b[1] * x - y) ** 2))


@jax.jit
def _line_log_cosh(b, x, y):
    return jnp.sum(jnp.log(jnp.cosh(b[0] + b[1] * x - y))) + 0.1 * b[0] ** 2 * b[1]


def _line_log_cosh_np(b, x, y):
    return float(np.sum(np.log(np.cosh(b[0] + b[1] * x - y))) + 0.1 * b[0] ** 2 * b[1])


def _grid_cases():
    """(loss, NumPy loss, intercepts, slopes, x, y): grids of unequal, irregular axes."""
    rng = np.random.default_rng(31)
    x1 = np.array([1.0, 2.0, 3.0], np.float32)
    y1 = np.array([1.0, 2.2, 2.8], np.float32)
    x2 = rng.uniform(-2.0, 3.0, size=8).astype(np.float32)
    y2 = (0.5 - 1.2 * x2 + 0.3 * rng.normal(size=8)).astype(np.float32)
    return [
        (
            _line_mse,
            _line_mse_np,
            np.array([-1.0, 0.0, 0.5, 2.0, 3.5], np.float32),
            np.array([-0.5, 0.4, 0.9, 2.0], np.float32),
            x1,
            y1,
        ),
        (
            _line_log_cosh,
            _line_log_cosh_np,
            np.sort(rng.uniform(-2, 2, size=7)).astype(np.float32),
            np.sort(rng.uniform(-3, 1, size=4)).astype(np.float32),
            x2,
            y2,
        ),
    ]


class _Counted:
    """The loss handed to the student's function, counting how often Python calls it."""

    def __init__(self, loss):
        self.loss, self.calls = loss, 0

    def __call__(self, *args):
        self.calls += 1
        return self.loss(*args)


@checker("loss_grid", function=True)
def check_loss_grid(loss_grid: Callable[..., Any]) -> Feedback:
    """Exercise 2.1: ``loss_grid(loss_fn, intercepts, slopes, x, y)`` should return ``Z`` of shape
    ``(len(slopes), len(intercepts))`` with ``Z[i, j] = loss_fn(jnp.array([intercepts[j], slopes[i]]), x, y)``.

    The reference is a NumPy double loop over the grid, on two losses and grids of the checker's
    own (axes of unequal, irregular lengths, so that a transpose changes the shape). Diagnoses the
    transposed grid, the parameters passed as (slope, intercept), a flat result not reshaped, and
    ``vmap`` mapping over the data (``in_axes`` for ``x`` and ``y`` should be ``None``). A Python
    loop (over the points, or over the rows around one ``vmap``) gives the right values but is
    not what the exercise asks: it gets "Not yet", detected by counting the calls of ``loss_fn``
    (``vmap``, ``jit``, ``lax.map`` and ``jnp.vectorize`` trace it once).
    """
    loops = []
    for i, (loss, loss_np, intercepts, slopes, x, y) in enumerate(_grid_cases(), start=1):
        x64, y64 = x.astype(np.float64), y.astype(np.float64)
        expected = np.array(
            [
                [loss_np(np.array([b0, b1], np.float64), x64, y64) for b0 in intercepts.astype(np.float64)]
                for b1 in slopes.astype(np.float64)
            ]
        )
        counted = _Counted(loss)
        where = f"on test input {i} ({len(intercepts)} intercepts, {len(slopes)} slopes, {len(x)} data points)"
        try:
            got = call_on_jax_arrays(loss_grid, counted, intercepts, slopes, x, y, name="loss_grid", where=where)
        except StudentError as exc:
            if "inconsistent sizes" in exc.feedback.message:
                raise fail(
                    f"loss_grid raised an error {where}: vmap was asked to map over arguments of different "
                    "lengths. vmap maps over the leading axis of every argument unless in_axes says otherwise; "
                    "the data x and y are the same for every grid point, so give them in_axes=None "
                    "(e.g. jax.vmap(loss_fn, in_axes=(0, None, None)))"
                ) from None
            raise
        array = as_array(got)
        if array is None:
            raise fail(f"loss_grid should return an array; got {type(got).__name__} {where}")
        if array.shape == expected.shape[::-1]:
            return Feedback(
                False,
                f"loss_grid returned shape {array.shape} {where}, expected {expected.shape}: the grid is transposed. "
                "Rows go with the slopes (the vertical axis of a contour plot), columns with the intercepts: "
                'Z[i, j] = loss_fn([intercepts[j], slopes[i]], x, y); meshgrid\'s default indexing ("xy") gives '
                'this layout, indexing="ij" or vmaps nested the other way round its transpose',
            )
        if array.shape == (expected.size,):
            return Feedback(
                False,
                f"loss_grid returned {array.shape[0]} values in a flat array {where}: reshape them into the grid, "
                f"shape {expected.shape}",
            )
        if array.shape == expected.shape:
            swapped = np.array(
                [
                    [loss_np(np.array([b1, b0], np.float64), x64, y64) for b0 in intercepts.astype(np.float64)]
                    for b1 in slopes.astype(np.float64)
                ]
            )
            if np.allclose(array, swapped, rtol=1e-4, atol=1e-4) and not np.allclose(
                array, expected, rtol=1e-4, atol=1e-4
            ):
                return Feedback(
                    False,
                    "the parameters went in as (slope, intercept): loss_fn takes b = (intercept, slope), "
                    "so the point of row i and column j is jnp.array([intercepts[j], slopes[i]])",
                )
        require(compare_arrays(array, expected, name=f"loss_grid(...) {where}", rtol=1e-4, atol=1e-4))
        loops.append(counted.calls)
    if max(loops) > 2:
        return Feedback(
            False,
            f"loss_grid gives the right values, but it called loss_fn {max(loops)} times, once per grid point or "
            "row: that is a Python loop, and the exercise asks for jax.vmap, which calls loss_fn once (it traces "
            "it with the whole batch)",
        )
    return Feedback(True, "loss_grid agrees with a double loop over the grid on 2 losses and grids")


@jax.jit
def _bowl(t):
    return t[0] ** 2 + t[1] ** 2


@jax.jit
def _tilted(t):
    return 3.0 * t[0] ** 2 + 0.5 * t[1] ** 2 + t[0] * t[1]


@jax.jit
def _wavy(t):
    return jnp.sum(jnp.cos(t)) + jnp.sum(t**2)


# (f, its gradient in NumPy, start, learning rate); module-level, so a student's jit compiles once;
# the functions are jitted, so a student's eager jax.grad of them is a few programs, not one per operation
_STEP_CASES = (
    (_bowl, lambda t: 2.0 * t, np.array([2.0, 1.0], np.float32), 0.1),
    (_tilted, lambda t: np.array([6.0 * t[0] + t[1], t[1] + t[0]]), np.array([-1.0, 2.0], np.float32), 0.05),
    (_wavy, lambda t: -np.sin(t) + 2.0 * t, np.array([0.3, -0.7, 1.1], np.float32), 0.2),
)


@jax.jit
def _pytree_loss(params):
    return jnp.sum(params["w"] ** 2) + 3.0 * params["b"] ** 2


@checker("gradient_step", function=True)
def check_gradient_step(gradient_step: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 2.2: ``gradient_step(f, params, lr)`` should return ``p - rate * dp`` for every leaf
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


def _quadratic(H: np.ndarray) -> Callable[[Any], Any]:
    H32 = np.asarray(H, np.float32)

    @jax.jit  # a student's eager jax.grad or jax.hessian of it is a few programs, not one per operation
    def loss(t):
        return 0.5 * t @ jnp.asarray(H32) @ t

    return loss


@functools.cache
def _lr_problems() -> tuple[tuple[Callable[[Any], Any], np.ndarray, float, float, str], ...]:
    """(loss, start, limit, 2 / lambda_max, description): quadratics 0.5 t^T H t of the checker's own.

    Made once per process: the same loss functions every call, so a student's jit that takes
    ``loss_fn`` as a static argument (as ``jaxbook.train.gradient_descent`` does) compiles once.
    Like any jitted function in a notebook, it then keeps its first trace: a global it reads that
    has changed since counts only once its ``def`` cell is run again."""
    angle = np.pi / 5
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    cases = [
        (np.diag([4.0, 50.0]), [1.0, 1.0], None, "2 t0^2 + 25 t1^2 from (1, 1)"),
        (turn @ np.diag([3.0, 40.0]) @ turn.T, [1.0, -0.5], None, "a bowl with curvatures 3 and 40 turned by 36°"),
        (np.diag([0.5, 4.0, 9.0]), [1.0, 1.0, 1.0], None, "curvatures 0.5, 4 and 9 in three dimensions"),
        (np.diag([30.0, 600.0]), [0.2, 0.1], None, "curvatures 30 and 600"),
        # the start has no component along the steep axis, so only the shallow one can diverge
        (np.diag([4.0, 50.0]), [1.0, 0.0], 2.0 / 4.0, "2 t0^2 + 25 t1^2 from (1, 0), on the shallow axis"),
    ]
    problems = []
    for H, start, limit, description in cases:
        predicted = 2.0 / float(np.linalg.eigvalsh(H).max())
        start = read_only(np.array(start, np.float32))  # shared by every call of the check
        problems.append((_quadratic(H), start, limit or predicted, predicted, description))
    return tuple(problems)


@checker("max_stable_lr", function=True)
def check_max_stable_lr(max_stable_lr: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 2.3: ``max_stable_lr(loss_fn, params)`` should measure, by bisection, the largest
    learning rate at which gradient descent from ``params`` does not diverge.

    Run on five quadratics ``0.5 t^T H t`` of the checker's own, where the boundary is known:
    ``2 / lambda_max``, except from a start with no component along the steep axis, where only the
    shallow axis can diverge (``2 / lambda_min``). Accepted within 1.5 % (the exercise's 500-step
    test lands within 0.03 %; stricter or looser tests of divergence move it by well under 1 %).
    Diagnoses one number for every problem (a hard-coded answer), ``2 / lambda_max`` computed
    instead of measured, ``1 / lambda_max``, a boundary outside a fixed bracket, and rates just
    above or below the boundary.
    """
    values = []
    for i, (loss, start, limit, predicted, description) in enumerate(_lr_problems(), start=1):
        where = f"on problem {i} ({description})"
        got = call_on_jax_arrays(max_stable_lr, loss, start, name="max_stable_lr", where=where)
        value = as_number(got, f"max_stable_lr(...) {where}")
        values.append(value)
        if abs(value / limit - 1.0) <= 0.015:
            continue
        if len(values) > 1 and np.allclose(values, values[0], rtol=1e-6):
            return Feedback(
                False,
                f"max_stable_lr returned {value:.4g} on every problem so far, whatever loss_fn is: the boundary "
                "depends on the loss; measure it by running descent on loss_fn",
            )
        if limit != predicted and abs(value / predicted - 1.0) <= 0.015:
            return Feedback(
                False,
                f"max_stable_lr returned 2 / lambda_max = {predicted:.4g} {where}, but from this start descent "
                f"survives up to {limit:.4g}: the start has no component along the steep axis. That is the "
                "prediction, computed; measure the boundary by running descent from params",
            )
        if abs(value / (limit / 2) - 1.0) <= 0.015:
            return Feedback(
                False,
                f"max_stable_lr returned {value:.4g} {where}, half the boundary {limit:.4g}: beyond 1 / lambda the "
                "steep coordinate flips sign at every step, but it still shrinks up to 2 / lambda. Call a run "
                "divergent only when its final cost exceeds its initial cost",
            )
        if any(np.isclose(value, end, rtol=1e-3) for end in (0.01, 0.1)) and not 0.01 <= limit <= 0.1:
            return Feedback(
                False,
                f"max_stable_lr returned {value:.4g} {where}, where the boundary is {limit:.4g}: it lies outside "
                "the bracket [0.01, 0.1]. Find a bracket first: double the upper end until a run diverges "
                "(and halve the lower one until a run converges)",
            )
        if limit < value <= 1.1 * limit:
            return Feedback(
                False,
                f"max_stable_lr returned {value:.4g} {where}, just above the boundary {limit:.4g}: there descent "
                "diverges, slowly; does your test run enough steps (500) and compare the final cost with the "
                "initial one?",
            )
        if 0.9 * limit <= value < limit:
            return Feedback(
                False,
                f"max_stable_lr returned {value:.4g} {where}, stable but below the boundary {limit:.4g}: bisect "
                "until the interval is shorter than 1e-6 and return the boundary itself, not a rate safely below it",
            )
        return Feedback(
            False, f"max_stable_lr returned {value:.4g} {where}; descent from that start is stable up to {limit:.4g}"
        )
    return Feedback(
        True,
        "max_stable_lr finds the boundary on 5 quadratics: 2 / lambda_max, and 2 / lambda_min from a start on the "
        "shallow axis (the prediction 0.04 for 2 t0^2 + 25 t1^2 holds from almost every start, not from all)",
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
    """Exercise 2.4: ``regression_gradient(b, x, y)`` should return the gradient of
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


def _quadratic_cases() -> list[tuple[np.ndarray, float, float]]:
    return [
        (np.array([41.0, 10.4, 0.05], np.float32), 5.0, 5.7807),
        (np.array([1.0, -2.0, 0.5], np.float32), -1.5, 0.4),
        (np.array([0.3, 0.7, -1.2], np.float32), 3.0, 2.0),
    ]


def _polynomial(b: np.ndarray, m: float, s: float) -> np.ndarray:
    """(c0, c1, c2) of b0 + b1 (x - m)/s + b2 ((x - m)/s)^2."""
    b0, b1, b2 = b
    return np.array([b0 - b1 * m / s + b2 * m**2 / s**2, b1 / s - 2.0 * b2 * m / s**2, b2 / s**2])


@checker("back_transform_quadratic", function=True)
def check_back_transform_quadratic(back_transform_quadratic: Callable[..., Any]) -> Feedback:
    """Exercise 2.5: ``back_transform_quadratic(b, x_mean, x_sd)`` should map ``(b0, b1, b2)`` of
    ``y = b0 + b1 x_s + b2 x_s^2`` with ``x_s = (x - x_mean) / x_sd`` to ``(c0, c1, c2)`` of
    ``y = c0 + c1 x + c2 x^2``.

    The reference expands the square in float64 on three inputs of the checker's own. Diagnoses
    the coefficients in NumPy's ``polyfit`` order (highest power first), the line's back-transform
    with the square left out of ``c0`` and ``c1``, a missing cross term ``- 2 b2 m / s^2``, a
    missing constant ``b2 m^2 / s^2``, ``b2`` not divided by ``s^2``, and a shift of the wrong sign.

    Example:
      >>> def back(b, m, s):
      ...     return b[0] - b[1] * m / s + b[2] * m**2 / s**2, b[1] / s - 2 * b[2] * m / s**2, b[2] / s**2
      >>> check_back_transform_quadratic(back)
      Correct: back_transform_quadratic expands the square correctly on 3 test inputs
    """
    for i, (b, m, s) in enumerate(_quadratic_cases(), start=1):
        got = call_on_jax_arrays(
            back_transform_quadratic, b, m, s, name="back_transform_quadratic", where=f"on test input {i}"
        )
        array = as_array(got)
        if array is None or array.shape != (3,):
            shape = f"shape {array.shape}" if array is not None else type(got).__name__
            raise fail(f"back_transform_quadratic should return three numbers (c0, c1, c2); got {shape}")
        if not np.all(np.isfinite(array)):
            return Feedback(
                False, f"back_transform_quadratic returned NaN or infinity on test input {i}: {array.tolist()}"
            )
        b64 = b.astype(np.float64)
        expected = _polynomial(b64, m, s)
        if np.allclose(array, expected, rtol=1e-4, atol=1e-4):
            continue
        b0, b1, b2 = b64
        slips = [
            (expected[::-1], "the coefficients are in NumPy's polyfit order, highest power first: return (c0, c1, c2)"),
            (
                np.array([b0 - b1 * m / s, b1 / s, b2 / s**2]),
                "that is the line's back-transform plus b2 / s^2: x_s^2 = (x - m)^2 / s^2 = (x^2 - 2 m x + m^2) / s^2 "
                "also adds to c1 and c0; expand the square",
            ),
            (
                np.array([expected[0], b1 / s, expected[2]]),
                "c1 is missing the cross term of the square: (x - m)^2 = x^2 - 2 m x + m^2 adds - 2 b2 m / s^2",
            ),
            (
                np.array([b0 - b1 * m / s, expected[1], expected[2]]),
                "c0 is missing the constant of the square: (x - m)^2 = x^2 - 2 m x + m^2 adds b2 m^2 / s^2",
            ),
            (
                np.array([expected[0], expected[1], b2 / s]),
                "c2 should be b2 / s^2: x_s^2 carries the factor 1 / s^2",
            ),
            (np.array([expected[0], expected[1], b2]), "c2 should be b2 / s^2: x_s^2 carries the factor 1 / s^2"),
            (_polynomial(b64, -m, s), "the shift has the wrong sign: x_s = (x - x_mean) / x_sd"),
        ]
        for candidate, message in slips:
            if np.allclose(array, candidate, rtol=1e-4, atol=1e-4):
                return Feedback(False, message)
        return compare_arrays(array, expected, name=f"(c0, c1, c2) on test input {i}", rtol=1e-4, atol=1e-4)
    return Feedback(True, "back_transform_quadratic expands the square correctly on 3 test inputs")
