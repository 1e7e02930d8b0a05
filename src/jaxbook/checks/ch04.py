"""Checkers for the exercises of Chapter 4 (linear regression by gradient descent).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
The references are written in float64 NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from jaxbook.checks._core import (
    Feedback,
    as_array,
    as_number,
    call_student,
    checker,
    compare_arrays,
    fail,
    regression_problems,
    sample_size_hints,
)


def _mse_gradient(b: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    X64 = np.asarray(X, dtype=np.float64)
    return 2.0 / X64.shape[0] * X64.T @ (X64 @ np.asarray(b, np.float64) - np.asarray(y, np.float64))


@checker("mse_gradient", function=True)
def check_mse_gradient(mse_gradient: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 4.1: ``mse_gradient(b, X, y)`` should be ``2/n X^T (X b - y)``, the gradient of the MSE.

    The reference is that formula in float64 NumPy on three random problems.

    Example:
      >>> check_mse_gradient(lambda b, X, y: 2.0 / X.shape[0] * X.T @ (X @ b - y))
      Correct: mse_gradient agrees with jax.grad of the MSE on 3 test inputs
    """
    for i, (b, X, y) in enumerate(regression_problems([(5, 2), (8, 3), (20, 4)], seed=41), start=1):
        got = call_student(mse_gradient, b, X, y, name="mse_gradient", where=f"on test input {i}")
        n = X.shape[0]
        hints = sample_size_hints(n)
        hints[float(n)] = "that is the gradient of the sum of squares; the MSE is a mean, so divide by n"
        hints[float(n) / 2] = "divide by n (the MSE is a mean) and keep the factor 2 from the square"
        hints[0.5] = "the derivative of a square brings down a factor of 2"
        result = compare_arrays(
            got,
            _mse_gradient(b, X, y),
            name=f"mse_gradient(...) on test input {i} (n = {n})",
            rtol=1e-3,
            atol=1e-4,
            hints=hints,
        )
        if not result.ok:
            return result
    return Feedback(True, "mse_gradient agrees with jax.grad of the MSE on 3 test inputs")


@checker("sgd_step", function=True)
def check_sgd_step(sgd_step: Callable[[Any, Any, Any, float], Any]) -> Feedback:
    """Exercise 4.2: ``sgd_step(b, X_batch, y_batch, lr)`` should return ``b - lr * grad MSE_batch(b)``.

    Tested on batches of 4, 10 and 25 rows; the update ``b - sgd_step(...)`` is compared with
    ``lr`` times the gradient of the batch's mean squared error, so that dividing by the batch
    size again is recognised.

    Example:
      >>> check_sgd_step(lambda b, X, y, lr: b - lr * 2.0 / len(y) * X.T @ (X @ b - y))
      Correct: sgd_step agrees with b - lr * grad(MSE of the batch) on 3 batches
    """
    lr = 0.1
    for i, (b, X, y) in enumerate(regression_problems([(4, 3), (10, 3), (25, 3)], seed=42), start=1):
        got = call_student(sgd_step, b, X, y, lr, name="sgd_step", where=f"on batch {i}")
        got_array = as_array(got)
        if got_array is None or got_array.shape != b.shape:
            return compare_arrays(got, b, name=f"sgd_step(...) on batch {i}")
        update = np.asarray(b, dtype=np.float64) - got_array
        size = X.shape[0]
        hints = sample_size_hints(size)
        hints[1.0 / size] = (
            "the mini-batch loss is already a mean, so its gradient is already an average: don't divide by the batch size again"
        )
        hints[float(size)] = "that is the gradient of the batch's sum of squares: use its mean"
        hints[10.0] = "the step is lr * gradient: did you forget to multiply by lr?"
        hints[0.5] = "the gradient of the MSE is (2/n) X^T (X b - y): the 2 is missing"
        result = compare_arrays(
            update,
            lr * _mse_gradient(b, X, y),
            name=f"the step b - sgd_step(...) on a batch of {size}",
            rtol=1e-3,
            atol=1e-5,
            hints=hints,
        )
        if not result.ok:
            if "wrong sign" in result.message:
                return Feedback(False, "sgd_step moves uphill: subtract lr * gradient, don't add it")
            if np.allclose(got_array, -lr * _mse_gradient(b, X, y), rtol=1e-3, atol=1e-5):
                return Feedback(
                    False,
                    "sgd_step returns only the change -lr * gradient: return the new coefficients b - lr * gradient",
                )
            return result
    return Feedback(True, "sgd_step agrees with b - lr * grad(MSE of the batch) on 3 batches")


