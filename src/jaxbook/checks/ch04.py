"""Checkers for the exercises of Chapter 4 (linear regression by gradient descent).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
The references are written in float64 NumPy.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from jaxbook.checks._compare import as_array, as_number, compare_arrays, require
from jaxbook.checks._core import Feedback, call_on_jax_arrays, call_student, checker, fail
from jaxbook.checks._references import read_only, regression_problems


def _mse_gradient(b: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    X64 = np.asarray(X, dtype=np.float64)
    return 2.0 / X64.shape[0] * X64.T @ (X64 @ np.asarray(b, np.float64) - np.asarray(y, np.float64))


#: The penalty weight of exercise 4.1's check.
RIDGE_LAMBDA = 0.3


@checker("ridge_gradient", function=True)
def check_ridge_gradient(ridge_gradient: Callable[[Any, Any, Any, float], Any]) -> Feedback:
    """Exercise 4.1: ``ridge_gradient(b, X, y, lam)`` should be ``2/n X^T (X b - y) + 2 lam b``.

    That is the gradient of ``mean((X b - y)^2) + lam * sum(b^2)``. The reference is that formula
    in float64 NumPy on three random problems; the usual slips (the gradient of the sum of
    squares, ``1/n`` twice or ``1/(n - 1)``, a lost factor 2 in either term, no penalty, no
    penalty on ``b0``, the wrong sign) are named.

    Example:
      >>> check_ridge_gradient(lambda b, X, y, lam: 2.0 / X.shape[0] * X.T @ (X @ b - y) + 2 * lam * b)
      Correct: ridge_gradient agrees with the gradient of MSE + lam * sum(b^2) on 3 test inputs
    """
    lam = RIDGE_LAMBDA
    for i, (b, X, y) in enumerate(regression_problems([(5, 2), (8, 3), (20, 4)], seed=41), start=1):
        got = call_student(ridge_gradient, b, X, y, lam, name="ridge_gradient", where=f"on test input {i}")
        n = X.shape[0]
        data = _mse_gradient(b, X, y)
        penalty = 2.0 * lam * np.asarray(b, np.float64)
        expected = data + penalty
        got_array = as_array(got)
        if got_array is not None and got_array.shape == expected.shape and np.all(np.isfinite(got_array)):
            slips = [
                (
                    n * data + penalty,
                    f"the data term is the gradient of the sum of squares: the MSE is a mean, so divide by n = {n}",
                ),
                (
                    data / n + penalty,
                    f"you divided the data term by n = {n} once too often: 2/n X^T (X b - y) is already a mean",
                ),
                (
                    data * n / (n - 1) + penalty,
                    f"you divided by n - 1 = {n - 1} instead of n = {n}: the MSE is a mean over n rows",
                ),
                (data + penalty / 2, "the penalty lam * sum(b^2) has gradient 2 lam b: the factor 2 is missing"),
                (
                    data / 2 + penalty,
                    "the derivative of a square brings down a factor of 2: the data term is (2/n) X^T (X b - y)",
                ),
                (data, "that is the gradient of the MSE alone: add the penalty's gradient 2 lam b"),
                (
                    data + np.concatenate([[0.0], penalty[1:]]),
                    "the penalty here is lam * sum(b^2) over every coefficient, b0 included: its gradient is "
                    "2 lam b in every entry",
                ),
                (data - penalty, "the penalty's gradient is + 2 lam b: it pulls the coefficients towards zero"),
            ]
            for wrong, message in slips:
                if np.allclose(got_array, wrong, rtol=1e-3, atol=1e-4) and not np.allclose(
                    wrong, expected, rtol=1e-3, atol=1e-4
                ):
                    return Feedback(False, f"ridge_gradient on test input {i} (n = {n}): {message}")
        require(
            compare_arrays(got, expected, name=f"ridge_gradient(...) on test input {i} (n = {n})", rtol=1e-3, atol=1e-4)
        )
    return Feedback(True, "ridge_gradient agrees with the gradient of MSE + lam * sum(b^2) on 3 test inputs")


def _epoch(b: np.ndarray, X: np.ndarray, y: np.ndarray, lr: float, batches: np.ndarray) -> np.ndarray:
    """Mini-batch SGD on the MSE in float64, one step per row of ``batches`` (row indices)."""
    b = np.asarray(b, np.float64)
    for rows in batches:
        b = b - lr * _mse_gradient(b, X[rows], y[rows])
    return b


@checker("sgd_epoch", function=True)
def check_sgd_epoch(sgd_epoch: Callable[..., Any]) -> Feedback:
    """Exercise 4.2: ``sgd_epoch(b, X, y, lr, order, batch_size)`` should run one epoch of mini-batch SGD.

    The batches are the rows ``order[0:B]``, ``order[B:2B]``, ... in turn, each step
    ``b - lr * grad MSE_batch(b)``. Tested on two problems (40 rows in batches of 8, 60 rows in
    batches of 20) against a float64 NumPy loop; the usual slips (dividing by the batch size
    again, the batch's sum of squares, every step on all the data, the rows in their original
    order instead of ``order``, a single step, the pair that ``lax.scan`` returns) are named.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> def sgd_epoch(b, X, y, lr, order, batch_size):
      ...     for rows in order.reshape(-1, batch_size):
      ...         b = b - lr * 2.0 / batch_size * X[rows].T @ (X[rows] @ b - y[rows])
      ...     return b
      >>> check_sgd_epoch(sgd_epoch)
      Correct: sgd_epoch agrees with one epoch of mini-batch SGD on 2 problems
    """

    lr = 0.05
    problems = regression_problems([(40, 3), (60, 2)], seed=43)
    for i, ((b, X, y), batch_size) in enumerate(zip(problems, (8, 20)), start=1):
        n = X.shape[0]
        order = np.random.default_rng(50 + i).permutation(n)
        got = call_on_jax_arrays(sgd_epoch, b, X, y, lr, order, batch_size, name="sgd_epoch", where=f"on problem {i}")
        if isinstance(got, tuple) and len(got) == 2 and np.shape(got[0]) == np.shape(b):
            return Feedback(
                False,
                f"sgd_epoch on problem {i} returned a pair: lax.scan returns (final carry, stacked outputs), "
                "so return only the carry, the coefficients (e.g. jax.lax.scan(...)[0])",
            )
        X64, y64 = X.astype(np.float64), y.astype(np.float64)
        batches = order.reshape(-1, batch_size)
        expected = _epoch(b, X64, y64, lr, batches)
        got_array = as_array(got)
        if got_array is not None and got_array.shape == expected.shape and np.all(np.isfinite(got_array)):
            if not np.allclose(got_array, expected, rtol=1e-3, atol=1e-5):
                all_rows = np.tile(np.arange(n), (len(batches), 1))
                slips = [
                    (
                        _epoch(b, X64, y64, lr / batch_size, batches),
                        "the mini-batch loss is already a mean, so its gradient is already an average: don't divide "
                        "by the batch size again",
                    ),
                    (
                        _epoch(b, X64, y64, lr * batch_size, batches),
                        "that uses the gradient of the batch's sum of squares: use the gradient of its mean",
                    ),
                    (
                        _epoch(b, X64, y64, lr, all_rows),
                        "every step used all the rows: each step should use only its mini-batch, X[rows] and y[rows]",
                    ),
                    (
                        _epoch(b, X64, y64, lr, np.arange(n).reshape(-1, batch_size)),
                        "the batches follow the rows' original order: take them in the order given by `order`",
                    ),
                    (
                        _epoch(b, X64, y64, lr, batches[:1]),
                        f"that is one step: an epoch of {n} rows in batches of {batch_size} has {len(batches)} steps",
                    ),
                ]
                for wrong, message in slips:
                    if np.allclose(got_array, wrong, rtol=1e-3, atol=1e-5):
                        return Feedback(False, f"sgd_epoch on problem {i}: {message}")
        require(compare_arrays(got, expected, name=f"sgd_epoch(...) on problem {i}", rtol=1e-3, atol=1e-5))
    return Feedback(True, "sgd_epoch agrees with one epoch of mini-batch SGD on 2 problems")


#: The noise level of the check's problems for exercise 4.3 (and of the chapter's data set for it,
#: ``noise_sd=2.0``), unknown to a reader of real data.
FIT_NOISE_SD = 2.0


def _fit_problems() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Exercise 4.3's test problems ``(X, y, x0)``, float32: two lines whose ``x`` is not centred
    (so that ``Cov(b0, b1)`` matters) and a plane, each with a point ``x0`` of its own."""
    rng = np.random.default_rng(47)
    problems = []
    for n, x0 in ((40, (1.0, 3.0)), (25, (1.0, -1.5)), (60, (1.0, 2.0, -1.0))):
        features = 0.5 + 1.5 * rng.normal(size=(n, len(x0) - 1))
        X = np.column_stack([np.ones(n), features])
        b = np.linspace(-0.5, 1.5, len(x0))
        y = X @ b + FIT_NOISE_SD * rng.normal(size=n)
        problems.append((X.astype(np.float32), y.astype(np.float32), np.array(x0, dtype=np.float32)))
    return problems


