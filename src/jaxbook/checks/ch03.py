"""Checkers for the exercises of Chapter 3 (Taylor expansions with repeated ``grad``).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
The references are closed-form derivatives in float64 NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook.checks._compare import as_array, as_whole_number, compare_arrays
from jaxbook.checks._core import Feedback, StudentError, call_student, checker, fail


def _sqrt(x):
    return x**0.5


def _sqrt_derivative(n: int, a: float) -> float:
    return math.prod(0.5 - k for k in range(n)) * a ** (0.5 - n)


# (f, its n-th derivative at a in closed form, a, x, order); module-level functions, so that a
# student's compiled derivatives are reused between calls
_TERMS_CASES = (
    (_sqrt, _sqrt_derivative, 49.0, 43.0, 5),
    (jnp.exp, lambda n, a: math.exp(a), 0.0, 0.5, 4),
    (jnp.cos, lambda n, a: math.cos(a + n * math.pi / 2), 1.0, 1.4, 3),
)


def _reference_terms(derivative: Callable[[int, float], float], a: float, x: float, order: int) -> np.ndarray:
    return np.array([derivative(n, a) * (x - a) ** n / math.factorial(n) for n in range(order + 1)])


@checker("taylor_terms", function=True)
def check_taylor_terms(taylor_terms: Callable[[Any, float, float, int], Any]) -> Feedback:
    """Exercise 3.1: ``taylor_terms(f, a, x, order)`` should return the ``order + 1`` terms
    ``f^(n)(a) (x - a)^n / n!``, ``n = 0, ..., order``.

    Tested on sqrt about 49 at 43, exp about 0 and cos about 1, against closed-form derivatives.
    Diagnoses the ``(n-1)!`` slip, a missing factorial, ``h = a - x``, missing powers of ``h``,
    running sums instead of terms, derivatives taken at ``x`` and a missing term.
    """
    for i, (f, derivative, a, x, order) in enumerate(_TERMS_CASES, start=1):
        got = as_array(call_student(taylor_terms, f, a, x, order, name="taylor_terms", where=f"on test input {i}"))
        if got is None:
            return Feedback(False, "taylor_terms should return an array (or list) of numbers")
        expected = _reference_terms(derivative, a, x, order)
        if got.shape == (order,):
            return Feedback(
                False, f"taylor_terms should return order + 1 = {order + 1} terms (n = 0 to order); got {order}"
            )
        if got.shape != expected.shape:
            return Feedback(
                False, f"taylor_terms should return shape {expected.shape}; got shape {got.shape} on test input {i}"
            )
        if not np.all(np.isfinite(got)):
            return Feedback(False, f"taylor_terms returned NaN or infinity on test input {i}: {got.tolist()}")
        close = lambda target: np.allclose(got, target, rtol=1e-3, atol=1e-7)
        if close(expected):
            continue
        n = np.arange(order + 1)
        if close(expected * np.maximum(n, 1)):
            return Feedback(
                False,
                "term n is n times too large: you divided by (n-1)! instead of n! (the slip whose error stalls near 1.5e-2 for sqrt(43))",
            )
        factorials = np.array([math.factorial(k) for k in n], dtype=np.float64)
        if close(expected * factorials):
            return Feedback(False, "the terms are missing the division by n!: term n is f^(n)(a) h^n / n!")
        if close(expected * (-1.0) ** n):
            return Feedback(False, "the odd terms have the wrong sign: the step is h = x - a, not a - x")
        if close(np.array([derivative(k, a) / math.factorial(k) for k in n])):
            return Feedback(False, "the terms are missing the powers h^n of the step h = x - a")
        if close(np.cumsum(expected)):
            return Feedback(
                False,
                "those are the running sums (the approximations of order 0, 1, ...), not the terms: return "
                "each term f^(n)(a) h^n / n! on its own",
            )
        if close(np.array([derivative(k, x) * (x - a) ** k / math.factorial(k) for k in n])):
            return Feedback(False, "the derivatives were taken at x instead of at the expansion point a: evaluate g(a)")
        return compare_arrays(got, expected, name=f"the terms on test input {i}", rtol=1e-3, atol=1e-7)
    return Feedback(True, "taylor_terms gives f^(n)(a) h^n / n! for sqrt, exp and cos")


def _log_errors(max_order: int = 60) -> list[float]:
    """``|T_n(1.5) - log 1.5|`` for the Taylor polynomial of log about 1, order n = 0, ..., max_order."""
    errors, total = [], 0.0
    for n in range(max_order + 1):
        if n:
            total += (-1) ** (n + 1) * 0.5**n / n
        errors.append(abs(total - math.log(1.5)))
    return errors


@checker("order_needed")
def check_order_needed(order: Any, log_errors: Any = None) -> Feedback:
    """Exercise 3.2: the smallest order whose Taylor approximation of ``log(1.5)`` about 1 is
    within ``1e-3`` of the true value, together with the measurement it was read from.

    ``log_errors`` holds the measured errors ``|T_n(1.5) - log 1.5|`` of orders ``n = 0, 1, ...``
    (at least up to the first order below ``1e-3``; signed errors are accepted too). The
    reference sums the series in float64. An order handed in without the measurement it was read
    from is "Not yet": the exercise asks for the order to be measured, not typed in. Diagnoses
    errors that start at order 1, approximations instead of errors, relative errors, a count off
    by one either way.

    Example:
      >>> check_order_needed(6, [abs(e) for e in _log_errors(8)])
      Correct: order 6: the error is 7.8e-04, and order 5's is 1.8e-03
    """
    value = as_whole_number(order, "order_needed")
    if value < 0:
        return Feedback(False, f"order_needed is {value}: an order is 0 or more")
    if log_errors is None or log_errors is Ellipsis:
        return Feedback(
            False,
            "log_errors is missing: store the errors you measured, one per order from 0, and read "
            "order_needed off them (an order typed in is a guess, not a measurement)",
        )
    measured = as_array(log_errors)
    if measured is None or measured.ndim != 1 or measured.size < 2:
        return Feedback(False, "log_errors should be a 1-d array (or list) of errors, one per order from 0")
    if not np.all(np.isfinite(measured)):
        return Feedback(False, "log_errors contains NaN or infinity")
    errors = _log_errors()
    reference = np.array(errors[: measured.size])
    close = lambda got, target: got.shape == target.shape and np.allclose(got, target, rtol=1e-2, atol=2e-6)
    if not close(np.abs(measured), reference):
        approximations = np.cumsum([0.0] + [(-1) ** (n + 1) * 0.5**n / n for n in range(1, measured.size)])
        if close(np.abs(measured), np.array(errors[1 : measured.size + 1])):
            return Feedback(
                False,
                "log_errors starts at order 1: entry n should be the error of order n, and order 0 "
                f"(the constant term, log 1 = 0) has error {errors[0]:.2f}",
            )
        if close(measured, approximations):
            return Feedback(
                False, "log_errors holds the approximations T_n(1.5), not their errors |T_n(1.5) - log 1.5|"
            )
        if close(np.abs(measured), np.array(errors[: measured.size]) / math.log(1.5)):
            return Feedback(False, "log_errors holds relative errors; the exercise asks for |T_n(1.5) - log 1.5|")
        return compare_arrays(np.abs(measured), reference, name="log_errors", rtol=1e-2, atol=2e-6)
    expected = next(n for n, e in enumerate(errors) if e < 1e-3)
    if measured.size <= expected:
        return Feedback(
            False, f"none of the {measured.size} errors in log_errors is below 1e-3: measure to a higher order"
        )
    if value == expected:
        return Feedback(
            True, f"order {value}: the error is {errors[value]:.1e}, and order {value - 1}'s is {errors[value - 1]:.1e}"
        )
    if value == expected + 1:
        return Feedback(
            False,
            f"order {value} works, but a smaller one already does: is the count off by one (the term of order n is the (n+1)-th term)?",
        )
    if value == expected - 1:
        return Feedback(
            False, f"at order {value} the error is {errors[value]:.1e}, still above 1e-3: is the count off by one?"
        )
    if value > expected:
        return Feedback(False, f"order {value} is within 1e-3, but a smaller order already is")
    return Feedback(False, f"at order {value} the error is {errors[value]:.1e}, above 1e-3")


# (F, its Jacobian in closed form, t): outputs and inputs differ in number, so a transposed
# Jacobian has the wrong shape, and the square case is not symmetric
# The checker's functions are jitted (all but the reverse-only one, whose point is that forward mode
# fails on it): a student's eager grad, hessian or vjp of them then runs a few compiled programs
# instead of one per operation.
@jax.jit
def _wide(t):
    return jnp.stack([t[0] * t[1] * t[2], jnp.sin(t[0]) + t[2] ** 2])


@jax.jit
def _tall(t):
    return jnp.stack([t[0] * t[1], jnp.exp(t[0]), t[1] ** 3 - t[0]])


def _wide_jacobian(t):
    return np.array([[t[1] * t[2], t[0] * t[2], t[0] * t[1]], [np.cos(t[0]), 0.0, 2 * t[2]]])


def _tall_jacobian(t):
    return np.array([[t[1], t[0]], [np.exp(t[0]), 0.0], [-1.0, 3 * t[1] ** 2]])


@jax.jit
def _square3(t):
    return jnp.stack([t[0] ** 2 * t[1], t[2] - t[0], jnp.cos(t[0] * t[1]) + t[2]])


def _square3_jacobian(t):
    s = -np.sin(t[0] * t[1])
    return np.array([[2 * t[0] * t[1], t[0] ** 2, 0.0], [-1.0, 0.0, 1.0], [s * t[1], s * t[0], 1.0]])


@jax.custom_vjp
def _reverse_only(t):
    # a function JAX can differentiate only in reverse mode: jvp, jacfwd and hessian raise on it,
    # so an answer built from forward mode instead of from vjp, as the exercise asks, is caught
    return jnp.stack([t[0] * t[1], jnp.exp(t[1]) - t[0]])


def _reverse_only_fwd(t):
    return _reverse_only(t), t


def _reverse_only_bwd(t, u):
    return (jnp.stack([u[0] * t[1] - u[1], u[0] * t[0] + u[1] * jnp.exp(t[1])]),)


_reverse_only.defvjp(_reverse_only_fwd, _reverse_only_bwd)


def _reverse_only_jacobian(t):
    return np.array([[t[1], t[0]], [-1.0, np.exp(t[1])]])


_JACOBIAN_CASES = (
    (_wide, _wide_jacobian, np.array([1.0, 2.0, -0.5], np.float32)),
    (_tall, _tall_jacobian, np.array([0.5, -1.5], np.float32)),
    (_square3, _square3_jacobian, np.array([0.7, 1.2, -0.3], np.float32)),
    (_reverse_only, _reverse_only_jacobian, np.array([0.5, -1.0], np.float32)),
)


@checker("jacobian_by_vjp", function=True)
def check_jacobian(jacobian_by_vjp: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 3.3: ``jacobian_by_vjp(F, t)`` should return the Jacobian of ``F`` at ``t``,
    shape ``(outputs, inputs)``, built from vector-Jacobian products.

    Tested on functions with more inputs than outputs, more outputs than inputs, a square
    non-symmetric one, and one with only a reverse-mode rule (``jax.custom_vjp``), on which an
    answer built from forward mode (``jvp``, ``jacfwd``) fails, against Jacobians in closed form.
    Diagnoses forward mode, a transposed Jacobian, the gradient of the sum of the outputs (the
    column sums) and a single row.

    Example:
      >>> import jax
      >>> def jacobian_by_vjp(F, t):
      ...     y, pullback = jax.vjp(F, t)
      ...     return jax.vmap(lambda u: pullback(u)[0])(jnp.eye(y.size))
      >>> check_jacobian(jacobian_by_vjp)
      Correct: the Jacobians of 4 functions (2 x 3, 3 x 2, 3 x 3 and 2 x 2), one row per output
    """
    for i, (F, jacobian, t) in enumerate(_JACOBIAN_CASES, start=1):
        try:
            answer = call_student(
                jacobian_by_vjp, F, jnp.asarray(t), name="jacobian_by_vjp", where=f"on test input {i}"
            )
        except StudentError as exc:
            if F is _reverse_only and "forward-mode" in exc.feedback.message:
                return Feedback(
                    False,
                    f"test input {i} has only a reverse-mode rule (jax.custom_vjp), so forward mode (jax.jvp, "
                    "jacfwd, hessian) fails on it: build the rows from jax.vjp, as the exercise asks",
                )
            raise
        got = as_array(answer)
        if got is None:
            return Feedback(False, "jacobian_by_vjp should return the Jacobian as an array")
        expected = jacobian(t.astype(np.float64))
        m, n = expected.shape
        close = lambda target: got.shape == target.shape and np.allclose(got, target, rtol=1e-4, atol=1e-5)
        if close(expected):
            continue
        if close(expected.T):
            return Feedback(
                False,
                f"the result is transposed: the Jacobian has one row per output and one column per input, "
                f"shape ({m}, {n}) on test input {i}; the pullback of the n-th unit vector is row n",
            )
        if close(expected.sum(axis=0)):
            return Feedback(
                False,
                "that is the gradient of the sum of the outputs (the column sums of the Jacobian): pull back "
                "each unit vector of the output space separately, one per row",
            )
        if close(expected[0]) or close(expected[:1]):
            return Feedback(False, "that is only the first row: pull back every unit vector of the output space")
        if got.shape != expected.shape:
            return Feedback(
                False,
                f"jacobian_by_vjp should return shape ({m}, {n}) (outputs, inputs) on test input {i}; got {got.shape}",
            )
        return compare_arrays(got, expected, name=f"the Jacobian on test input {i}", rtol=1e-4, atol=1e-5)
    return Feedback(True, "the Jacobians of 4 functions (2 x 3, 3 x 2, 3 x 3 and 2 x 2), one row per output")