def _ols_standard_errors(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    residuals = y - X @ b
    n, p = X.shape
    return np.sqrt(residuals @ residuals / (n - p) * np.diag(np.linalg.inv(X.T @ X)))


@checker("std_errors")
def check_standard_errors(std_errors: Any, X: Any, y: Any) -> Feedback:
    """Exercise 4.3: ``std_errors`` should be ``sqrt(diag(RSS / (n - p) * inv(X^T X)))``, shape ``(p,)``.

    The reference is that formula in float64 NumPy (the classical OLS standard errors);
    the usual slips (a variance instead of a standard deviation, ``RSS / n`` or ``RSS / (n - 1)``,
    no ``sigma^2`` at all) are named.
    """
    X64, y64 = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    expected = _ols_standard_errors(X64, y64)
    n, p = X64.shape
    got = as_array(std_errors)
    if got is not None and got.shape == expected.shape and np.all(np.isfinite(got)):
        if np.allclose(got, expected**2, rtol=1e-3):
            return Feedback(False, "those are variances: take the square root to get standard errors")
        if np.allclose(got, expected * np.sqrt((n - p) / n), rtol=1e-3):
            return Feedback(
                False,
                f"divide the RSS by n - p = {n - p}, not by n = {n}: the p fitted "
                "coefficients use up p degrees of freedom",
            )
        if p != 1 and np.allclose(got, expected * np.sqrt((n - p) / (n - 1)), rtol=1e-3):
            return Feedback(
                False,
                f"divide the RSS by n - p = {n - p}, not by n - 1 = {n - 1}: each of the p = {p} "
                "coefficients uses up one degree of freedom",
            )
        bare = np.sqrt(np.diag(np.linalg.inv(X64.T @ X64)))
        if np.allclose(got, bare, rtol=1e-3):
            return Feedback(False, "multiply diag((X^T X)^-1) by sigma^2 = RSS / (n - p) before the square root")
        if np.allclose(got, expected / np.sqrt(n), rtol=1e-3):
            return Feedback(False, "those are divided by sqrt(n) once more: (X^T X)^-1 already shrinks like 1/n")
    return compare_arrays(std_errors, expected, name="std_errors", rtol=1e-3, atol=1e-6)


#: The learning rates of exercise 4.4.
LEARNING_RATES = (0.05, 0.1, 0.3, 0.5)


def _descent_path(X: np.ndarray, y: np.ndarray, lr: float, num_steps: int) -> np.ndarray:
    """The coefficients of gradient descent on the MSE from zero, shape ``(num_steps + 1, p)``."""
    b = np.zeros(X.shape[1])
    path = [b]
    for _ in range(num_steps):
        b = b - lr * 2.0 / X.shape[0] * X.T @ (X @ b - y)
        path.append(b)
    return np.array(path)


def _entry(steps_needed: dict, lr: float) -> Any:
    """The value stored under the learning rate ``lr``: keys such as ``np.float32(0.3)`` or
    ``0.1 * 3`` count as ``0.3``."""
    matches = []
    for key, value in steps_needed.items():
        try:
            number = float(np.asarray(key, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            continue
        if np.isclose(number, lr, rtol=1e-6, atol=0.0) or (
            np.asarray(key).dtype == np.float32 and np.float32(lr) == np.float32(number)
        ):
            matches.append(value)
    if not matches:
        return _MISSING
    return matches[0]


_MISSING = object()


@checker("steps_needed")
def check_steps_needed(steps_needed: Any, X: Any, y: Any, *, tol: float = 1e-3, num_steps: int = 300) -> Feedback:
    """Exercise 4.4: ``steps_needed`` should map each learning rate of :data:`LEARNING_RATES` to the
    first step whose coefficients are all within ``tol`` of the closed form (one step of slack).

    A key may be any number equal to the learning rate up to rounding (``np.float32(0.3)``,
    ``0.1 * 3``); a count may be any whole number (``int``, ``np.int64``, a 0-d array). The
    reference runs gradient descent in float64 NumPy.
    """
    if not isinstance(steps_needed, dict):
        return Feedback(
            False, f"steps_needed should be a dict {{learning rate: steps}}; got {type(steps_needed).__name__}"
        )
    entries = {lr: _entry(steps_needed, lr) for lr in LEARNING_RATES}
    missing = [lr for lr, value in entries.items() if value is _MISSING]
    if missing:
        return Feedback(False, f"steps_needed has no entry for the learning rate(s) {missing}")
    X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
    b_closed = np.linalg.lstsq(X64, y64, rcond=None)[0]
    counts = {}
    for lr in LEARNING_RATES:
        got = entries[lr]
        value = as_number(got, f"steps_needed[{lr}]")
        if not float(value).is_integer():
            raise fail(f"steps_needed[{lr}] should be a whole number of steps; got {value:g}")
        counts[lr] = int(value)
        close = np.max(np.abs(_descent_path(X64, y64, lr, num_steps) - b_closed), axis=1) < tol
        expected = int(np.argmax(close)) if close.any() else None
        if expected is None:
            return Feedback(
                False,
                f"with lr={lr} the coefficients never come within {tol:g} in {num_steps} steps; "
                "are X and y the chapter's data?",
            )
        if abs(counts[lr] - expected) > 1:
            return Feedback(
                False,
                f"steps_needed[{lr}] is {counts[lr]}, but the coefficients are first within "
                f"{tol:g} of the closed form after {expected} steps",
            )
    return Feedback(
        True, f"the step counts match; the fastest learning rate is {min(LEARNING_RATES, key=lambda lr: counts[lr])}"
    )