@checker("fit_standard_error", function=True)
def check_fit_standard_error(fit_standard_error: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 4.3: ``fit_standard_error(X, y, x0)`` should be ``sqrt(x0^T sigma^2 (X^T X)^-1 x0)``.

    The standard error of the fitted value ``x0^T b`` of least squares on ``X, y``, with
    ``sigma^2 = RSS / (n - p)`` and the full covariance matrix. Tested on three problems of the
    check's own (two lines, a plane; ``x`` not centred, so the covariance term matters) against that
    formula in float64 NumPy, so an answer read off the chapter's data set fails; the usual slips
    (the diagonal only, standard errors added, ``RSS / n`` or ``RSS / (n - 1)``, a variance, the
    standard error of a new observation, the simulation's true sigma, no sigma) are named.

    Example:
      >>> import numpy as np
      >>> def fit_standard_error(X, y, x0):
      ...     X, y, x0 = (np.asarray(a, np.float64) for a in (X, y, x0))
      ...     b = np.linalg.lstsq(X, y, rcond=None)[0]
      ...     sigma2 = np.sum((y - X @ b) ** 2) / (X.shape[0] - X.shape[1])
      ...     return np.sqrt(sigma2 * x0 @ np.linalg.inv(X.T @ X) @ x0)
      >>> check_fit_standard_error(fit_standard_error)
      Correct: fit_standard_error agrees with the reference on 3 test problems
    """

    problems = _fit_problems()
    values = []
    for i, (X, y, x0) in enumerate(problems, start=1):
        got = call_on_jax_arrays(fit_standard_error, X, y, x0, name="fit_standard_error", where=f"on test problem {i}")
        values.append(as_number(got, f"fit_standard_error(X, y, x0) on test problem {i}"))
    if len(set(values)) == 1:
        return Feedback(
            False,
            f"fit_standard_error returns {values[0]:g} for each of the check's {len(problems)} different "
            "problems: compute the standard error from the X, y and x0 it is given",
        )
    for i, ((X, y, x0), value) in enumerate(zip(problems, values), start=1):
        X64, y64, x064 = (np.asarray(a, dtype=np.float64) for a in (X, y, x0))
        n, p = X64.shape
        b = np.linalg.lstsq(X64, y64, rcond=None)[0]
        residuals = y64 - X64 @ b
        sigma2 = float(residuals @ residuals / (n - p))
        inv = np.linalg.inv(X64.T @ X64)
        variance = sigma2 * float(x064 @ inv @ x064)
        expected = np.sqrt(variance)
        se = np.sqrt(sigma2 * np.diag(inv))
        slips = [
            (
                np.sqrt(sigma2 * float(x064**2 @ np.diag(inv))),
                "you used only the diagonal of the covariance matrix: the coefficients are correlated, so "
                "x0^T Var(b) x0 needs the off-diagonal terms 2 x0_j x0_k Cov(b_j, b_k) too",
            ),
            (
                float(se @ np.abs(x064)),
                "standard errors do not add: the variance of x0^T b is x0^T Var(b) x0, so take the square root of that",
            ),
            (
                expected * np.sqrt((n - p) / n),
                f"divide the RSS by n - p = {n - p}, not by n = {n}: the {p} fitted coefficients use up {p} "
                "degrees of freedom",
            ),
            (
                expected * np.sqrt((n - p) / (n - 1)),
                f"divide the RSS by n - p = {n - p}, not by n - 1 = {n - 1}: each of the p = {p} coefficients "
                "uses up one degree of freedom",
            ),
            (variance, "that is a variance: take the square root to get a standard error"),
            (
                np.sqrt(variance + sigma2),
                "that is the standard error for a new observation at x0 (it adds the noise variance sigma^2); "
                "the exercise asks for the fitted value x0^T b",
            ),
            (
                FIT_NOISE_SD * np.sqrt(float(x064 @ inv @ x064)),
                f"that uses the true noise level sigma = {FIT_NOISE_SD:g} of the simulation, which real data "
                "never tell you: estimate it, sigma^2 = RSS / (n - p)",
            ),
            (
                np.sqrt(float(x064 @ inv @ x064)),
                "multiply x0^T (X^T X)^-1 x0 by sigma^2 = RSS / (n - p) before the square root",
            ),
        ]
        where = f"fit_standard_error on test problem {i} (n = {n}, p = {p})"
        if not np.isclose(value, expected, rtol=1e-3):
            for wrong, message in slips:
                if np.isclose(value, wrong, rtol=1e-3):
                    return Feedback(False, f"{where}: {message}")
        require(compare_arrays(value, expected, name=where, rtol=1e-3, atol=1e-6))
    return Feedback(True, "fit_standard_error agrees with the reference on 3 test problems")


@functools.cache
def _lr_problems() -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, float, int], ...]:
    """Exercise 4.4's problems ``(X, y, lrs, tol, num_steps)``, float32: a plane whose second feature
    has standard deviation 4 (Hessian eigenvalues about 1.9, 2.3 and 36) and a line whose feature is
    not centred (about 0.18 and 23). Each has a learning rate that diverges; the second also has one
    that converges too slowly to arrive within ``num_steps``."""
    rng = np.random.default_rng(44)
    problems = []
    n = 200
    X = np.column_stack([np.ones(n), rng.normal(size=n), 4.0 * rng.normal(size=n)])
    y = X @ np.array([1.0, 2.0, -0.5]) + 0.5 * rng.normal(size=n)
    problems.append((X, y, np.array([0.005, 0.02, 0.05, 0.07]), 1e-3, 1500))
    n = 100
    X = np.column_stack([np.ones(n), 3.0 + rng.normal(size=n)])
    y = X @ np.array([-1.0, 0.5]) + 0.3 * rng.normal(size=n)
    problems.append((X, y, np.array([0.02, 0.05, 0.08, 0.1]), 1e-2, 1000))
    # shared by every call of the check (cached): nobody may change them
    return tuple(
        (read_only(X.astype(np.float32)), read_only(y.astype(np.float32)), read_only(lrs.astype(np.float32)), tol, k)
        for X, y, lrs, tol, k in problems
    )


def _steps(X, y, lrs, tol, num_steps, *, criterion="coefficients", gradient_factor=1.0) -> np.ndarray:
    """For each learning rate, the first step count after which the ``criterion`` is below ``tol``
    (-1 if none within ``num_steps``), by gradient descent on the MSE from 0 in float64 NumPy.
    ``criterion`` and ``gradient_factor`` other than the defaults give the slips the check names."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    n = X.shape[0]
    b_closed = np.linalg.lstsq(X, y, rcond=None)[0]
    loss_min = np.mean((X @ b_closed - y) ** 2)
    counts = []
    with np.errstate(all="ignore"):
        for lr in np.asarray(lrs, np.float64):
            b, count = np.zeros(X.shape[1]), -1
            for k in range(num_steps):
                gradient = 2.0 / n * X.T @ (X @ b - y)
                distance = {
                    "coefficients": lambda: np.max(np.abs(b - b_closed)),
                    "norm": lambda: np.linalg.norm(b - b_closed),
                    "gradient": lambda: np.linalg.norm(gradient),
                    "loss": lambda: np.mean((X @ b - y) ** 2) - loss_min,
                }[criterion]()
                if distance < tol:
                    count = k
                    break
                b = b - lr * gradient_factor * gradient
            counts.append(count)
    return np.array(counts)


@functools.cache
def _problem_steps(problem: int, *, criterion: str = "coefficients", sum_of_squares: bool = False) -> np.ndarray:
    """:func:`_steps` on problem ``problem`` of :func:`_lr_problems` (``sum_of_squares``: with the
    gradient ``n`` times too large), computed once per process: the float64 loops take about 0.2 s
    a problem, and every answer checked needs them."""
    X, y, lrs, tol, num_steps = _lr_problems()[problem]
    return read_only(
        _steps(X, y, lrs, tol, num_steps, criterion=criterion, gradient_factor=X.shape[0] if sum_of_squares else 1.0)
    )


@checker("steps_to_tolerance", function=True)
def check_steps_to_tolerance(steps_to_tolerance: Callable[..., Any]) -> Feedback:
    """Exercise 4.4: ``steps_to_tolerance(X, y, lrs, tol, num_steps)`` should return, for each
    learning rate of ``lrs``, the number of gradient-descent steps on the MSE from ``b = 0`` after
    which every coefficient is first within ``tol`` of the least-squares solution, or ``-1`` if
    that does not happen within ``num_steps`` steps.

    Called on two problems of the check's own, with float32 JAX arrays: a plane whose second
    feature has standard deviation 4 (Hessian eigenvalues about 1.9, 2.3 and 36), and a line whose
    feature is not centred (eigenvalues about 0.18 and 23); each has a learning rate that diverges
    and ones that converge, the second one too slow to arrive within ``num_steps``. The reference
    runs descent in float64 NumPy; a count may be off by one (the steps counted before or after the
    update, float32 rounding where a distance crosses ``tol``). Named slips: 0 for a
    run that never gets close (``argmax`` of an all-False array), ``num_steps`` instead of -1, the
    gradient of the sum of squares, stopping on the gradient's norm, on the Euclidean distance or
    on the loss instead of every coefficient's distance, the final coefficients instead of counts.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> def steps_to_tolerance(X, y, lrs, tol, num_steps):
      ...     b_closed = jnp.linalg.lstsq(X, y)[0]
      ...     def run(lr):
      ...         def one_step(b, _):
      ...             return b - lr * 2 / len(y) * X.T @ (X @ b - y), jnp.max(jnp.abs(b - b_closed))
      ...         close = jax.lax.scan(one_step, jnp.zeros(X.shape[1]), length=num_steps)[1] < tol
      ...         return jnp.where(close.any(), jnp.argmax(close), -1)
      ...     return jax.vmap(run)(lrs)
      >>> check_steps_to_tolerance(steps_to_tolerance)
      Correct: steps_to_tolerance agrees with float64 descent on 2 problems, diverging and too-slow rates included
    """
    for i, (X, y, lrs, tol, num_steps) in enumerate(_lr_problems(), start=1):
        steps = functools.partial(_problem_steps, i - 1)
        where = f"on test problem {i}"
        got = call_on_jax_arrays(steps_to_tolerance, X, y, lrs, tol, num_steps, name="steps_to_tolerance", where=where)
        counts = as_array(got)
        shape = (len(lrs),)
        if counts is None:
            raise fail(
                f"steps_to_tolerance should return an array of {len(lrs)} step counts, one per learning rate; "
                f"got {type(got).__name__}"
            )
        if counts.shape == (len(lrs), X.shape[1]):
            raise fail(
                f"steps_to_tolerance {where} returned shape {counts.shape}, coefficients for each learning rate: "
                f"return the number of steps each run needed, shape {shape}"
            )
        if counts.shape != shape:
            raise fail(
                f"steps_to_tolerance {where} should return shape {shape}, one count per learning rate; got {counts.shape}"
            )
        if not np.all(np.isfinite(counts)):
            raise fail(
                f"steps_to_tolerance {where} returned NaN or infinity: {counts.tolist()}; a run that diverges "
                "should count -1"
            )
        if not np.all(counts == np.round(counts)):
            raise fail(f"steps_to_tolerance {where} should return whole numbers of steps; got {counts.tolist()}")
        expected = steps()

        def matches(reference: np.ndarray) -> bool:
            never = reference == -1
            return bool(np.all((counts == -1) == never) and np.all(np.abs(counts[~never] - reference[~never]) <= 1))

        if matches(expected):
            continue
        never = expected == -1
        lr_text = lambda mask: ", ".join(f"{lr:g}" for lr in lrs[mask])
        slips = [
            (
                np.where(never, 0, expected),
                f"for lr = {lr_text(never)} the coefficients never come within {tol:g} in {num_steps} steps, and "
                "you returned 0 there: that is what argmax returns for an all-False array; return -1 when no "
                "step is close (e.g. jnp.where(close.any(), jnp.argmax(close), -1))",
            ),
            (
                np.where(never, num_steps, expected),
                f"for a run that never comes within {tol:g} (lr = {lr_text(never)}) return -1, not num_steps = {num_steps}",
            ),
            (
                steps(sum_of_squares=True),
                "every run diverged as if the learning rates were n times larger: that is the gradient of the sum "
                f"of squares; the MSE is a mean, its gradient (2/n) X^T (X b - y) with n = {X.shape[0]}",
            ),
            (
                steps(criterion="gradient"),
                "those are the steps until the gradient's norm falls below tol (the chapter's while_loop rule); "
                "the exercise counts the steps until every coefficient is within tol of the least-squares solution",
            ),
            (
                steps(criterion="norm"),
                "you stopped on the Euclidean distance ||b - b_closed||: the exercise asks that every coefficient be "
                "within tol, the largest |b_j - b_closed_j|",
            ),
            (
                steps(criterion="loss"),
                "those are the steps until the loss is within tol of its minimum; the exercise counts the steps "
                "until every coefficient is within tol of the least-squares solution",
            ),
        ]
        for reference, message in slips:
            if not np.array_equal(reference, expected) and matches(reference):
                return Feedback(False, f"steps_to_tolerance {where}: {message}")
        off = ((counts == -1) != never) | (~never & (np.abs(counts - expected) > 1))
        wrong = int(np.argmax(off))
        lr, count, right = float(lrs[wrong]), int(counts[wrong]), int(expected[wrong])
        if right == -1:
            return Feedback(
                False,
                f"steps_to_tolerance {where}: for lr = {lr:g} you count {count} steps, but that run never comes "
                f"within {tol:g} of the least-squares solution in {num_steps} steps (it diverges or is too slow): "
                "expected -1",
            )
        return Feedback(
            False,
            f"steps_to_tolerance {where}: for lr = {lr:g} you count {count}, but every coefficient is first within "
            f"{tol:g} of the least-squares solution after {right} steps",
        )
    return Feedback(
        True,
        "steps_to_tolerance agrees with float64 descent on 2 problems, diverging and too-slow rates included",
    )


#: The true coefficients and noise level that exercise 4.5 simulates (Chapter 4's plane).
SIMULATED_COEFFICIENTS = (3.0, -11.0, 12.0)
SIMULATED_NOISE_SD = 3.0


def _simulation_design(seed: int, n: int) -> np.ndarray:
    """A design whose features are neither standard nor independent, so that the spread of the
    slope differs from ``3 / sqrt(n)``: an answer must use the ``X`` it is given."""
    rng = np.random.default_rng(seed)
    x1 = 2.0 * rng.normal(size=n)
    x2 = 0.6 * x1 + rng.normal(size=n)
    return np.column_stack([np.ones(n), x1, x2]).astype(np.float32)


@checker("slope_estimates", function=True)
def check_slope_estimates(slope_estimates: Callable[[Any, Any, int], Any], *, num_reps: int = 1000) -> Feedback:
    """Exercise 4.5: ``slope_estimates(key, X, num_reps)`` should return ``num_reps`` least-squares
    slopes ``b1``, each refitted after redrawing the noise of ``y = X (3, -11, 12) + 3 eps``.

    Called on two designs of the check's own (``n = 250`` and ``n = 4000``, features with other
    variances than the chapter's, and correlated) with keys of its own. The estimates must centre
    on -11 (within 6 Monte Carlo standard errors) and spread as ``3 sqrt([(X^T X)^-1]_11)`` (within
    15 %, about 7 Monte Carlo standard errors for 1000 draws); a different key must give different
    draws. Named slips: one key reused for every draw, noise of standard deviation 1 or 9 (the
    variance), all three coefficients returned, another column than b1, standard errors instead of estimates, a design other than ``X``.
    """
    import jax  # imported here: the other checkers of this chapter need only NumPy
    import jax.numpy as jnp

    measured = {}
    for i, n in enumerate((250, 4000)):
        X = _simulation_design(70 + i, n)
        X64 = X.astype(np.float64)
        expected_sd = SIMULATED_NOISE_SD * float(np.sqrt(np.linalg.inv(X64.T @ X64)[1, 1]))
        where = f"on a design with n = {n}"
        got = call_student(
            slope_estimates, jax.random.key(100 + i), jnp.asarray(X), num_reps, name="slope_estimates", where=where
        )
        slopes = as_array(got)
        if slopes is None:
            raise fail(f"slope_estimates should return an array of {num_reps} slopes; got {type(got).__name__}")
        if slopes.shape == (num_reps, 3):
            raise fail(
                f"slope_estimates returned all three coefficients, shape {slopes.shape}: return only the slope b1 "
                f"(column 1), shape ({num_reps},)"
            )
        if slopes.shape != (num_reps,):
            raise fail(f"slope_estimates(key, X, {num_reps}) should have shape ({num_reps},); got {slopes.shape}")
        if not np.all(np.isfinite(slopes)):
            raise fail(f"slope_estimates {where} contains NaN or infinity")
        if np.ptp(slopes) == 0:
            raise fail(
                "all the slopes are equal: each redraw needs a key of its own; split the key, "
                "e.g. jax.random.split(key, num_reps), instead of reusing it"
            )
        mean, sd = float(np.mean(slopes)), float(np.std(slopes, ddof=1))
        b1 = SIMULATED_COEFFICIENTS[1]
        if abs(mean - b1) > 6 * expected_sd / np.sqrt(num_reps):
            for column, value in enumerate(SIMULATED_COEFFICIENTS):
                if column != 1 and abs(mean - value) < 0.5:
                    raise fail(
                        f"the values average {mean:.4g}, near b{column} = {value:g}: that is column {column}; "
                        "the slope b1 is column 1 of the coefficients"
                    )
            if abs(mean - expected_sd) < 0.5 * expected_sd:
                raise fail(
                    f"those look like standard errors (mean {mean:.3g}), not estimates: return the refitted "
                    "slopes b1 themselves"
                )
            raise fail(
                f"the slopes {where} average {mean:.4g}, but least squares is unbiased: they should centre on "
                f"the true slope {b1:g} (y = X @ (3, -11, 12) + 3 * noise)"
            )
        ratio = sd / expected_sd
        if abs(ratio - 1) > 0.15:
            if abs(ratio - 1 / SIMULATED_NOISE_SD) < 0.05:
                raise fail(
                    f"the slopes spread {SIMULATED_NOISE_SD:g} times too little: the noise has standard "
                    f"deviation {SIMULATED_NOISE_SD:g}, so multiply the standard-normal draws by it"
                )
            if abs(ratio - SIMULATED_NOISE_SD) < 0.15 * SIMULATED_NOISE_SD:
                raise fail(
                    f"the slopes spread {SIMULATED_NOISE_SD:g} times too much: the noise's standard deviation is "
                    f"{SIMULATED_NOISE_SD:g}, its variance {SIMULATED_NOISE_SD**2:g}; multiply the standard-normal "
                    f"draws by {SIMULATED_NOISE_SD:g}"
                )
            raise fail(
                f"the slopes {where} have standard deviation {sd:.3g}, but for the X the check passed "
                f"3 sqrt([(X^T X)^-1]_11) = {expected_sd:.3g}: refit with that X, redrawing only the noise"
            )
        if i == 0:
            again = as_array(
                call_student(
                    slope_estimates, jax.random.key(200), jnp.asarray(X), num_reps, name="slope_estimates", where=where
                )
            )
            if again is not None and again.shape == slopes.shape and np.array_equal(again, slopes):
                raise fail(
                    "slope_estimates gives the same slopes for two different keys: draw the noise from the "
                    "key it is given"
                )
        measured[n] = (sd, expected_sd)
    shown = "; ".join(f"n = {n}: sd {sd:.2g} (formula {formula:.2g})" for n, (sd, formula) in measured.items())
    return Feedback(
        True, f"the slopes centre on -11 and spread as sigma^2 (X^T X)^-1 says, on the check's designs: {shown}"
    )
