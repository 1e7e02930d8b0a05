"""Checkers for the exercises of Chapter 4 (linear regression by gradient descent).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
The references are written in float64 NumPy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from jaxbook.checks._compare import as_array, as_number, compare_arrays
from jaxbook.checks._core import Feedback, call_on_jax_arrays, call_student, checker, fail
from jaxbook.checks._references import regression_problems


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
        result = compare_arrays(
            got, expected, name=f"ridge_gradient(...) on test input {i} (n = {n})", rtol=1e-3, atol=1e-4
        )
        if not result.ok:
            return result
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
        result = compare_arrays(got, expected, name=f"sgd_epoch(...) on problem {i}", rtol=1e-3, atol=1e-5)
        if not result.ok:
            return result
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
        result = compare_arrays(value, expected, name=where, rtol=1e-3, atol=1e-6)
        if not result.ok:
            return result
    return Feedback(True, "fit_standard_error agrees with the reference on 3 test problems")


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
    reference runs gradient descent in float64 NumPy. Counts that are all 0 (``argmax`` of a path
    that is never close, often compared with the true coefficients) are named.
    """
    if not isinstance(steps_needed, dict):
        return Feedback(
            False, f"steps_needed should be a dict {{learning rate: steps}}; got {type(steps_needed).__name__}"
        )
    entries = {lr: _entry(steps_needed, lr) for lr in LEARNING_RATES}
    missing = [lr for lr, value in entries.items() if value is _MISSING]
    if missing:
        return Feedback(False, f"steps_needed has no entry for the learning rate(s) {missing}")
    values = {lr: as_number(entries[lr], f"steps_needed[{lr}]") for lr in LEARNING_RATES}
    if all(value == 0 for value in values.values()):
        return Feedback(
            False,
            "every count is 0: that is what argmax returns when no step is close enough (argmax of an "
            "all-False array is 0). Compare the path with the closed form b_closed of these data, not with "
            "the true coefficients (3, -11, 12), which 1000 noisy points do not pin down to 1e-3",
        )
    X64, y64 = np.asarray(X, np.float64), np.asarray(y, np.float64)
    b_closed = np.linalg.lstsq(X64, y64, rcond=None)[0]
    counts = {}
    for lr in LEARNING_RATES:
        value = values[lr]
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
