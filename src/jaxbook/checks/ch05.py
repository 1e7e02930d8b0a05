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

from jaxbook.checks._compare import as_array, as_number, compare_arrays, sample_size_hints
from jaxbook.checks._core import Feedback, call_student, checker, fail
from jaxbook.checks._references import binary_cross_entropy


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
        result = compare_arrays(
            got, expected, name=f"stable_bce(...) on test input {i}", rtol=1e-4, atol=1e-4, hints=hints
        )
        if not result.ok:
            return result
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


def _radial_points(n: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh points ``N(0, I)``, class 1 inside the unit RMS ball (as Chapter 5 draws them, key 2025)."""
    X = jax.random.normal(jax.random.key(2025), (n, dim))
    X64 = np.asarray(X, dtype=np.float64)
    return X, (np.sqrt(np.mean(X64**2, axis=1)) < 1.0).astype(np.float64)


def _reads_the_rule(prob: np.ndarray, X: np.ndarray) -> bool:
    """True if ``prob`` is the rule by which the data were made rather than a fitted model:
    hard 0/1 answers, or a logit exactly proportional to ``dim - ||x||^2`` (equal weights)."""
    if np.all((prob == 0.0) | (prob == 1.0)):
        return True
    inside = (prob > 1e-3) & (prob < 1 - 1e-3)  # where a float32 probability gives its logit accurately
    if inside.sum() < 20:
        return False
    logit = np.log(prob[inside]) - np.log1p(-prob[inside])
    features = np.column_stack([np.ones(inside.sum()), X[inside] ** 2])
    coefficients, *_ = np.linalg.lstsq(features, logit, rcond=None)
    residual = np.max(np.abs(features @ coefficients - logit))
    weights = coefficients[1:]
    return residual < 1e-3 * max(1.0, np.abs(logit).max()) and np.std(weights) < 1e-3 * np.abs(np.mean(weights))


@checker("predict_inside", function=True)
def check_radial_classifier(
    predict_inside: Callable[[Any], Any], *, dim: int = 10, threshold: float = 0.95
) -> Feedback:
    """Exercise 5.3: ``predict_inside(X)`` should map raw points ``(n, dim)`` to the probabilities,
    from a trained logistic regression, of being inside the unit RMS ball, with at least
    ``threshold`` accuracy on 2000 fresh points.

    An answer that writes down the rule by which the data were made (``mean(X**2, 1) < 1``, or a
    sigmoid of it with equal hand-set weights) is not a trained model, and is rejected.
    """
    X, y = _radial_points(2000, dim)
    prob = as_array(call_student(predict_inside, X, name="predict_inside", where=f"on points of shape {X.shape}"))
    if prob is None or prob.shape != (X.shape[0],):
        shape = None if prob is None else prob.shape
        return Feedback(
            False, f"predict_inside should return one probability per point, shape {(X.shape[0],)}; got {shape}"
        )
    if np.any(~np.isfinite(prob)) or prob.min() < 0 or prob.max() > 1:
        return Feedback(False, "predict_inside should return probabilities in [0, 1]: apply the sigmoid to the logits")
    X64 = np.asarray(X, dtype=np.float64)
    accuracy = float(np.mean((prob > 0.5) == (y > 0.5)))
    if _reads_the_rule(prob, X64):
        return Feedback(
            False,
            "predict_inside writes down the rule the data were made with (mean(x^2) < 1) instead of "
            "learning it: train a logistic regression on the squared features of X_radial and return its probabilities",
        )
    base_rate = float(np.mean(y))
    majority = max(base_rate, 1 - base_rate)
    if accuracy >= threshold:
        return Feedback(True, f"accuracy {accuracy:.3f} on 2000 fresh points")
    if accuracy <= 1 - threshold:
        return Feedback(False, f"accuracy {accuracy:.3f}: the classes look swapped, return P(inside), not P(outside)")
    if accuracy <= majority + 0.03:
        return Feedback(
            False,
            f"accuracy {accuracy:.3f}, about what always answering the majority class scores "
            f"({majority:.3f}): a linear function of x cannot separate a ball; give the model the squared features",
        )
    return Feedback(False, f"accuracy {accuracy:.3f} is below {threshold}: train longer or check the features")


def _normal_cdf(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


@checker("random_init", function=True)
def check_random_init(random_init: Callable[[Any, int], Any], *, dim: int = 5, sd: float = 0.01) -> Feedback:
    """Exercise 5.4: ``random_init(key, dim)`` should return the coefficient vector ``b`` of shape
    ``(dim + 1,)``: the intercept ``b[0] = 0`` and the slopes ``b[1:]`` drawn from ``N(0, sd^2)``
    (``sd = 0.01``) using the key, so that under ``jax.jit`` new keys give new values.

    Slopes equal to ``sd * jax.random.normal(key, (dim,))`` pass at once; any other draw (from a
    split key, say) must pass a Kolmogorov-Smirnov test against ``N(0, sd^2)`` on 4000 values, so
    that a wrong scale or a uniform draw is rejected.
    """
    try:
        compiled = jax.jit(random_init, static_argnums=1)
    except Exception as exc:
        raise fail(f"random_init cannot be compiled with jax.jit: {type(exc).__name__}: {exc}") from None
    where = "under jax.jit (with dim static)"
    draws = [
        as_array(call_student(compiled, jax.random.key(seed), dim, name="random_init", where=where))
        for seed in (0, 1, 0)
    ]
    if draws[0] is None or draws[0].shape != (dim + 1,):
        shape = None if draws[0] is None else draws[0].shape
        if shape == (dim,):
            return Feedback(
                False,
                f"b has shape {shape}: the coefficient vector holds the intercept b[0] and the {dim} slopes, "
                f"shape {(dim + 1,)}",
            )
        return Feedback(False, f"random_init should return one array b of shape {(dim + 1,)}; got {shape}")
    if float(draws[0][0]) != 0.0:
        return Feedback(False, f"the intercept b[0] should be 0; got {float(draws[0][0]):.3g}")
    w0, w1, w0_again = (d[1:] for d in draws)
    if not np.all(np.isfinite(w0)):
        return Feedback(False, "the slopes contain NaN or infinity")
    if np.allclose(w0, 0):
        return Feedback(False, "the slopes are all zeros: draw them with jax.random.normal(key, (dim,))")
    if np.array_equal(w0, w1):
        return Feedback(
            False,
            "two different keys gave the same slopes under jit: the draw is frozen into the compiled "
            "function (NumPy randomness inside jit runs once, at trace time); draw with jax.random and the key",
        )
    if not np.array_equal(w0, w0_again):
        return Feedback(False, "the same key gave different values: use only the key for randomness")
    expected = sd * np.asarray(jax.random.normal(jax.random.key(0), (dim,)), dtype=np.float64)
    if np.allclose(w0, expected, rtol=1e-4, atol=1e-7):
        return Feedback(True, "random_init draws new values for new keys and the same for the same key, under jit")
    if np.allclose(w0, expected / sd, rtol=1e-4):
        return Feedback(False, f"the slopes have standard deviation 1: scale them by {sd}")
    if np.allclose(w0, expected * sd, rtol=1e-4):
        return Feedback(
            False,
            f"the slopes have standard deviation {sd**2:g}: scale the standard normal by {sd} (the standard deviation), not by the variance",
        )
    many = np.concatenate(
        [
            as_array(call_student(compiled, jax.random.key(seed), 2000, name="random_init", where=where))[1:]
            for seed in (3, 4)
        ]
    )
    spread, centre = float(np.std(many)), float(np.mean(many))
    values = np.sort(many / sd)
    cdf = _normal_cdf(values)
    ranks = np.arange(1, values.size + 1) / values.size
    distance = float(max(np.max(ranks - cdf), np.max(cdf - (ranks - 1.0 / values.size))))
    if distance < 0.04:  # the 5 % critical value is 0.021 on 4000 values: 0.04 is a p-value far below 1e-4
        return Feedback(True, "random_init draws new values for new keys and the same for the same key, under jit")
    if abs(centre) > 0.2 * spread:
        return Feedback(
            False,
            f"the slopes are not centred on 0 (their mean is {centre:.2g}): N(0, {sd}^2) has mean 0, so scale "
            f"jax.random.normal by {sd} without shifting it (jax.random.uniform(key) is not centred either)",
        )
    if not 0.9 * sd < spread < 1.1 * sd:
        return Feedback(
            False, f"the slopes should have standard deviation {sd}; over 4000 draws its values spread by {spread:.2g}"
        )
    return Feedback(
        False,
        "the slopes do not look like a normal draw (its histogram has the wrong shape): use jax.random.normal, "
        "not jax.random.uniform",
    )


def _auc_test_inputs() -> list[tuple[np.ndarray, np.ndarray]]:
    """Three problems of 60 points: continuous scores, scores with many ties, and reversed classes."""
    rng = np.random.default_rng(56)
    inputs = []
    y = (rng.uniform(size=60) < 0.4).astype(np.float32)
    inputs.append(((rng.normal(size=60) + 1.5 * y).astype(np.float32), y))
    y = (rng.uniform(size=60) < 0.5).astype(np.float32)
    inputs.append((np.round(rng.normal(size=60) + y).astype(np.float32), y))  # whole numbers: many ties
    y = (rng.uniform(size=60) < 0.3).astype(np.float32)
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