@jax.jit
def _saddle_valley(t):
    return t[0] ** 2 + (t[1] ** 2 - 1.0) ** 2 + 0.5 * t[0] * t[1]


def _saddle_valley_derivatives(t):
    g = np.array([2 * t[0] + 0.5 * t[1], 4 * t[1] * (t[1] ** 2 - 1.0) + 0.5 * t[0]])
    H = np.array([[2.0, 0.5], [0.5, 12 * t[1] ** 2 - 4.0]])
    return g, H


@jax.jit
def _quadratic(t):
    return t[0] ** 2 + 10.0 * t[1] ** 2 + t[0] * t[1] - t[0]


def _quadratic_derivatives(t):
    return np.array([2 * t[0] + t[1] - 1, 20 * t[1] + t[0]]), np.array([[2.0, 1.0], [1.0, 20.0]])


@jax.jit
def _monkey(t):
    return t[0] ** 3 - 3 * t[0] * t[1] ** 2 + t[2] ** 2 + t[0] ** 4 + t[1] ** 4


def _monkey_derivatives(t):
    g = np.array([3 * t[0] ** 2 - 3 * t[1] ** 2 + 4 * t[0] ** 3, -6 * t[0] * t[1] + 4 * t[1] ** 3, 2 * t[2]])
    H = np.array(
        [[6 * t[0] + 12 * t[0] ** 2, -6 * t[1], 0.0], [-6 * t[1], -6 * t[0] + 12 * t[1] ** 2, 0.0], [0.0, 0.0, 2.0]]
    )
    return g, H


