"""Checkers for the exercises of Chapter 1 (least squares in closed form).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from jaxbook.checks._compare import as_array, as_number, as_values, compare_arrays, compare_functions, require
from jaxbook.checks._core import Feedback, call_on_jax_arrays, call_student, checker, fail
from jaxbook.checks._references import regression_problems


def _group_cases() -> list[tuple[np.ndarray, np.ndarray, int]]:
    """(x, group, num_groups): two groups in blocks; three interleaved; four with the last one empty."""
    rng = np.random.default_rng(101)
    cases = [(np.array([0.5, -1.0, 2.0, 1.5, 3.0], np.float32), np.array([0, 0, 0, 1, 1], np.int32), 2)]
    x = rng.normal(size=9).astype(np.float32)
    cases.append((x, np.array([2, 0, 1, 1, 2, 0, 0, 2, 1], np.int32), 3))
    x = rng.uniform(-2.0, 4.0, size=12).astype(np.float32)
    cases.append((x, rng.permutation(np.repeat([0, 1, 2], 4)).astype(np.int32), 4))
    return cases


def _group_reference(x: np.ndarray, group: np.ndarray, num_groups: int) -> np.ndarray:
    X = np.zeros((x.size, 2 * num_groups))
    for i, (value, g) in enumerate(zip(x.astype(np.float64), group)):
        X[i, 2 * g] = 1.0
        X[i, 2 * g + 1] = value
    return X


def _group_slips(x: np.ndarray, group: np.ndarray, num_groups: int) -> list[tuple[np.ndarray, str]]:
    indicators = (group[:, None] == np.arange(num_groups)[None, :]).astype(np.float64)
    x64 = x.astype(np.float64)[:, None]
    reference = _group_reference(x, group, num_groups)
    baseline = np.column_stack(
        [np.ones(x.size), x64[:, 0]]
        + [c for g in range(1, num_groups) for c in (indicators[:, g], indicators[:, g] * x64[:, 0])]
    )
    return [
        (
            np.column_stack([indicators, indicators * x64]),
            "the columns are grouped by kind (all the indicators, then all the slopes); the exercise orders them "
            "group by group: [1, x] of group 0, then [1, x] of group 1, ...",
        ),
        (
            np.where(np.arange(2 * num_groups) % 2 == 1, x64, reference),
            "each slope column holds x in every row: column 2j + 1 should be x only in the rows of group j and 0 "
            "elsewhere (multiply x by the group's indicator)",
        ),
        (
            np.column_stack([np.ones(x.size), reference]),
            "there is an extra column of ones: the group indicators already add up to it, so the matrix would not "
            "have full column rank; each group's intercept is its own indicator column",
        ),
        (
            reference.reshape(x.size, num_groups, 2)[:, :, ::-1].reshape(x.size, 2 * num_groups),
            "within each group's pair of columns, x and the 1 are swapped: column 2j holds the group's intercept "
            "indicator, column 2j + 1 its x",
        ),
        (
            baseline,
            "that is the same model written with group 0 as the baseline (a shared [1, x] and, for the other groups, "
            "differences from it); the exercise asks for each group's own intercept and slope columns",
        ),
    ]


@checker("group_design", function=True)
def check_group_design(group_design: Callable[[Any, Any, int], Any]) -> Feedback:
    """Exercise 1.1: ``group_design(x, group, num_groups)`` should return the ``(n, 2 * num_groups)``
    design matrix of one line per group: row ``i`` holds 1 in column ``2 g_i``, ``x_i`` in column
    ``2 g_i + 1`` and zeros elsewhere.

    The reference is that definition written as a loop in NumPy, on three inputs of the checker's
    own (two groups in blocks, three interleaved, four of which the last has no rows). Diagnoses
    the columns grouped by kind, slope columns not masked by the group, an extra column of ones,
    the baseline (treatment) coding, the transpose, a design matrix without groups, and as many
    column pairs as the groups that occur instead of ``num_groups``.

    Example:
      >>> import jax.numpy as jnp
      >>> def group_design(x, group, num_groups):
      ...     rows = jnp.arange(x.shape[0])
      ...     return jnp.zeros((x.shape[0], 2 * num_groups)).at[rows, 2 * group].set(1.0).at[rows, 2 * group + 1].set(x)
      >>> check_group_design(group_design)
      Correct: group_design builds the design matrix of one line per group on 3 test inputs (2, 3 and 4 groups, one of them empty)
    """
    for i, (x, group, num_groups) in enumerate(_group_cases(), start=1):
        got = call_on_jax_arrays(
            group_design, x, group, num_groups, name="group_design", where=f"on test input {i} ({num_groups} groups)"
        )
        expected = _group_reference(x, group, num_groups)
        array = as_array(got)
        if array is None:
            raise fail(f"group_design should return an array; got {type(got).__name__} on test input {i}")
        n, k = x.size, num_groups
        if array.shape == expected.shape[::-1] and array.shape != expected.shape:
            return Feedback(
                False,
                f"group_design returned shape {array.shape} on test input {i}, expected {expected.shape}: one row "
                "per example, so transpose it",
            )
        if array.shape == (n, 2):
            return Feedback(
                False,
                f"group_design returned shape {array.shape}: that is one line for all the data; with {k} groups the "
                f"matrix has two columns per group, shape {expected.shape}",
            )
        used = int(group.max()) + 1
        if used < k and array.shape == (n, 2 * used):
            return Feedback(
                False,
                f"on test input {i} num_groups = {k} but group {k - 1} has no rows: the matrix still needs "
                f"2 * num_groups = {2 * k} columns (take the number of groups from num_groups, not from the data)",
            )
        for slip, message in _group_slips(x, group, num_groups):
            if array.shape == slip.shape and np.allclose(array, slip, atol=1e-5):
                return Feedback(False, message)
        require(compare_arrays(array, expected, name=f"group_design(...) on test input {i}", rtol=1e-5, atol=1e-5))
    return Feedback(
        True,
        "group_design builds the design matrix of one line per group on 3 test inputs (2, 3 and 4 groups, one of them empty)",
    )


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


def _weighted_problems() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(X, y, w) in float32, weights spread over a factor of about 400; the last problem is badly
    conditioned (a degree-5 polynomial on [0, 1], cond(sqrt(w) X) about 5e3)."""
    rng = np.random.default_rng(11)
    problems = []
    for n, p in [(6, 2), (40, 3), (300, 2)]:
        X = np.column_stack([np.ones(n), rng.uniform(-3, 5, size=(n, p - 1))]).astype(np.float32)
        w = (10.0 ** rng.uniform(-1.3, 1.3, size=n)).astype(np.float32)
        y = (X @ rng.normal(size=p) + rng.normal(size=n) / np.sqrt(w)).astype(np.float32)
        problems.append((X, y, w))
    rng = np.random.default_rng(12)
    t = np.sort(rng.uniform(0.0, 1.0, size=60))
    X = (t[:, None] ** np.arange(6)).astype(np.float32)
    w = (10.0 ** rng.uniform(-1.0, 1.0, size=60)).astype(np.float32)
    y = (X.astype(np.float64) @ np.ones(6) + 1e-3 * rng.normal(size=60) / np.sqrt(w)).astype(np.float32)
    problems.append((X, y, w))
    return problems


