"""Checkers for the exercises of Chapter 1 (least squares in closed form).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from jaxbook.checks._compare import as_array, as_number, as_values, compare_arrays, compare_functions
from jaxbook.checks._core import Feedback, call_student, checker, fail
from jaxbook.checks._references import regression_problems


@checker("X")
def check_design_matrix(X: Any, x: Any) -> Feedback:
    """Exercise 1.1: ``X`` should be the design matrix ``[1, x]`` of shape ``(n, 2)`` built from ``x``.

    Example:
      >>> import jax.numpy as jnp
      >>> check_design_matrix(jnp.array([[1.0, 5.0], [1.0, 6.0]]), jnp.array([5.0, 6.0]))
      Correct: X = [[1., 5.],
       [1., 6.]] agrees with the reference
    """
    x = np.asarray(x, dtype=np.float64)
    expected = np.column_stack([np.ones_like(x), x])
    got = as_array(X)
    if got is not None and got.shape == expected.shape and np.allclose(got[:, ::-1], expected):
        return Feedback(False, "X has its columns swapped: the column of ones comes first, then x")
    if got is not None and got.shape != expected.shape and got.shape == expected.shape[::-1]:
        return Feedback(
            False, f"X has shape {got.shape}, expected {expected.shape}: one row per example, so transpose it"
        )
    if (
        got is not None
        and got.shape == expected.shape
        and np.allclose(got[:, 1], expected[:, 1])
        and not np.allclose(got[:, 0], 1)
    ):
        return Feedback(False, "the first column of X should be all ones (it multiplies the intercept)")
    if got is not None and got.shape == (x.size,):
        return Feedback(
            False,
            f"X has shape {got.shape}: that is one column; the design matrix has two, [1, x], shape {expected.shape}",
        )
    return compare_arrays(X, expected, name="X")


def _gradient_hints(b: np.ndarray, X: np.ndarray, y: np.ndarray) -> dict[float, str]:
    n = X.shape[0]
    return {
        0.5: "the derivative of a square brings down a factor of 2",
        2.0: "the factor 2 appears once, in front of both terms",
        1.0 / n: f"you divided by n = {n}: that is the gradient of the mean of squares, but this loss is the sum "
        "||X b - y||^2 (the mean-gradient slip)",
        0.5
        / n: f"you divided by n = {n} and dropped the 2: the loss is the sum ||X b - y||^2, its gradient 2 X^T (X b - y)",
        1.0 / (n - 1): f"you divided by n - 1 = {n - 1}: this loss is a sum, not a variance",
    }


@checker("gradient", function=True)
def check_gradient(gradient: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 1.2: ``gradient(b, X, y)`` should return the gradient of ``||X b - y||^2``, shape ``(p,)``.

    The reference is ``2 X^T (X b - y)`` in float64 NumPy (the unit tests compare it with
    ``jax.grad``), on three random problems.
    """

    def reference(b, X, y):
        X64 = np.asarray(X, dtype=np.float64)
        return 2.0 * X64.T @ (X64 @ np.asarray(b, np.float64) - np.asarray(y, np.float64))

    return compare_functions(
        gradient,
        reference,
        regression_problems([(5, 2), (8, 3), (20, 4)], seed=2024),
        name="gradient",
        rtol=1e-3,
        atol=1e-3,
        hints=_gradient_hints,
    )


@checker("coefficients")
def check_celsius_fit(coefficients: Any, celsius: Any, fahrenheit: Any) -> Feedback:
    """Exercise 1.3: ``coefficients`` should be ``[intercept, slope]`` of the least-squares line
    of ``fahrenheit`` on ``celsius`` (the reference is NumPy's ``lstsq`` in float64).
    """
    c = np.asarray(celsius, dtype=np.float64)
    f = np.asarray(fahrenheit, dtype=np.float64)
    expected = np.linalg.lstsq(np.column_stack([np.ones_like(c), c]), f, rcond=None)[0]
    got = as_array(coefficients)
    if got is not None and got.shape == (2,) and np.allclose(got, [32.0, 1.8], atol=1e-6):
        return Feedback(False, "those are the physical constants (32, 9/5), not the fit to these noisy data")
    # float32 QR, lstsq or even the normal equations agree with the float64 fit to about 1e-6 here;
    # 2e-5 (a margin of more than 10x) rejects coefficients copied from a printout rounded to 2 or 3 decimals.
    result = compare_arrays(coefficients, expected, name="coefficients", rtol=2e-5, atol=2e-5)
    if not result.ok and "reverse order" in result.message:
        return Feedback(False, "the coefficients are in the wrong order: [intercept, slope], like the columns [1, C]")
    if not result.ok and got is not None and got.shape == (2,):
        no_intercept = float(c @ f / (c @ c))
        if np.isclose(got[1], no_intercept, rtol=1e-3):
            return Feedback(
                False, "the slope is that of a line through the origin: the design matrix needs its column of ones"
            )
        if np.allclose(got, expected, rtol=1e-2):
            return Feedback(
                False,
                f"coefficients = {np.round(got, 4).tolist()} is close to the fit {np.round(expected, 4).tolist()} "
                "but not equal: a rounded or copied value is not the computation; keep the array your fit returns",
            )
    return result