# (f, its gradient and Hessian in NumPy, t, margin): a positive definite Hessian (no damping), two
# indefinite ones, one of them at two margins
_DAMPED_CASES = (
    (_quadratic, _quadratic_derivatives, np.array([2.0, 1.0], np.float32), 0.5),
    (_saddle_valley, _saddle_valley_derivatives, np.array([1.0, 0.3], np.float32), 1.0),
    (_saddle_valley, _saddle_valley_derivatives, np.array([1.0, 0.3], np.float32), 3.0),
    (_monkey, _monkey_derivatives, np.array([-0.4, 0.6, 1.0], np.float32), 0.5),
)


def _damped(t, g, H, lam):
    return t - np.linalg.solve(H + lam * np.eye(len(t)), g)


@checker("damped_newton_step", function=True)
def check_damped_newton_step(damped_newton_step: Callable[[Any, Any, float], Any]) -> Feedback:
    """Exercise 3.4: ``damped_newton_step(f, t, margin)`` should return ``t - solve(H + lam I, g)``
    with ``lam = max(0, margin - smallest eigenvalue of H)``.

    Tested on a positive definite quadratic (no damping: the plain Newton step) and two functions
    at points where the Hessian is indefinite, against derivatives in closed form. Diagnoses
    always damping, a negative ``lam`` (no ``max(0, ...)``), damping by ``-lambda_min`` without the
    margin, adding ``lam`` to every entry of ``H``, the plain Newton step (with a hint when the
    largest eigenvalue was taken for the smallest) and a step uphill.
    """
    for i, (f, derivatives, t, margin) in enumerate(_DAMPED_CASES, start=1):
        got = as_array(
            call_student(
                damped_newton_step, f, jnp.asarray(t), margin, name="damped_newton_step", where=f"on test input {i}"
            )
        )
        if got is None:
            raise fail("damped_newton_step should return the new parameters as an array")
        t64 = t.astype(np.float64)
        g, H = derivatives(t64)
        smallest = float(np.linalg.eigvalsh(H)[0])
        lam = max(0.0, margin - smallest)
        expected = _damped(t64, g, H, lam)
        if got.shape != expected.shape:
            return Feedback(
                False, f"damped_newton_step should return shape {expected.shape} (the new t); got {got.shape}"
            )
        close = lambda target: np.allclose(got, target, rtol=1e-3, atol=1e-4)
        if close(expected):
            continue
        if lam == 0.0 and close(_damped(t64, g, H, margin)):
            return Feedback(
                False,
                "the Hessian is already positive definite here (smallest eigenvalue above the margin), so lam = 0: "
                "damp only when it is needed, lam = max(0, margin - lambda_min)",
            )
        if lam > 0.0 and close(_damped(t64, g, H, margin)):
            return Feedback(
                False,
                "lam should be margin - lambda_min when that is positive, not the margin itself: lift the smallest eigenvalue to the margin",
            )
        step = float(np.linalg.norm(got - t64)) if np.all(np.isfinite(got)) else math.inf
        if step > 1e3 * max(float(np.linalg.norm(expected - t64)), 1e-6):
            return Feedback(
                False,
                f"the step on test input {i} is enormous or not finite: is H + lam I singular? lam = -lambda_min "
                "makes its smallest eigenvalue 0; add the margin, lam = margin - lambda_min",
            )
        if close(t64 - np.linalg.solve(H + lam, g)):
            return Feedback(
                False, "lam was added to every entry of H: add it to the diagonal only, H + lam * jnp.eye(n)"
            )
        if lam == 0.0 and close(_damped(t64, g, H, margin - smallest)):
            return Feedback(
                False,
                f"lam is negative on test input {i} (margin - lambda_min = {margin - smallest:.2f}): take "
                "max(0, margin - lambda_min), so that a safely positive definite Hessian is left alone",
            )
        if close(t64 - np.linalg.solve(H, g)):
            largest = float(np.linalg.eigvalsh(H)[-1])
            hint = (
                " (jnp.linalg.eigvalsh returns the eigenvalues in ascending order: [0] is the smallest, "
                f"[-1] = {largest:.2f} the largest)"
                if margin - largest <= 0.0
                else ""
            )
            return Feedback(
                False,
                f"that is the plain Newton step, but on test input {i} the Hessian's smallest eigenvalue is {smallest:.2f}: damp it{hint}",
            )
        if close(t64 + np.linalg.solve(H + lam * np.eye(len(t)), g)):
            return Feedback(False, "the step goes uphill: subtract solve(H + lam I, g)")
        return compare_arrays(got, expected, name=f"damped_newton_step(...) on test input {i}", rtol=1e-3, atol=1e-4)
    return Feedback(
        True, "damped_newton_step leaves a positive definite Hessian alone and lifts indefinite ones to the margin"
    )
