"""Checkers for the exercises of Chapter 5 (logistic regression).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook.checks._compare import as_array, as_number, compare_arrays, require, sample_size_hints
from jaxbook.checks._core import Feedback, StudentError, call_on_jax_arrays, call_student, checker, fail
from jaxbook.checks._references import binary_cross_entropy, sigmoid


def _bce_test_inputs() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(51)
    # all of length 6, so that a student's function compiles its operations once
    inputs = [
        (rng.normal(scale=3.0, size=6).astype(np.float32), (rng.uniform(size=6) < 0.5).astype(np.float32))
        for _ in range(2)
    ]
    inputs.append(
        (
            np.array([1000.0, -1000.0, 30.0, -30.0, 0.5, -2.0], np.float32),
            np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0], np.float32),
        )
    )
    inputs.append(
        (
            np.array([1000.0, -1000.0, 50.0, 0.0, 1.0, 2.0], np.float32),
            np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0], np.float32),
        )
    )
    return inputs


@checker("stable_bce", function=True)
def check_stable_bce(stable_bce: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 5.1: ``stable_bce(logits, y)`` should be the mean binary cross-entropy, finite at
    logits of +-1000. The reference is ``softplus(z) - y z`` in float64.

    Example:
      >>> check_stable_bce(lambda z, y: jnp.mean(jax.nn.softplus(z) - y * z))
      Correct: stable_bce agrees with the stable cross-entropy on 4 test inputs, including logits of +-1000
    """
    for i, (z, y) in enumerate(_bce_test_inputs(), start=1):
        got = call_student(stable_bce, jnp.asarray(z), jnp.asarray(y), name="stable_bce", where=f"on test input {i}")
        value = as_array(got)
        if value is not None and value.shape == () and not np.isfinite(value):
            return Feedback(
                False,
                f"stable_bce returned {float(value)} for logits {z.tolist()}: this is the naive "
                "log(sigmoid(z)), which rounds to log(0) at large logits; use jax.nn.log_sigmoid or softplus",
            )
        if value is not None and value.shape == z.shape:
            return Feedback(False, f"stable_bce returns one loss per example, shape {z.shape}: take the mean")
        expected = binary_cross_entropy(z, y)
        if (
            value is not None
            and value.shape == ()
            and np.isclose(float(value), binary_cross_entropy(z, 1.0 - y), rtol=1e-4)
        ):
            return Feedback(
                False, "the labels are swapped: the loss of a class-1 example is -log sigmoid(z) = softplus(-z)"
            )
        hints = sample_size_hints(len(z))
        hints[float(len(z))] = "that is the sum over the examples; the loss is a mean"
        require(
            compare_arrays(got, expected, name=f"stable_bce(...) on test input {i}", rtol=1e-4, atol=1e-4, hints=hints)
        )
    return Feedback(
        True, "stable_bce agrees with the stable cross-entropy on 4 test inputs, including logits of +-1000"
    )


