"""Checkers for the exercises of Chapter 1 (least squares in closed form).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from jaxbook import least_squares
from jaxbook.checks._core import Feedback, _as_array, compare_arrays, compare_functions


def check_design_matrix(X: Any, x: Any) -> Feedback:
    """Exercise 1.1: ``X`` should be the design matrix ``[1, x]`` of shape ``(n, 2)`` built from ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> check_design_matrix(jnp.array([[1.0, 5.0], [1.0, 6.0]]), jnp.array([5.0, 6.0]))
      Correct: X = [[1., 5.],
       [1., 6.]] agrees with the reference
    """
    expected = np.asarray(least_squares.design_matrix(x), dtype=np.float64)
    got = _as_array(X)
    if got is not None and got.shape == expected.shape and np.allclose(got[:, ::-1], expected):
        return Feedback(False, "X has its columns swapped: the column of ones comes first, then x")
    if got is not None and got.shape != expected.shape and got.shape == expected.shape[::-1]:
        return Feedback(False, f"X has shape {got.shape}, expected {expected.shape}: one row per example, so transpose it")
    if got is not None and got.shape == expected.shape and np.allclose(got[:, 1], expected[:, 1]) and not np.allclose(got[:, 0], 1):
        return Feedback(False, "the first column of X should be all ones (it multiplies the intercept)")
    return compare_arrays(X, expected, name="X")


def _gradient_test_inputs() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2024)
    inputs = []
    for n, p in [(5, 2), (8, 3), (20, 4)]:
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = rng.normal(size=n).astype(np.float32)
        b = rng.normal(size=p).astype(np.float32)
        inputs.append((b, X, y))
    return inputs


def check_gradient(gradient: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 1.2: ``gradient(b, X, y)`` should return the gradient of ``||X b - y||^2``, shape ``(p,)``.

    The reference is ``jax.grad`` of the loss, on three random problems.
    """
    reference = jax.grad(least_squares.loss)
    return compare_functions(
        gradient,
        lambda b, X, y: np.asarray(reference(b, X, y)),
        _gradient_test_inputs(),
        name="gradient",
        rtol=1e-3,
        atol=1e-3,
        hints={
            0.5: "the derivative of a square brings down a factor of 2",
            2.0: "the factor 2 appears once, in front of both terms",
        },
    )


def check_celsius_fit(coefficients: Any, celsius: Any, fahrenheit: Any) -> Feedback:
    """Exercise 1.3: ``coefficients`` should be ``[intercept, slope]`` of the least-squares line
    of ``fahrenheit`` on ``celsius`` (the reference is NumPy's ``lstsq`` in float64).
    """
    c = np.asarray(celsius, dtype=np.float64)
    f = np.asarray(fahrenheit, dtype=np.float64)
    expected = np.linalg.lstsq(np.column_stack([np.ones_like(c), c]), f, rcond=None)[0]
    got = _as_array(coefficients)
    if got is not None and got.shape == (2,) and np.allclose(got, [32.0, 1.8], atol=1e-6):
        return Feedback(False, "those are the physical constants (32, 9/5), not the fit to these noisy data")
    result = compare_arrays(coefficients, expected, name="coefficients", rtol=1e-3, atol=1e-3)
    if not result.ok and "reverse order" in result.message:
        return Feedback(False, "the coefficients are in the wrong order: [intercept, slope], like the columns [1, C]")
    return result


def check_simple_regression(simple_regression: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 1.4: ``simple_regression(x, y)`` should return ``(intercept, slope)`` from the
    moment formulas. The reference is ``numpy.polyfit(x, y, 1)`` on random data.
    """
    if not callable(simple_regression):
        return Feedback(False, f"simple_regression should be a function; got {type(simple_regression).__name__}")
    rng = np.random.default_rng(7)
    for i, n in enumerate([10, 25, 50], start=1):
        x = rng.uniform(-2, 3, size=n).astype(np.float32)
        y = (1.5 - 0.7 * x + rng.normal(size=n)).astype(np.float32)
        try:
            got = simple_regression(x, y)
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"simple_regression raised {type(exc).__name__} on test input {i}: {exc}")
        slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return Feedback(False, f"simple_regression should return a pair (intercept, slope); got {type(got).__name__}")
        got_intercept, got_slope = (float(np.asarray(v)) for v in got)
        if np.allclose([got_intercept, got_slope], [slope, intercept], rtol=1e-3, atol=1e-3):
            return Feedback(False, "the pair is in the wrong order: return (intercept, slope)")
        for factor, why in [(n / (n - 1), "cov used 1/(n-1) but var used 1/n"), ((n - 1) / n, "var used 1/(n-1) but cov used 1/n")]:
            if np.isclose(got_slope, factor * slope, rtol=1e-3):
                return Feedback(
                    False,
                    f"the slope is off by a factor of {factor:.4g} = n/(n-1) or its inverse: {why}. "
                    "jnp.cov divides by n-1 by default, jnp.var by n: use the same for both",
                )
        result = compare_arrays([got_intercept, got_slope], [intercept, slope], name=f"(intercept, slope) on test input {i}", rtol=1e-3, atol=1e-3)
        if not result.ok:
            return result
    return Feedback(True, "simple_regression agrees with numpy.polyfit on 3 random data sets")
