"""Checkers for the exercises of Chapter 5 (logistic regression).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook import logistic, losses
from jaxbook.checks._core import Feedback, _as_array, compare_arrays


def _bce_test_inputs() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(51)
    # all of length 6, so that a student's function compiles its operations once
    inputs = [(rng.normal(scale=3.0, size=6).astype(np.float32), (rng.uniform(size=6) < 0.5).astype(np.float32)) for _ in range(2)]
    inputs.append((np.array([1000.0, -1000.0, 30.0, -30.0, 0.5, -2.0], np.float32), np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0], np.float32)))
    inputs.append((np.array([1000.0, -1000.0, 50.0, 0.0, 1.0, 2.0], np.float32), np.array([1.0, 0.0, 0.0, 1.0, 0.0, 1.0], np.float32)))
    return inputs


def _reference_bce(z: np.ndarray, y: np.ndarray) -> float:
    z, y = z.astype(np.float64), y.astype(np.float64)
    return float(np.mean(np.logaddexp(0.0, z) - y * z))  # softplus(z) - y z, in float64


def check_stable_bce(stable_bce: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 5.1: ``stable_bce(logits, y)`` should be the mean binary cross-entropy, finite at
    logits of +-1000. The reference is ``softplus(z) - y z`` in float64 (as ``jaxbook.losses.binary_cross_entropy``).

    Example:
      >>> check_stable_bce(lambda z, y: jnp.mean(jax.nn.softplus(z) - y * z))
      Correct: stable_bce agrees with the stable cross-entropy on 4 test inputs, including logits of +-1000
    """
    if not callable(stable_bce):
        return Feedback(False, f"stable_bce should be a function; got {type(stable_bce).__name__}")
    for i, (z, y) in enumerate(_bce_test_inputs(), start=1):
        try:
            got = stable_bce(jnp.asarray(z), jnp.asarray(y))
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"stable_bce raised {type(exc).__name__} on test input {i}: {exc}")
        value = _as_array(got)
        if value is not None and value.shape == () and not np.isfinite(value):
            return Feedback(False, f"stable_bce returned {float(value)} for logits {z.tolist()}: this is the naive "
                            "log(sigmoid(z)), which rounds to log(0) at large logits; use jax.nn.log_sigmoid or softplus")
        expected = _reference_bce(z, y)
        result = compare_arrays(
            got, expected, name=f"stable_bce(...) on test input {i}", rtol=1e-4, atol=1e-4,
            hints={float(len(z)): "that is the sum over the examples; the loss is a mean"},
        )
        if not result.ok:
            return result
    return Feedback(True, "stable_bce agrees with the stable cross-entropy on 4 test inputs, including logits of +-1000")


def _error_counts(z: np.ndarray, y: np.ndarray, threshold: float) -> np.ndarray:
    predicted, actual = z > threshold, y > 0.5
    return np.array([np.mean(predicted == actual), np.sum(predicted & ~actual), np.sum(~predicted & actual)], dtype=np.float64)


