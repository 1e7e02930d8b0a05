"""Checkers for the exercises of Chapter 4 (linear regression by gradient descent).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook import regression, stats, train
from jaxbook.checks._core import Feedback, _as_array, compare_arrays


def _random_problems(sizes: list[tuple[int, int]], seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    problems = []
    for n, p in sizes:
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = rng.normal(size=n).astype(np.float32)
        b = rng.normal(size=p).astype(np.float32)
        problems.append((b, X, y))
    return problems


def _call(function: Callable[..., Any], name: str, i: int, *args: Any) -> tuple[Any, Feedback | None]:
    if not callable(function):
        return None, Feedback(False, f"{name} should be a function; got {type(function).__name__}")
    try:
        return function(*args), None
    except Exception as exc:  # report the student's error instead of raising it
        return None, Feedback(False, f"{name} raised {type(exc).__name__} on test input {i}: {exc}")


def check_mse_gradient(mse_gradient: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 4.1: ``mse_gradient(b, X, y)`` should be ``2/n X^T (X b - y)``, the gradient of the MSE.

    The reference is ``jax.grad(regression.mse_loss)`` on three random problems.

    Example:
      >>> check_mse_gradient(lambda b, X, y: 2.0 / X.shape[0] * X.T @ (X @ b - y))
      Correct: mse_gradient agrees with jax.grad of the MSE on 3 test inputs
    """
    reference = jax.grad(regression.mse_loss)
    problems = _random_problems([(5, 2), (8, 3), (20, 4)], seed=41)
    for i, (b, X, y) in enumerate(problems, start=1):
        got, error = _call(mse_gradient, "mse_gradient", i, b, X, y)
        if error is not None:
            return error
        n = X.shape[0]
        result = compare_arrays(
            got, np.asarray(reference(b, X, y)), name=f"mse_gradient(...) on test input {i} (n = {n})",
            rtol=1e-3, atol=1e-4,
            hints={
                float(n): "that is the gradient of the sum of squares; the MSE is a mean, so divide by n",
                float(n) / 2: "divide by n (the MSE is a mean) and keep the factor 2 from the square",
                0.5: "the derivative of a square brings down a factor of 2",
            },
        )
        if not result.ok:
            return result
    return Feedback(True, "mse_gradient agrees with jax.grad of the MSE on 3 test inputs")


def check_sgd_step(sgd_step: Callable[[Any, Any, Any, float], Any]) -> Feedback:
    """Exercise 4.2: ``sgd_step(b, X_batch, y_batch, lr)`` should return ``b - lr * grad MSE_batch(b)``.

    Tested on batches of 4, 10 and 25 rows; the update ``b - sgd_step(...)`` is compared with
    ``lr`` times the gradient of the batch's mean squared error, so that dividing by the batch
    size again is recognised.

    Example:
      >>> check_sgd_step(lambda b, X, y, lr: b - lr * jax.grad(regression.mse_loss)(b, X, y))
      Correct: sgd_step agrees with b - lr * grad(MSE of the batch) on 3 batches
    """
    reference = jax.grad(regression.mse_loss)
    problems = _random_problems([(4, 3), (10, 3), (25, 3)], seed=42)
    lr = 0.1
    for i, (b, X, y) in enumerate(problems, start=1):
        got, error = _call(sgd_step, "sgd_step", i, b, X, y, lr)
        if error is not None:
            return error
        got_array = _as_array(got)
        if got_array is None or got_array.shape != b.shape:
            return compare_arrays(got, b, name=f"sgd_step(...) on batch {i}")
        update = np.asarray(b, dtype=np.float64) - got_array
        expected = lr * np.asarray(reference(b, X, y), dtype=np.float64)
        size = X.shape[0]
        result = compare_arrays(
            update, expected, name=f"the step b - sgd_step(...) on a batch of {size}", rtol=1e-3, atol=1e-5,
            hints={
                1.0 / size: "the mini-batch loss is already a mean, so its gradient is already an "
                "average: don't divide by the batch size again",
                float(size): "that is the gradient of the batch's sum of squares: use its mean",
                10.0: "the step is lr * gradient: did you forget to multiply by lr?",
            },
        )
        if not result.ok:
            if "wrong sign" in result.message:
                return Feedback(False, "sgd_step moves uphill: subtract lr * gradient, don't add it")
            return result
    return Feedback(True, "sgd_step agrees with b - lr * grad(MSE of the batch) on 3 batches")