@checker("simple_regression", function=True)
def check_simple_regression(simple_regression: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 1.4: ``simple_regression(x, y)`` should return ``(intercept, slope)`` from the
    moment formulas (a tuple, a list or an array of two numbers). The reference is
    ``numpy.polyfit(x, y, 1)`` on random data.
    """
    rng = np.random.default_rng(7)
    for i, n in enumerate([10, 25, 50], start=1):
        x = rng.uniform(-2, 3, size=n).astype(np.float32)
        y = (1.5 - 0.7 * x + rng.normal(size=n)).astype(np.float32)
        got = call_student(simple_regression, x, y, name="simple_regression", where=f"on test input {i}")
        slope, intercept = np.polyfit(x.astype(np.float64), y.astype(np.float64), 1)
        array = as_array(got)
        if array is None or array.shape != (2,):
            shape = f"shape {array.shape}" if array is not None else type(got).__name__
            raise fail(f"simple_regression should return a pair (intercept, slope) of numbers; got {shape}")
        got_intercept, got_slope = as_values(array, 2, "simple_regression(x, y)", "(intercept, slope)")
        if np.allclose([got_intercept, got_slope], [slope, intercept], rtol=1e-3, atol=1e-3):
            return Feedback(False, "the pair is in the wrong order: return (intercept, slope)")
        for factor, why in [
            (n / (n - 1), "cov used 1/(n-1) but var used 1/n"),
            ((n - 1) / n, "var used 1/(n-1) but cov used 1/n"),
        ]:
            if np.isclose(got_slope, factor * slope, rtol=1e-3):
                return Feedback(
                    False,
                    f"the slope is off by a factor of {factor:.4g} = n/(n-1) or its inverse: {why}. "
                    "jnp.cov divides by n-1 by default, jnp.var by n: use the same for both",
                )
        if np.isclose(got_slope, slope, rtol=1e-3) and np.isclose(got_intercept, float(np.mean(y)), rtol=1e-3):
            return Feedback(False, "the intercept is mean(y) - slope * mean(x): you left out - slope * mean(x)")
        if np.isclose(got_slope, slope, rtol=1e-3) and np.isclose(
            got_intercept, float(np.mean(y)) + slope * float(np.mean(x)), rtol=1e-3, atol=1e-3
        ):
            return Feedback(False, "the intercept is mean(y) - slope * mean(x): you added slope * mean(x) instead")
        result = compare_arrays(
            [got_intercept, got_slope],
            [intercept, slope],
            name=f"(intercept, slope) on test input {i}",
            rtol=1e-3,
            atol=1e-3,
        )
        if not result.ok:
            return result
    return Feedback(True, "simple_regression agrees with numpy.polyfit on 3 random data sets")


@checker("r_squared_celsius")
def check_r_squared(r_squared_celsius: Any, celsius: Any, fahrenheit: Any) -> Feedback:
    """Exercise 1.5: ``r_squared_celsius`` should be ``R^2`` of the least-squares line of
    ``fahrenheit`` on ``celsius``, computed from the fit's residuals (the reference is
    statsmodels' ``rsquared`` formula, ``1 - RSS / TSS``, in float64 NumPy).

    Example:
      >>> import numpy as np
      >>> c = np.arange(5.0); f = np.array([32.0, 34.0, 35.0, 38.0, 39.0])
      >>> check_r_squared(0.5, c, f).ok
      False
    """
    c = np.asarray(celsius, dtype=np.float64)
    f = np.asarray(fahrenheit, dtype=np.float64)
    design = np.column_stack([np.ones_like(c), c])
    residual = f - design @ np.linalg.lstsq(design, f, rcond=None)[0]
    rss, tss, n = residual @ residual, np.sum((f - f.mean()) ** 2), f.size
    expected = 1.0 - rss / tss
    got = as_number(r_squared_celsius, "r_squared_celsius")
    tolerance = 5e-5
    if abs(got - expected) <= tolerance:
        return Feedback(True, f"R^2 = {got:.4f} agrees with the reference")
    slips = [
        (rss / tss, "that is RSS / TSS, the share NOT explained: R^2 is 1 minus it"),
        (np.sqrt(expected), "that is the correlation r between C and F; R^2 is its square"),
        (
            1.0 - rss / (f @ f),
            "the total sum of squares is taken around the mean of F: sum((F - mean(F))**2), not sum(F**2)",
        ),
        (
            1.0 - (rss / (n - 2)) / (tss / (n - 1)),
            "that is the adjusted R^2 (with degrees of freedom); the exercise asks for R^2 = 1 - RSS / TSS",
        ),
        (
            1.0 - (rss / n) / (tss / (n - 1)),
            "the two sums of squares were normalised differently (RSS by n, TSS by n - 1, as np.var and np.cov or jnp.var(ddof=1) do by default): use the same for both",
        ),
    ]
    for value, why in slips:
        if abs(got - value) <= tolerance:
            return Feedback(False, why)
    if abs(got - expected) < 0.02:
        return Feedback(
            False,
            f"r_squared_celsius = {got:.4g} is close to R^2 = {expected:.4f} but not equal: a prediction or a "
            "rounded value is not the measurement; compute it from the residuals of your fit",
        )
    return Feedback(False, f"r_squared_celsius = {got:.4g} differs from the reference R^2 = {expected:.4f}")