def check_error_counts(error_counts: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 5.2: ``error_counts(logits, y)`` should return ``(accuracy, false_positives,
    false_negatives)`` for the rule "class 1 when sigmoid(logit) > 0.5", i.e. logit > 0.

    Example:
      >>> def error_counts(z, y):
      ...     m = logistic.metrics({"w": jnp.ones(1), "b": jnp.zeros(())}, z[:, None], y)
      ...     return m["accuracy"], m["false_positives"], m["false_negatives"]
      >>> check_error_counts(error_counts)
      Correct: error_counts agrees on 3 test inputs
    """
    if not callable(error_counts):
        return Feedback(False, f"error_counts should be a function; got {type(error_counts).__name__}")
    rng = np.random.default_rng(52)
    inputs = []
    for _ in range(2):  # one length for all inputs: the student's function compiles once
        inputs.append((rng.normal(scale=2.0, size=20).astype(np.float32), (rng.uniform(size=20) < 0.5).astype(np.float32)))
    # logits between 0 and 0.5 tell "z > 0" from the slip "z > 0.5"
    z_slip = np.array([0.2, 0.3, 0.4, -0.2, 1.0, -1.0] + [2.0, -2.0] * 7, np.float32)
    y_slip = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 1.0] + [1.0, 0.0] * 7, np.float32)
    inputs.append((z_slip, y_slip))
    for i, (z, y) in enumerate(inputs, start=1):
        try:
            got = error_counts(jnp.asarray(z), jnp.asarray(y))
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"error_counts raised {type(exc).__name__} on test input {i}: {exc}")
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return Feedback(False, f"error_counts should return a tuple (accuracy, false_positives, false_negatives); got {type(got).__name__}")
        try:
            got = np.array([float(np.asarray(v)) for v in got])
        except (TypeError, ValueError):
            return Feedback(False, "each of the three values should be a single number")
        expected = _error_counts(z, y, threshold=0.0)
        if np.allclose(got, expected):
            continue
        if np.allclose(got, expected[[0, 2, 1]]):
            return Feedback(False, "false positives and false negatives are swapped: a false positive is a class-0 point predicted as 1")
        slipped = _error_counts(z, y, threshold=0.5)
        if np.allclose(got, slipped):
            return Feedback(False, "you compared the logits with 0.5: the threshold 0.5 is for the probability sigmoid(z), "
                            "which is the threshold 0 on the logit")
        if np.isclose(got[0], expected[0] * len(z)):
            return Feedback(False, "the accuracy should be a fraction (a mean), not a count")
        return compare_arrays(got, expected, name=f"(accuracy, false_positives, false_negatives) on test input {i}")
    return Feedback(True, "error_counts agrees on 3 test inputs")


def check_radial_classifier(predict_inside: Callable[[Any], Any], *, dim: int = 10, threshold: float = 0.95) -> Feedback:
    """Exercise 5.3: ``predict_inside(X)`` should map raw points ``(n, dim)`` to probabilities of being
    inside the unit RMS ball, with at least ``threshold`` accuracy on 2000 fresh points.
    """
    if not callable(predict_inside):
        return Feedback(False, f"predict_inside should be a function; got {type(predict_inside).__name__}")
    X, y = logistic.radial_data(jax.random.key(2025), 2000, dim=dim)
    try:
        prob = predict_inside(X)
    except Exception as exc:  # report the student's error instead of raising it
        return Feedback(False, f"predict_inside raised {type(exc).__name__} on points of shape {X.shape}: {exc}")
    prob = _as_array(prob)
    if prob is None or prob.shape != (X.shape[0],):
        shape = None if prob is None else prob.shape
        return Feedback(False, f"predict_inside should return one probability per point, shape {(X.shape[0],)}; got {shape}")
    if np.any(~np.isfinite(prob)) or prob.min() < 0 or prob.max() > 1:
        return Feedback(False, "predict_inside should return probabilities in [0, 1]: apply the sigmoid to the logits")
    accuracy = float(np.mean((prob > 0.5) == (np.asarray(y) > 0.5)))
    base_rate = float(np.mean(np.asarray(y)))
    majority = max(base_rate, 1 - base_rate)
    if accuracy >= threshold:
        return Feedback(True, f"accuracy {accuracy:.3f} on 2000 fresh points")
    if accuracy <= 1 - threshold:
        return Feedback(False, f"accuracy {accuracy:.3f}: the classes look swapped, return P(inside), not P(outside)")
    if accuracy <= majority + 0.03:
        return Feedback(False, f"accuracy {accuracy:.3f}, about what always answering the majority class scores "
                        f"({majority:.3f}): a linear function of x cannot separate a ball; give the model the squared features")
    return Feedback(False, f"accuracy {accuracy:.3f} is below {threshold}: train longer or check the features")


def check_random_init(random_init: Callable[[Any, int], Any], *, dim: int = 5) -> Feedback:
    """Exercise 5.4: ``random_init(key, dim)`` should return ``{"w": (dim,), "b": ()}`` with ``w`` drawn
    from ``N(0, 0.01^2)`` using the key, so that under ``jax.jit`` new keys give new values.
    """
    if not callable(random_init):
        return Feedback(False, f"random_init should be a function; got {type(random_init).__name__}")
    try:
        compiled = jax.jit(random_init, static_argnums=1)
        draws = [compiled(jax.random.key(seed), dim) for seed in (0, 1, 0)]
    except Exception as exc:  # report the student's error instead of raising it
        return Feedback(False, f"random_init raised {type(exc).__name__} under jax.jit: {exc}")
    if not all(isinstance(d, dict) and {"w", "b"} <= set(d) for d in draws):
        return Feedback(False, 'random_init should return a dict {"w": ..., "b": ...}')
    w0, w1, w0_again = (np.asarray(d["w"]) for d in draws)
    if w0.shape != (dim,):
        return Feedback(False, f"w should have shape {(dim,)}; got {w0.shape}")
    if np.shape(draws[0]["b"]) != () or float(np.asarray(draws[0]["b"])) != 0.0:
        return Feedback(False, f"b should be the scalar 0; got {np.asarray(draws[0]['b'])!r}")
    if np.allclose(w0, 0):
        return Feedback(False, "w is all zeros: draw it with jax.random.normal(key, (dim,))")
    if np.array_equal(w0, w1):
        return Feedback(False, "two different keys gave the same w under jit: the draw is frozen into the compiled "
                        "function (NumPy randomness inside jit runs once, at trace time); draw with jax.random and the key")
    if not np.array_equal(w0, w0_again):
        return Feedback(False, "the same key gave different values: use only the key for randomness")
    expected = 0.01 * np.asarray(jax.random.normal(jax.random.key(0), (dim,)))
    if np.allclose(w0, expected / 0.01, rtol=1e-5):
        return Feedback(False, "w has standard deviation 1: scale it by 0.01")
    if not np.allclose(w0, expected, rtol=1e-4, atol=1e-7):
        spread = float(np.std(np.concatenate([w0, w1])))
        if not 0.002 < spread < 0.05:
            return Feedback(False, f"w should have standard deviation about 0.01; its values spread by {spread:.3g}")
    return Feedback(True, "random_init draws new values for new keys and the same for the same key, under jit")
