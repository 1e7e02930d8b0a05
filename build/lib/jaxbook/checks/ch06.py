"""Checkers for the exercises of Chapter 6 (a two-layer network by hand).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxbook import nn
from jaxbook.checks._core import Feedback, compare_arrays


def _np_logits(params: dict, X: np.ndarray, *, sigmoid_hidden: bool = True, b1: bool = True, b2: bool = True, transpose: bool = False) -> np.ndarray:
    W1 = params["W1"].T if transpose else params["W1"]
    pre = X @ W1 + (params["b1"] if b1 else 0.0)
    h = 1.0 / (1.0 + np.exp(-pre)) if sigmoid_hidden else pre
    return h @ params["w2"] + (params["b2"] if b2 else 0.0)


def _test_problems() -> list[tuple[dict, np.ndarray, np.ndarray]]:
    """Two small problems in float64 NumPy: (params, X, y) for widths 2 and 5."""
    rng = np.random.default_rng(606)
    problems = []
    for n, width in [(7, 2), (30, 5)]:
        params = {
            "W1": 1.5 * rng.normal(size=(2, width)),
            "b1": 1.5 * rng.normal(size=width),
            "w2": 1.5 * rng.normal(size=width),
            "b2": np.float64(1.5 * rng.normal()),
        }
        X = rng.uniform(size=(n, 2))
        y = (X[:, 1] >= 2.5 * X[:, 0] * (1 - X[:, 0])).astype(np.float64)
        problems.append((params, X, y))
    return problems


def _variants(params: dict, X: np.ndarray) -> dict[str, np.ndarray]:
    """What typical slips compute, for the forward pass."""
    correct = _np_logits(params, X)
    variants = {
        "the hidden layer needs its sigmoid: h = sigmoid(X @ W1 + b1), not X @ W1 + b1": _np_logits(params, X, sigmoid_hidden=False),
        "the output is a logit: return h @ w2 + b2 without a sigmoid (the loss applies it)": 1.0 / (1.0 + np.exp(-correct)),
        "the hidden bias b1 is missing": _np_logits(params, X, b1=False),
        "the output bias b2 is missing": _np_logits(params, X, b2=False),
    }
    if params["W1"].shape[0] == params["W1"].shape[1]:
        variants["W1 is used transposed: its rows are the inputs (x, y), its columns the hidden units"] = _np_logits(params, X, transpose=True)
    return variants


def _np_gradients(params: dict, X: np.ndarray, y: np.ndarray, *, sigmoid_derivative: bool = True) -> dict:
    """The gradient of the mean cross-entropy, by the chain rule in float64."""
    h = 1.0 / (1.0 + np.exp(-(X @ params["W1"] + params["b1"])))
    z = h @ params["w2"] + params["b2"]
    r = (1.0 / (1.0 + np.exp(-z)) - y) / X.shape[0]
    delta = r[:, None] * params["w2"] * (h * (1.0 - h) if sigmoid_derivative else 1.0)
    return {"W1": X.T @ delta, "b1": delta.sum(axis=0), "w2": h.T @ r, "b2": r.sum()}


def check_logits(logits_fn: Callable[[Any, Any], Any]) -> Feedback:
    """Exercise 6.1: ``logits_fn(params, X)`` should return the network's logits, shape ``(n,)``.

    The reference is the same formula in float64 NumPy, on two random networks of widths 2 and 5.
    """
    if not callable(logits_fn):
        return Feedback(False, f"logits_fn should be a function; got {type(logits_fn).__name__}")
    for i, (params, X, _) in enumerate(_test_problems(), start=1):
        try:
            got = logits_fn(params, X)
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"logits_fn raised {type(exc).__name__} on test network {i}: {exc}")
        expected = _np_logits(params, X)
        got_array = np.asarray(got, dtype=np.float64) if np.ndim(got) else None
        if got_array is not None and got_array.shape == (X.shape[0], 1):
            return Feedback(False, f"logits_fn returns shape {got_array.shape}; return one logit per point, shape ({X.shape[0]},)")
        if got_array is not None and got_array.shape == expected.shape and not np.allclose(got_array, expected, atol=1e-4):
            for message, wrong in _variants(params, X).items():
                if np.shape(wrong) == expected.shape and np.allclose(got_array, wrong, atol=1e-4):
                    return Feedback(False, message)
        result = compare_arrays(got, expected, name=f"logits on test network {i}", rtol=1e-4, atol=1e-4)
        if not result.ok:
            return result
    return Feedback(True, "logits_fn agrees with the reference on 2 networks of widths 2 and 5")


def check_hand_made_hill(params: Any, data: nn.HillData, *, target: float = 0.95) -> Feedback:
    """Exercise 6.2: hand-chosen ``params`` (width 2) should reach ``target`` validation accuracy.

    Diagnoses flipped classes (accuracy near ``1 - target``) and a network that predicts one class
    everywhere.
    """
    try:
        nn.check_arguments(params, data.X_val)
    except ValueError as exc:
        return Feedback(False, str(exc))
    params = jax.tree.map(jnp.asarray, params)
    if not all(bool(jnp.all(jnp.isfinite(p))) for p in params.values()):
        return Feedback(False, "params contain NaN or infinity")
    acc = float(nn.accuracy(params, data.X_val, data.y_val))
    predicted = nn.logits(params, data.X_val) >= 0
    if acc >= target:
        return Feedback(True, f"validation accuracy {acc:.3f} >= {target:.2f}: two half-planes make the hill")
    if 1.0 - acc >= target:
        return Feedback(
            False,
            f"accuracy {acc:.3f}: your network predicts the classes the wrong way round "
            "(class 1 is ABOVE the hill); negate w2 and b2",
        )
    if bool(jnp.all(predicted)) or not bool(jnp.any(predicted)):
        return Feedback(False, f"accuracy {acc:.3f}: the network predicts one class everywhere; check the sign of b2")
    return Feedback(False, f"validation accuracy {acc:.3f} < {target:.2f}: look at where each unit's line lies")


def check_gradients(grad_fn: Callable[[Any, Any, Any], Any]) -> Feedback:
    """Exercise 6.3: ``grad_fn(params, X, y)`` should return the gradient of ``jaxbook.nn.loss``
    as a dict with the keys and shapes of ``params``. The reference is the chain rule in float64
    NumPy, which the unit tests compare with ``jax.grad``.
    """
    if not callable(grad_fn):
        return Feedback(False, f"grad_fn should be a function; got {type(grad_fn).__name__}")
    for i, (params, X, y) in enumerate(_test_problems(), start=1):
        try:
            got = grad_fn(params, X, y)
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"grad_fn raised {type(exc).__name__} on test problem {i}: {exc}")
        if not isinstance(got, dict) or set(got) != set(nn.PARAM_NAMES):
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return Feedback(False, f"grad_fn should return a dict with keys {list(nn.PARAM_NAMES)}; got {keys}")
        expected = _np_gradients(params, X, y)
        without = _np_gradients(params, X, y, sigmoid_derivative=False)
        n = X.shape[0]
        for name in nn.PARAM_NAMES:
            result = compare_arrays(
                got[name],
                expected[name],
                name=f"the gradient for {name} on test problem {i}",
                rtol=1e-3,
                atol=1e-5,
                hints={
                    float(n): "the loss is a mean over the n points: divide the summed gradient by n",
                    1.0 / n: "you divided by n twice",
                },
            )
            if not result.ok:
                got_array = np.asarray(got[name], dtype=np.float64)
                if name in ("W1", "b1") and got_array.shape == without[name].shape and np.allclose(got_array, without[name], rtol=1e-3, atol=1e-5):
                    return Feedback(False, f"the gradient for {name} misses the sigmoid's derivative h (1 - h)")
                return result
    return Feedback(True, "grad_fn agrees with the chain rule (and jax.grad) on 2 test problems")
