"""Checkers for the exercises of Chapter 3 (Taylor expansions with repeated ``grad``).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook import taylor
from jaxbook.checks._core import Feedback, _as_array, compare_arrays


def _sqrt(x):
    return x**0.5


# module-level functions, so that jaxbook.taylor's compiled derivatives are reused between calls
_TERMS_CASES = ((_sqrt, 49.0, 43.0, 5), (jnp.exp, 0.0, 0.5, 4), (jnp.cos, 1.0, 1.4, 3))


def check_taylor_terms(taylor_terms: Callable[[Any, float, float, int], Any]) -> Feedback:
    """Exercise 3.1: ``taylor_terms(f, a, x, order)`` should return the ``order + 1`` terms
    ``f^(n)(a) (x - a)^n / n!``, ``n = 0, ..., order``.

    Tested on sqrt about 49 at 43, exp about 0 and cos about 1; the reference is
    ``jaxbook.taylor.taylor_terms``, itself tested against closed-form derivatives. Diagnoses the
    ``(n-1)!`` slip, a missing factorial, ``h = a - x`` and a missing term.
    """
    if not callable(taylor_terms):
        return Feedback(False, f"taylor_terms should be a function; got {type(taylor_terms).__name__}")
    for i, (f, a, x, order) in enumerate(_TERMS_CASES, start=1):
        try:
            got = taylor_terms(f, a, x, order)
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"taylor_terms raised {type(exc).__name__} on test input {i}: {exc}")
        if isinstance(got, (list, tuple)):
            got = [float(np.asarray(v)) for v in got]
        got = _as_array(got)
        if got is None:
            return Feedback(False, "taylor_terms should return an array (or list) of numbers")
        expected = np.asarray(taylor.taylor_terms(f, a, x, order), dtype=np.float64)
        if got.shape == (order,):
            return Feedback(False, f"taylor_terms should return order + 1 = {order + 1} terms (n = 0 to order); got {order}")
        if got.shape != expected.shape:
            return Feedback(False, f"taylor_terms should return shape {expected.shape}; got shape {got.shape} on test input {i}")
        close = lambda target: np.allclose(got, target, rtol=1e-3, atol=1e-7)  # noqa: E731
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
        return compare_arrays(got, expected, name=f"the terms on test input {i}", rtol=1e-3, atol=1e-7)
    return Feedback(True, "taylor_terms gives f^(n)(a) h^n / n! for sqrt, exp and cos")


def _log_order_needed(tolerance: float = 1e-3) -> int:
    h, target, total = 0.5, math.log(1.5), 0.0
    for n in range(1, 100):
        total += (-1) ** (n + 1) * h**n / n
        if abs(total - target) < tolerance:
            return n
    raise AssertionError("unreachable")


def check_order_needed(order: Any) -> Feedback:
    """Exercise 3.2: the smallest order whose Taylor approximation of ``log(1.5)`` about 1 is
    within ``1e-3`` of the true value (the reference sums the series in float64).

    Example:
      >>> check_order_needed(6)
      Correct: order 6: the error is 7.8e-04, and order 5's is 1.8e-03
    """
    got = _as_array(order)
    if got is None or got.shape != () or float(got) != int(float(got)):
        return Feedback(False, f"order should be a whole number; got {order!r}")
    value, expected = int(float(got)), _log_order_needed()
    errors = {n: abs(sum((-1) ** (k + 1) * 0.5**k / k for k in range(1, n + 1)) - math.log(1.5)) for n in range(0, 12)}
    if value == expected:
        return Feedback(True, f"order {value}: the error is {errors[value]:.1e}, and order {value - 1}'s is {errors[value - 1]:.1e}")
    if value == expected + 1:
        return Feedback(False, f"order {value} works, but a smaller one already does: is the count off by one (the term of order n is the (n+1)-th term)?")
    if value == expected - 1:
        return Feedback(False, f"at order {value} the error is {errors[value]:.1e}, still above 1e-3: is the count off by one?")
    if value > expected:
        return Feedback(False, f"order {value} is within 1e-3, but a smaller order already is")
    error = errors.get(value, float("nan"))
    return Feedback(False, f"at order {value} the error is {error:.1e}, above 1e-3")


def _quadratic(t):
    return t[0] ** 2 + 10.0 * t[1] ** 2 + t[0] * t[1] - t[0]


def _cosh_bowl(t):
    return jnp.sum(jnp.cosh(t)) + 0.5 * t[0] * t[1]


def _quartic(t):
    return jnp.sum(t**4) + jnp.sum(t**2) + t[0] * t[2]


_NEWTON_CASES = (
    (_quadratic, np.array([2.0, 1.0], np.float32)),
    (_cosh_bowl, np.array([0.5, -0.3], np.float32)),
    (_quartic, np.array([1.0, -0.5, 0.25], np.float32)),
)


def check_newton_step(newton_step: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 3.3: ``newton_step(f, t)`` should return ``t - H^{-1} g`` with ``g`` the gradient
    and ``H`` the Hessian of ``f`` at ``t`` (solve, don't invert).

    Tested on a quadratic (one step lands on its minimum) and two non-quadratic functions.
    Diagnoses a plain gradient step, a step uphill, ``H g`` instead of ``H^{-1} g`` and returning
    only the change.
    """
    if not callable(newton_step):
        return Feedback(False, f"newton_step should be a function; got {type(newton_step).__name__}")
    for i, (f, t) in enumerate(_NEWTON_CASES, start=1):
        t_jax = jnp.asarray(t)
        try:
            try:  # compiled is much faster than op by op; fall back if the code cannot be traced
                result = jax.jit(newton_step, static_argnums=0)(f, t_jax)
            except Exception:  # noqa: BLE001 - any tracing problem: run it as written
                result = newton_step(f, t_jax)
            got = _as_array(result)
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"newton_step raised {type(exc).__name__} on test input {i}: {exc}")
        if got is None:
            return Feedback(False, "newton_step should return the new parameters as an array")
        g = np.asarray(jax.jit(jax.grad(f))(t_jax), dtype=np.float64)
        H = np.asarray(jax.jit(jax.hessian(f))(t_jax), dtype=np.float64)
        expected = t - np.linalg.solve(H, g)
        if got.shape != expected.shape:
            return Feedback(False, f"newton_step should return shape {expected.shape} (the new t); got {got.shape}")
        close = lambda target: np.allclose(got, target, rtol=1e-3, atol=1e-4)  # noqa: E731
        if close(expected):
            continue
        if close(t - g):
            return Feedback(False, "that is a gradient step with lr = 1: Newton divides by the curvature, t - H^{-1} g")
        if close(t + np.linalg.solve(H, g)):
            return Feedback(False, "the step goes uphill: subtract H^{-1} g")
        if close(t - H @ g):
            return Feedback(False, "the step multiplies by the Hessian instead of solving with it: use jnp.linalg.solve(H, g)")
        if close(-np.linalg.solve(H, g)):
            return Feedback(False, "return the new parameters t - H^{-1} g, not only the change")
        return compare_arrays(got, expected, name=f"newton_step(...) on test input {i}", rtol=1e-3, atol=1e-4)
    return Feedback(True, "newton_step agrees with t - solve(H, g) on 3 functions, and lands on the quadratic's minimum in one step")