def check_standard_errors(std_errors: Any, X: Any, y: Any) -> Feedback:
    """Exercise 4.3: ``std_errors`` should be ``sqrt(diag(RSS / (n - p) * inv(X^T X)))``, shape ``(p,)``.

    The reference is :func:`jaxbook.stats.ols_summary`; the usual slips (a variance instead of a
    standard deviation, ``RSS / n``, no ``sigma^2`` at all) are named.
    """
    summary = stats.ols_summary(X, y)
    expected = summary["std_err"].to_numpy()
    n, p = np.shape(X)
    got = _as_array(std_errors)
    if got is not None and got.shape == expected.shape and np.all(np.isfinite(got)):
        if np.allclose(got, expected**2, rtol=1e-3):
            return Feedback(False, "those are variances: take the square root to get standard errors")
        if np.allclose(got, expected * np.sqrt((n - p) / n), rtol=1e-3):
            return Feedback(False, f"divide the RSS by n - p = {n - p}, not by n = {n}: the p fitted "
                            "coefficients use up p degrees of freedom")
        X64 = np.asarray(X, dtype=np.float64)
        bare = np.sqrt(np.diag(np.linalg.inv(X64.T @ X64)))
        if np.allclose(got, bare, rtol=1e-3):
            return Feedback(False, "multiply diag((X^T X)^-1) by sigma^2 = RSS / (n - p) before the square root")
    return compare_arrays(std_errors, expected, name="std_errors", rtol=1e-3, atol=1e-6)


#: The learning rates of exercise 4.4.
LEARNING_RATES = (0.05, 0.1, 0.3, 0.5)


def check_steps_needed(steps_needed: Any, X: Any, y: Any, *, tol: float = 1e-3, num_steps: int = 300) -> Feedback:
    """Exercise 4.4: ``steps_needed`` should map each learning rate of :data:`LEARNING_RATES` to the
    first step whose coefficients are all within ``tol`` of the closed form (one step of slack).
    """
    if not isinstance(steps_needed, dict):
        return Feedback(False, f"steps_needed should be a dict {{learning rate: steps}}; got {type(steps_needed).__name__}")
    missing = [lr for lr in LEARNING_RATES if lr not in steps_needed]
    if missing:
        return Feedback(False, f"steps_needed has no entry for the learning rate(s) {missing}")
    X, y = jnp.asarray(X), jnp.asarray(y)
    b_closed = np.linalg.lstsq(np.asarray(X, np.float64), np.asarray(y, np.float64), rcond=None)[0]
    for lr in LEARNING_RATES:
        _, history = train.gradient_descent(
            regression.mse_loss, jnp.zeros(X.shape[1]), lr=lr, num_steps=num_steps, data=(X, y), record_params=True
        )
        close = np.max(np.abs(np.asarray(history["params"]) - b_closed), axis=1) < tol
        expected = int(np.argmax(close)) if close.any() else None
        got = steps_needed[lr]
        if not isinstance(got, (int, np.integer)) and not (np.ndim(got) == 0 and float(got).is_integer()):
            return Feedback(False, f"steps_needed[{lr}] should be a whole number of steps; got {got!r}")
        if expected is None:
            return Feedback(False, f"with lr={lr} the coefficients never come within {tol:g} in {num_steps} steps; "
                            "are X and y the chapter's data?")
        if abs(int(got) - expected) > 1:
            return Feedback(False, f"steps_needed[{lr}] is {int(got)}, but the coefficients are first within "
                            f"{tol:g} of the closed form after {expected} steps")
    return Feedback(True, "the step counts match; the fastest learning rate is "
                    f"{min(LEARNING_RATES, key=lambda lr: steps_needed[lr])}")
