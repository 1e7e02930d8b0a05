"""Checkers for the exercises of Chapter 3 (Taylor expansions with repeated ``grad``).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
The references are closed-form derivatives in float64 NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax.numpy as jnp
import numpy as np

from jaxbook.checks._core import (
    Feedback,
    as_array,
    as_whole_number,
    call_jitted,
    call_student,
    checker,
    compare_arrays,
    fail,
)


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
    Diagnoses the ``(n-1)!`` slip, a missing factorial, ``h = a - x`` and a missing term.
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
def check_order_needed(order: Any) -> Feedback:
    """Exercise 3.2: the smallest order whose Taylor approximation of ``log(1.5)`` about 1 is
    within ``1e-3`` of the true value (the reference sums the series in float64).

    Example:
      >>> check_order_needed(6)
      Correct: order 6: the error is 7.8e-04, and order 5's is 1.8e-03
    """
    value = as_whole_number(order, "order_needed")
    errors = _log_errors()
    expected = next(n for n, e in enumerate(errors) if e < 1e-3)
    if value < 0:
        return Feedback(False, f"order_needed is {value}: an order is 0 or more")
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


def _quadratic(t):
    return t[0] ** 2 + 10.0 * t[1] ** 2 + t[0] * t[1] - t[0]


def _cosh_bowl(t):
    return jnp.sum(jnp.cosh(t)) + 0.5 * t[0] * t[1]


def _quartic(t):
    return jnp.sum(t**4) + jnp.sum(t**2) + t[0] * t[2]


def _quadratic_derivatives(t):
    return np.array([2 * t[0] + t[1] - 1, 20 * t[1] + t[0]]), np.array([[2.0, 1.0], [1.0, 20.0]])


def _cosh_derivatives(t):
    return np.sinh(t) + 0.5 * t[::-1], np.diag(np.cosh(t)) + 0.5 * np.array([[0.0, 1.0], [1.0, 0.0]])


def _quartic_derivatives(t):
    coupling = np.zeros((3, 3))
    coupling[0, 2] = coupling[2, 0] = 1.0
    return 4 * t**3 + 2 * t + coupling @ t, np.diag(12 * t**2 + 2) + coupling


# (f, its gradient and Hessian in NumPy, start)
_NEWTON_CASES = (
    (_quadratic, _quadratic_derivatives, np.array([2.0, 1.0], np.float32)),
    (_cosh_bowl, _cosh_derivatives, np.array([0.5, -0.3], np.float32)),
    (_quartic, _quartic_derivatives, np.array([1.0, -0.5, 0.25], np.float32)),
)


@checker("newton_step", function=True)
def check_newton_step(newton_step: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 3.3: ``newton_step(f, t)`` should return ``t - H^{-1} g`` with ``g`` the gradient
    and ``H`` the Hessian of ``f`` at ``t`` (solve, don't invert).

    Tested on a quadratic (one step lands on its minimum) and two non-quadratic functions, against
    derivatives in closed form. Diagnoses a plain gradient step, a step uphill, ``H g`` instead of
    ``H^{-1} g`` and returning only the change.
    """
    for i, (f, derivatives, t) in enumerate(_NEWTON_CASES, start=1):
        result = call_jitted(
            newton_step, f, jnp.asarray(t), static_argnums=0, name="newton_step", where=f"on test input {i}"
        )
        got = as_array(result)
        if got is None:
            raise fail("newton_step should return the new parameters as an array")
        t64 = t.astype(np.float64)
        g, H = derivatives(t64)
        expected = t64 - np.linalg.solve(H, g)
        if got.shape != expected.shape:
            return Feedback(False, f"newton_step should return shape {expected.shape} (the new t); got {got.shape}")
        close = lambda target: np.allclose(got, target, rtol=1e-3, atol=1e-4)
        if close(expected):
            continue
        if close(t64 - g):
            return Feedback(False, "that is a gradient step with lr = 1: Newton divides by the curvature, t - H^{-1} g")
        if close(t64 + np.linalg.solve(H, g)):
            return Feedback(False, "the step goes uphill: subtract H^{-1} g")
        if close(t64 - H @ g):
            return Feedback(
                False, "the step multiplies by the Hessian instead of solving with it: use jnp.linalg.solve(H, g)"
            )
        if close(-np.linalg.solve(H, g)):
            return Feedback(False, "return the new parameters t - H^{-1} g, not only the change")
        if close(t64 - g / np.diag(H)):
            return Feedback(
                False,
                "the step divides by the Hessian's diagonal only: solve with the whole matrix, jnp.linalg.solve(H, g)",
            )
        return compare_arrays(got, expected, name=f"newton_step(...) on test input {i}", rtol=1e-3, atol=1e-4)
    return Feedback(
        True, "newton_step agrees with t - solve(H, g) on 3 functions, and lands on the quadratic's minimum in one step"
    )