def _lstsq(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.linalg.lstsq(X, y, rcond=None)[0]


@checker("weighted_fit", function=True)
def check_weighted_fit(weighted_fit: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 1.3: ``weighted_fit(X, y, w)`` should return the ``b`` that minimises
    ``sum_i w_i (x_i^T b - y_i)^2``, shape ``(p,)``, by a method that works on ``sqrt(w) X`` itself.

    The reference is NumPy's ``lstsq`` of the rows scaled by ``sqrt(w)`` in float64, on four
    problems of the checker's own (weights spread over a factor of 400). The last is badly
    conditioned (a degree-5 polynomial, cond(sqrt(w) X) about 5e3): float32 QR or ``lstsq`` land
    within about 3e-4 of the reference there, while anything that forms ``X^T W X`` in float32
    (``solve``, ``inv``, Cholesky) is off by 8e-2 to 3 on the CPUs tried; the bar is 1e-2.
    Diagnoses the ordinary (unweighted) fit, rows scaled by ``w`` instead of ``sqrt(w)``, only
    ``X`` or only ``y`` scaled, rows divided by the weights, and the normal equations.

    Example:
      >>> import jax.numpy as jnp
      >>> def weighted_fit(X, y, w):
      ...     s = jnp.sqrt(w)
      ...     return jnp.linalg.lstsq(s[:, None] * X, s * y)[0]
      >>> check_weighted_fit(weighted_fit)
      Correct: weighted_fit agrees with least squares on the rows scaled by sqrt(w) on 4 problems, one of them badly conditioned
    """
    problems = _weighted_problems()
    for i, (X, y, w) in enumerate(problems, start=1):
        got = call_on_jax_arrays(weighted_fit, X, y, w, name="weighted_fit", where=f"on problem {i}")
        X64, y64, w64 = (a.astype(np.float64) for a in (X, y, w))
        s = np.sqrt(w64)
        expected = _lstsq(s[:, None] * X64, s * y64)
        badly_conditioned = i == len(problems)
        # float32 QR agrees to about 1e-5 on the first three, float32 normal equations to about 1e-4;
        # on the last, QR to about 3e-4 and the normal equations to 8e-2 at best
        rtol, atol = (0.0, 1e-2) if badly_conditioned else (1e-3, 1e-3)
        result = compare_arrays(got, expected, name=f"weighted_fit(...) on problem {i}", rtol=rtol, atol=atol)
        if result.ok:
            continue
        array = as_array(got)
        if badly_conditioned and array is not None and array.shape == expected.shape and np.all(np.isfinite(array)):
            error = float(np.max(np.abs(array - expected)))
            return Feedback(
                False,
                f"weighted_fit is right on the three well-conditioned problems but off by {error:.2g} on problem {i}, "
                f"a degree-5 polynomial with cond(sqrt(w) X) = {np.linalg.cond(s[:, None] * X64):.1e}: an error like "
                "that of forming X^T W X in float32 (it squares the condition number, here past 1 / eps), or of a "
                "hand-written Gram-Schmidt. Work on sqrt(w) X itself, with jnp.linalg.qr as the exercise asks",
            )
        if array is not None and array.shape == expected.shape:
            slips = [
                (_lstsq(X64, y64), "that is the ordinary fit: the weights were left out"),
                (
                    _lstsq(w64[:, None] * X64, w64 * y64),
                    "the rows were scaled by w: then each squared residual carries w^2; scale them by sqrt(w), "
                    "so that (sqrt(w_i) r_i)^2 = w_i r_i^2",
                ),
                (_lstsq(s[:, None] * X64, y64), "only X was scaled: scale y by the same sqrt(w), row by row"),
                (_lstsq(X64, s * y64), "only y was scaled: scale the rows of X by the same sqrt(w)"),
                (
                    _lstsq(X64 / s[:, None], y64 / s),
                    "the rows were divided by sqrt(w): a weight is 1 / sigma^2, so a reading with a large weight "
                    "counts more; multiply by sqrt(w)",
                ),
            ]
            for candidate, message in slips:
                if np.allclose(array, candidate, rtol=1e-3, atol=1e-3):
                    return Feedback(False, message)
        return result
    return Feedback(
        True,
        "weighted_fit agrees with least squares on the rows scaled by sqrt(w) on 4 problems, one of them badly "
        "conditioned",
    )


@checker("simple_regression", function=True)
def check_simple_regression(simple_regression: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 1.5: ``simple_regression(x, y)`` should return ``(intercept, slope)`` from the
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
        require(
            compare_arrays(
                [got_intercept, got_slope],
                [intercept, slope],
                name=f"(intercept, slope) on test input {i}",
                rtol=1e-3,
                atol=1e-3,
            )
        )
    return Feedback(True, "simple_regression agrees with numpy.polyfit on 3 random data sets")


@checker("r_squared_celsius")
def check_r_squared(r_squared_celsius: Any, celsius: Any, fahrenheit: Any) -> Feedback:
    """Exercise 1.4: ``r_squared_celsius`` should be ``R^2`` of the least-squares line of
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