def _error_counts(z: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    predicted, actual = z > threshold, y > 0.5
    return np.array(
        [np.mean(predicted == actual), np.sum(predicted & ~actual), np.sum(~predicted & actual)], dtype=np.float64
    )


@checker("error_counts", function=True)
def check_error_counts(error_counts: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 5.2: ``error_counts(logits, y)`` should return ``(accuracy, false_positives,
    false_negatives)`` (a tuple, a list or an array of three numbers) for the rule "class 1 when
    sigmoid(logit) > 0.5", i.e. logit > 0.

    Example:
      >>> def error_counts(z, y):
      ...     predicted, actual = z > 0, y == 1
      ...     return jnp.mean(predicted == actual), jnp.sum(predicted & ~actual), jnp.sum(~predicted & actual)
      >>> check_error_counts(error_counts)
      Correct: error_counts agrees on 3 test inputs
    """
    rng = np.random.default_rng(52)
    inputs = []
    for _ in range(2):  # one length for all inputs: the student's function compiles once
        inputs.append(
            (rng.normal(scale=2.0, size=20).astype(np.float32), (rng.uniform(size=20) < 0.5).astype(np.float32))
        )
    # logits between 0 and 0.5 tell "z > 0" from the slip "z > 0.5"
    z_slip = np.array([0.2, 0.3, 0.4, -0.2, 1.0, -1.0] + [2.0, -2.0] * 7, np.float32)
    y_slip = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0] + [1.0, 0.0] * 7, np.float32)
    inputs.append((z_slip, y_slip))
    for i, (z, y) in enumerate(inputs, start=1):
        result = call_student(
            error_counts, jnp.asarray(z), jnp.asarray(y), name="error_counts", where=f"on test input {i}"
        )
        got = as_array(result)
        if got is None or got.shape != (3,):
            what = type(result).__name__ if got is None else f"shape {got.shape}"
            raise fail(
                f"error_counts should return three numbers (accuracy, false_positives, false_negatives); got {what}"
            )
        if not np.all(np.isfinite(got)):
            raise fail(f"error_counts returned NaN or infinity: {got.tolist()}")
        expected = _error_counts(z, y, threshold=0.0)
        if np.allclose(got, expected):
            continue
        if np.allclose(got, expected[[0, 2, 1]]):
            return Feedback(
                False,
                "false positives and false negatives are swapped: a false positive is a class-0 point predicted as 1",
            )
        if np.allclose(got, _error_counts(z, y, threshold=0.5)):
            return Feedback(
                False,
                "you compared the logits with 0.5: the threshold 0.5 is for the probability sigmoid(z), "
                "which is the threshold 0 on the logit",
            )
        if np.isclose(got[0], expected[0] * len(z)):
            return Feedback(False, "the accuracy should be a fraction (a mean), not a count")
        if np.isclose(got[0], 1.0 - expected[0]):
            return Feedback(False, "that is the error rate: the accuracy is the fraction of points predicted right")
        if np.allclose(got[1:], expected[1:] / len(z)):
            return Feedback(False, "the false positives and negatives should be counts (sums), not fractions")
        return compare_arrays(got, expected, name=f"(accuracy, false_positives, false_negatives) on test input {i}")
    return Feedback(True, "error_counts agrees on 3 test inputs")


def _interactions(points: np.ndarray) -> np.ndarray:
    """The coordinates, then ``x_j x_k`` for every pair ``j < k`` in the order (1, 2), (1, 3), ..., (2, 3), ..."""
    points = np.asarray(points, dtype=np.float64)
    j, k = np.triu_indices(points.shape[1], k=1)
    return np.concatenate([points, points[:, j] * points[:, k]], axis=1)


def _xor_data(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Points ``N(0, I_3)``, class 1 when the first and the last coordinate have the same sign (the
    middle one is noise): XOR of two signs, linear in the product ``x_1 x_3``."""
    points = np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32)
    return points, (points[:, 0] * points[:, 2] > 0).astype(np.float64)


def _fit_logistic(features: np.ndarray, y: np.ndarray, lam: float = 1e-3, num_steps: int = 25) -> np.ndarray:
    """Newton's method on the mean cross-entropy plus ``lam / 2 ||b[1:]||^2``, in float64 NumPy (the
    penalty keeps the fit finite on separable classes). ``features`` get a column of ones in front."""
    X = np.column_stack([np.ones(len(y)), features])
    penalty = np.full(X.shape[1], lam)
    penalty[0] = 0.0
    b = np.zeros(X.shape[1])
    for _ in range(num_steps):
        p = sigmoid(X @ b)
        gradient = X.T @ (p - y) / len(y) + penalty * b
        hessian = (X * (p * (1 - p))[:, None]).T @ X / len(y) + np.diag(penalty)
        b = b - np.linalg.solve(hessian, gradient)
    return b


def _squares(points: np.ndarray) -> np.ndarray:
    """The chapter's squared features ``[x, x**2]`` in float64."""
    points = np.asarray(points, dtype=np.float64)
    return np.concatenate([points, points**2], axis=1)


def _accuracy(b: np.ndarray, features: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(((b[0] + features @ b[1:]) > 0) == (y > 0.5)))


@checker("interaction_features", function=True)
def check_interaction_features(interaction_features: Callable[[Any], Any]) -> Feedback:
    """Exercise 5.3: ``interaction_features(points)`` should map points ``(n, d)`` to the ``d``
    coordinates followed by the products ``x_j x_k`` of every pair ``j < k``, in the order
    (1, 2), (1, 3), ..., (1, d), (2, 3), ...: shape ``(n, d + d (d - 1) / 2)``, for any ``d``.

    The check compiles it with ``jax.jit`` and compares its values on fixed points with ``d = 2, 3,
    4`` with a float64 reference; then it fits a logistic regression (Newton with a small L2
    penalty, in NumPy) on the features of XOR data of its own (``d = 3``, class 1 when the first and
    the last coordinate have the same sign) and wants at least 95 % accuracy on fresh points. Named
    slips: the products alone, the squares included (``j <= k``), every ordered pair, the
    chapter's squared features, the products in another order, a map written for ``d = 2`` only,
    a column of ones added, NumPy or scikit-learn that cannot run under ``jit``.

    Example:
      >>> def interaction_features(points):
      ...     j, k = jnp.triu_indices(points.shape[1], k=1)
      ...     return jnp.concatenate([points, points[:, j] * points[:, k]], axis=1)
      >>> check_interaction_features(interaction_features)  # doctest: +ELLIPSIS
      Correct: the features agree on fixed points with d = 2, 3 and 4, and a logistic regression on them ...
    """
    compiled = jax.jit(interaction_features)
    rng = np.random.default_rng(57)
    for d in (2, 3, 4):
        points = np.round(rng.normal(size=(6, d)), 2).astype(np.float32)
        where = f"on points of shape {points.shape}"
        try:  # jitted first: one compiled program per shape is cheaper than running the ops one by one
            got, jit_error = call_on_jax_arrays(compiled, points, name="interaction_features", where=where), None
        except StudentError as exc:  # right values without jit get a sentence of their own below
            jit_error = exc.feedback.message
            got = call_on_jax_arrays(interaction_features, points, name="interaction_features", where=where)
        features = as_array(got)
        expected = _interactions(points)
        n, width = expected.shape
        pairs = d * (d - 1) // 2
        if features is None:
            raise fail(
                f"interaction_features should return an array of shape {expected.shape}; got {type(got).__name__}"
            )
        if not np.all(np.isfinite(features)):
            raise fail(f"interaction_features {where} returned NaN or infinity")
        if features.shape == (n, pairs) and np.allclose(features, expected[:, d:], rtol=1e-5, atol=1e-6):
            raise fail(
                f"those are the {pairs} products alone: put the {d} coordinates first, then the products, "
                f"shape {expected.shape}"
            )
        squares = np.concatenate([points, points**2], axis=1).astype(np.float64)
        if features.shape == squares.shape and np.allclose(features, squares, rtol=1e-5, atol=1e-6):
            raise fail(
                "those are the chapter's squared features [x, x**2]: the exercise asks for the products x_j x_k "
                "of different coordinates, j < k"
            )
        j, k = np.triu_indices(d, k=0)
        with_squares = np.concatenate([points, points[:, j] * points[:, k]], axis=1)
        if features.shape == with_squares.shape and np.allclose(features, with_squares, rtol=1e-5, atol=1e-6):
            raise fail(
                f"those include the squares x_j^2 (pairs j <= k): take the products of different coordinates, "
                f"j < k, {pairs} of them for d = {d}"
            )
        if features.shape == (n, width + 1) and np.allclose(features[:, 0], 1.0):
            raise fail(
                "leave out the column of ones: the features are the coordinates and their products, and "
                "logistic.with_intercept adds the intercept's column when the model is fitted"
            )
        if features.shape == (n, d + 2 * pairs):
            raise fail(
                f"interaction_features {where} has {features.shape[1]} columns: is each pair in twice (x_j x_k and "
                f"x_k x_j)? Take every pair once, j < k: {d} coordinates and {pairs} products, shape {expected.shape}"
            )
        if d > 2 and features.shape == (n, d + 1):
            raise fail(
                f"interaction_features {where} has {d + 1} columns: only one product? With d = {d} coordinates "
                f"there are {pairs} pairs j < k; write it for any d (e.g. with jnp.triu_indices(d, k=1))"
            )
        if features.shape != expected.shape:
            raise fail(
                f"interaction_features {where} should have shape {expected.shape} ({d} coordinates and {pairs} "
                f"products); got {features.shape}"
            )
        if not np.allclose(features, expected, rtol=1e-5, atol=1e-6):
            same_columns = np.allclose(np.sort(features, axis=1), np.sort(expected, axis=1), rtol=1e-5, atol=1e-6)
            if same_columns and np.allclose(features[:, :d], points, rtol=1e-5, atol=1e-6):
                raise fail(
                    f"the products {where} are right but in another order: after the coordinates they go "
                    "(1, 2), (1, 3), ..., (1, d), (2, 3), ..., the order of jnp.triu_indices(d, k=1)"
                )
            if same_columns:
                raise fail(f"the columns {where} are in another order: first the {d} coordinates, then the products")
            worst = np.unravel_index(int(np.argmax(np.abs(features - expected))), expected.shape)
            raise fail(
                f"interaction_features {where} differs from the reference at row {worst[0]}, column {worst[1]}: "
                f"got {features[worst]:.4g}, expected {expected[worst]:.4g}"
            )
        if jit_error is not None:
            message = jit_error
            if "NonConcreteBooleanIndex" in message or "TracerBoolConversion" in message:
                how = (
                    "a boolean mask or an if on the values needs concrete values, which jit does not have; pick the "
                    "pairs with integer indices (jnp.triu_indices(d, k=1) or np.triu_indices), known from the shape"
                )
            else:
                how = (
                    "build the features with jnp (jnp.concatenate, indexing), not NumPy or scikit-learn, which "
                    "cannot take a traced array"
                )
            raise fail(
                "interaction_features gives the right values, but the exercise asks that it also run under jax.jit "
                f"(so that a compiled training step can build its own features): {how} ({message})"
            ) from None
    points, y = _xor_data(58, 2000)
    points_fresh, y_fresh = _xor_data(59, 2000)
    train_features = as_array(call_on_jax_arrays(compiled, points, name="interaction_features"))
    fresh_features = as_array(call_on_jax_arrays(compiled, points_fresh, name="interaction_features"))
    b = _fit_logistic(train_features, y)
    accuracy = _accuracy(b, fresh_features, y_fresh)
    squared_accuracy = _accuracy(_fit_logistic(_squares(points), y), _squares(points_fresh), y_fresh)
    if accuracy < 0.95:
        return Feedback(
            False,
            f"a logistic regression on your features reaches only {accuracy:.3f} on the check's fresh XOR points "
            "(at least 0.95 expected)",
        )
    return Feedback(
        True,
        "the features agree on fixed points with d = 2, 3 and 4, and a logistic regression on them separates the "
        f"check's XOR data: accuracy {accuracy:.3f} on 2000 fresh points (on the squared features: "
        f"{squared_accuracy:.3f})",
    )


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _ks_distance(values: np.ndarray) -> float:
    """The Kolmogorov-Smirnov distance of ``values`` from ``N(0, 1)``."""
    values = np.sort(values)
    cdf = _normal_cdf(values)
    ranks = np.arange(1, values.size + 1) / values.size
    return float(max(np.max(ranks - cdf), np.max(cdf - (ranks - 1.0 / values.size))))


@checker("init_units", function=True)
def check_init_units(init_units: Callable[[Any, int, int], Any]) -> Feedback:
    """Exercise 5.4: ``init_units(key, num_units, dim)`` should return ``(num_units, dim + 1)``
    coefficient vectors, one row per unit: intercept 0, slopes independent ``N(0, 1 / dim)``, all
    drawn from ``key``.

    The check compiles it with ``jax.jit`` (``num_units`` and ``dim`` static). The same key must
    give the same values and other keys other values; the units must differ and be uncorrelated;
    and the slopes times ``sqrt(dim)``, pooled over keys, must pass a Kolmogorov-Smirnov test
    against ``N(0, 1)`` for ``dim = 400`` (8000 values) and for ``dim = 4`` (4000 values), with a
    standard deviation within 5 % of 1 and a mean near 0 (the KS test alone would let a truncated
    normal of the wrong scale through). Named slips: one key reused for every unit, standard deviation 1, ``1 / dim``, ``sqrt(2 / dim)`` or a
    fixed 0.01, slopes not centred, a uniform draw, the rows and columns swapped, no intercept.

    Example:
      >>> def init_units(key, num_units, dim):
      ...     slopes = jax.random.normal(key, (num_units, dim)) / jnp.sqrt(dim)
      ...     return jnp.concatenate([jnp.zeros((num_units, 1)), slopes], axis=1)
      >>> check_init_units(init_units)
      Correct: init_units draws independent N(0, 1/dim) slopes, the same for one key, new for new keys, under jit
    """
    try:
        compiled = jax.jit(init_units, static_argnums=(1, 2))
    except Exception as exc:
        raise fail(f"init_units cannot be compiled with jax.jit: {type(exc).__name__}: {exc}") from None
    where = "under jax.jit (with num_units and dim static)"

    def draw(seed: int, num_units: int, dim: int) -> np.ndarray:
        got = call_student(compiled, jax.random.key(seed), num_units, dim, name="init_units", where=where)
        values = as_array(got)
        shape = (num_units, dim + 1)
        if values is None:
            raise fail(f"init_units should return one array of shape {shape}; got {type(got).__name__}")
        if values.shape == (dim + 1, num_units) and dim + 1 != num_units:
            raise fail(
                f"init_units(key, {num_units}, {dim}) has shape {values.shape}: one row per unit, so shape {shape} "
                "(transpose it)"
            )
        if values.shape == (num_units, dim):
            raise fail(
                f"init_units(key, {num_units}, {dim}) has shape {values.shape}: each row holds the intercept b[0] and "
                f"the {dim} slopes, shape {shape}"
            )
        if values.shape != shape:
            raise fail(f"init_units(key, {num_units}, {dim}) should have shape {shape}; got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise fail("the values contain NaN or infinity")
        return values

    first, second, again = draw(0, 4, 5), draw(1, 4, 5), draw(0, 4, 5)
    if np.any(first[:, 0] != 0.0):
        return Feedback(False, f"every unit's intercept (column 0) should be 0; got {first[:, 0].tolist()}")
    if np.allclose(first[:, 1:], 0):
        return Feedback(False, "the slopes are all zeros: draw them from the key with jax.random.normal")
    if not np.array_equal(first, again):
        return Feedback(False, "the same key gave different values: take the randomness only from the key")
    if np.array_equal(first, second):
        return Feedback(
            False,
            "two different keys gave the same values under jit: the draw is frozen into the compiled function "
            "(NumPy randomness inside jit runs once, at trace time); draw with jax.random and the key",
        )
    if np.allclose(first[1:, 1:], first[:1, 1:]):
        return Feedback(
            False,
            "every unit got the same slopes: one key was reused for every unit. Split it, "
            "jax.random.split(key, num_units), or draw all slopes at once with shape (num_units, dim)",
        )
    for dim, num_units, seeds in ((400, 10, (3, 4)), (4, 20, range(10, 60))):
        slopes = np.stack([draw(seed, num_units, dim)[:, 1:] for seed in seeds])  # (keys, units, dim)
        standardised = slopes.ravel() * math.sqrt(dim)
        spread, centre = float(np.std(standardised)), float(np.mean(standardised))
        size = standardised.size
        if dim == 400:
            rows = slopes.reshape(-1, dim)
            correlation = np.corrcoef(rows)
            largest = float(np.max(np.abs(correlation - np.eye(len(rows)))))
            if largest > 6 / math.sqrt(dim):  # independent rows: |r| about 1/sqrt(dim) = 0.05
                return Feedback(
                    False,
                    f"the slopes of different units are correlated (correlation up to {largest:.2f}): each unit "
                    "needs an independent draw, from its own split key or one draw of shape (num_units, dim)",
                )
        # Normal (a Kolmogorov-Smirnov distance below 2.7 / sqrt(size), p about 1e-6), and with the right
        # spread and centre: the KS test alone misses a scale a few percent off (a truncated normal's 0.88).
        centred = abs(centre) < 0.1 * max(spread, 1e-12)  # the mean's standard error is 1 / sqrt(size) < 0.02
        if _ks_distance(standardised) < 2.7 / math.sqrt(size) and 0.95 < spread < 1.05 and centred:
            continue
        scale = f"for dim = {dim}: the standard deviation should be 1/sqrt(dim) = {1 / math.sqrt(dim):.3g}"
        if not centred:
            return Feedback(
                False,
                f"the slopes are not centred on 0 (over {size} draws with dim = {dim} their mean is "
                f"{centre / math.sqrt(dim):.2g}): N(0, 1/dim) has mean 0; jax.random.uniform is not centred",
            )
        for factor, message in (
            (math.sqrt(dim), "the slopes have standard deviation 1: divide the standard normal by sqrt(dim)"),
            (
                1 / math.sqrt(dim),
                "the slopes have standard deviation 1/dim, i.e. variance 1/dim^2: the rule is variance 1/dim, "
                "so divide the standard normal by sqrt(dim)",
            ),
            (
                math.sqrt(2.0),
                "the slopes have variance 2/dim, He's rule for ReLU layers: a logistic unit's rule here is 1/dim",
            ),
            (0.01 * math.sqrt(dim), "the slopes have a fixed standard deviation 0.01: it should shrink as 1/sqrt(dim)"),
        ):
            if abs(spread / factor - 1) < 0.05:
                return Feedback(False, f"{message} ({scale})")
        if not 0.95 < spread < 1.05:
            return Feedback(False, f"over {size} draws the slopes spread by {spread / math.sqrt(dim):.3g} {scale}")
        return Feedback(
            False,
            "the slopes have the right mean and spread but are not normal (their histogram has the wrong shape): "
            "draw them with jax.random.normal, not jax.random.uniform",
        )
    return Feedback(
        True,
        "init_units draws independent N(0, 1/dim) slopes, the same for one key, new for new keys, under jit",
    )


def _auc_test_inputs() -> list[tuple[np.ndarray, np.ndarray]]:
    """Three problems of 60 points: continuous scores, scores with many ties, and reversed classes.

    Each has 24 class-1 points in its own random places: the class-1 and class-0 scores have one
    shape in all three, so that a student's function compiles its operations once, not per problem.
    """
    rng = np.random.default_rng(56)

    def labels() -> np.ndarray:
        y = np.zeros(60, np.float32)
        y[rng.permutation(60)[:24]] = 1.0
        return y

    inputs = []
    y = labels()
    inputs.append(((rng.normal(size=60) + 1.5 * y).astype(np.float32), y))
    y = labels()
    inputs.append((np.round(rng.normal(size=60) + y).astype(np.float32), y))  # whole numbers: many ties
    y = labels()
    inputs.append(((rng.normal(size=60) - 2.0 * y).astype(np.float32), y))  # AUC well below 1/2
    return inputs


def _pair_counts(scores: np.ndarray, y: np.ndarray) -> tuple[float, float, int, int]:
    positive, negative = scores[y == 1].astype(np.float64), scores[y == 0].astype(np.float64)
    above = float(np.sum(positive[:, None] > negative[None, :]))
    tied = float(np.sum(positive[:, None] == negative[None, :]))
    return above, tied, positive.size, negative.size


@checker("auc", function=True)
def check_auc(auc: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 5.5: ``auc(scores, y)`` should be the share of (class-1, class-0) pairs in which the
    class-1 point scores higher, a tie counting one half. The reference counts the pairs in
    float64; scikit-learn's ``roc_auc_score`` gives the same number (the test corpus checks this).

    Example:
      >>> def auc(s, y):
      ...     pos, neg = s[y == 1], s[y == 0]
      ...     return jnp.mean((pos[:, None] > neg) + 0.5 * (pos[:, None] == neg))
      >>> check_auc(auc)
      Correct: auc agrees on 3 test problems, ties and an AUC below one half included
    """
    values = []
    for i, (scores, y) in enumerate(_auc_test_inputs(), start=1):
        got = as_number(
            call_student(auc, jnp.asarray(scores), jnp.asarray(y), name="auc", where=f"on test problem {i}"),
            "auc(scores, y)",
        )
        values.append(got)
        above, tied, n_pos, n_neg = _pair_counts(scores, y)
        pairs = n_pos * n_neg
        expected = (above + 0.5 * tied) / pairs
        if math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-6):
            continue
        if math.isclose(got, 1.0 - expected, abs_tol=1e-6):
            return Feedback(
                False,
                f"auc gives {got:.4f} where {expected:.4f} is right: the classes are swapped; the AUC is the "
                "chance that a class-1 point scores above a class-0 point",
            )
        if tied and math.isclose(got, above / pairs, abs_tol=1e-6):
            return Feedback(False, "ties are not counted: a tied pair counts one half")
        if tied and math.isclose(got, (above + tied) / pairs, abs_tol=1e-6):
            return Feedback(False, "ties are counted as wins: a tied pair counts one half, not one")
        n = len(y)
        if math.isclose(got, (above + 0.5 * tied) / n**2, abs_tol=1e-6) or math.isclose(
            got, (above + 0.5 * tied) / (n * (n - 1) / 2), abs_tol=1e-6
        ):
            return Feedback(
                False,
                f"divide by the number of (class-1, class-0) pairs, {n_pos} x {n_neg} = {pairs}, "
                "not by the number of all pairs of points",
            )
        accuracy = float(np.mean((scores > 0) == (y == 1)))
        if math.isclose(got, accuracy, abs_tol=1e-6):
            return Feedback(False, "that is the accuracy of the rule score > 0, not the area under the ROC curve")
        return Feedback(
            False, f"auc gives {got:.4f} on test problem {i}; the share of correctly ordered pairs is {expected:.4f}"
        )
    if len(set(values)) == 1:
        return Feedback(False, "auc returns the same number for every problem: compute it from the scores and labels")
    return Feedback(True, "auc agrees on 3 test problems, ties and an AUC below one half included")
