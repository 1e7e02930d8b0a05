"""Checkers for the exercises of Chapter 8 (networks with Flax NNX).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from jaxbook import flax_models
from jaxbook.checks._core import Feedback, compare_arrays


def check_two_logits(two_logits: Callable[[Any], Any]) -> Feedback:
    """Exercise 8.1: ``two_logits(z)`` should turn one logit per example, shape ``(n,)``, into two,
    shape ``(n, 2)``, whose softmax is ``(1 - sigmoid(z), sigmoid(z))``.
    """
    if not callable(two_logits):
        return Feedback(False, f"two_logits should be a function; got {type(two_logits).__name__}")
    z = np.array([-30.0, -2.0, -0.5, 0.0, 0.7, 3.0, 25.0], dtype=np.float32)
    try:
        got = np.asarray(two_logits(jnp.asarray(z)), dtype=np.float64)
    except Exception as exc:  # report the student's error instead of raising it
        return Feedback(False, f"two_logits raised {type(exc).__name__}: {exc}")
    if got.shape == (2, z.size):
        return Feedback(False, f"two_logits returns shape {got.shape}; stack along the last axis to get ({z.size}, 2)")
    if got.shape != (z.size, 2):
        return Feedback(False, f"two_logits returns shape {got.shape}; expected ({z.size}, 2)")
    shifted = got - got.max(axis=1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    expected = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    if np.allclose(softmax[:, 0], expected, atol=1e-5):
        return Feedback(False, "the classes are swapped: column 1 must be the logit of class 1, so put z second")
    result = compare_arrays(softmax[:, 1], expected, name="softmax(two_logits(z))[:, 1]", rtol=1e-4, atol=1e-5)
    if result.ok:
        return Feedback(True, "softmax of your two logits equals sigmoid(z): only their difference matters")
    return result


def _reference_step(model: nnx.Module, optimizer: nnx.Optimizer, X: Any, y: Any) -> Any:
    loss, grads = nnx.value_and_grad(flax_models.sigmoid_loss)(model, X, y)
    optimizer.update(model, grads)
    return loss


def check_train_step(train_step: Callable[..., Any]) -> Feedback:
    """Exercise 8.2: ``train_step(model, optimizer, X, y)`` should compute the loss
    ``jaxbook.flax_models.sigmoid_loss`` and its gradient with ``nnx.value_and_grad``, apply
    ``optimizer.update(model, grads)`` and return the loss (before the update).
    """
    if not callable(train_step):
        return Feedback(False, f"train_step should be a function; got {type(train_step).__name__}")
    X = jax.random.uniform(jax.random.key(81), (64, 2))
    y = (X[:, 1] >= 2.5 * X[:, 0] * (1 - X[:, 0])).astype(jnp.float32)
    models = [flax_models.MLP(2, [2], 1, rngs=nnx.Rngs(8)) for _ in range(2)]
    optimizers = [nnx.Optimizer(m, optax.adam(0.1), wrt=nnx.Param) for m in models]
    before = jax.tree.map(np.asarray, nnx.state(models[0], nnx.Param))
    losses = []
    for _ in range(2):
        try:
            got = train_step(models[0], optimizers[0], X, y)
        except Exception as exc:  # report the student's error instead of raising it
            return Feedback(False, f"train_step raised {type(exc).__name__}: {exc}")
        losses.append(got)
        expected = _reference_step(models[1], optimizers[1], X, y)
    after = jax.tree.map(np.asarray, nnx.state(models[0], nnx.Param))
    if all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after))):
        return Feedback(False, "the model's parameters did not change: call optimizer.update(model, grads)")
    if int(optimizers[0].step[...]) == 4:
        return Feedback(False, "optimizer.update was called twice per step")
    got_leaves = jax.tree.leaves(after)
    expected_leaves = jax.tree.leaves(jax.tree.map(np.asarray, nnx.state(models[1], nnx.Param)))
    for g, e in zip(got_leaves, expected_leaves):
        result = compare_arrays(g, e, name="the parameters after two steps", rtol=1e-4, atol=1e-6)
        if not result.ok:
            return Feedback(False, f"{result.message} (is the loss flax_models.sigmoid_loss, and the optimizer the one passed in?)")
    if losses[-1] is None:
        return Feedback(False, "train_step should return the loss")
    result = compare_arrays(losses[-1], expected, name="the returned loss", rtol=1e-4, atol=1e-6)
    if not result.ok:
        return result
    return Feedback(True, "train_step matches nnx.value_and_grad + optimizer.update over two steps")


def check_parameter_count(count: Any, in_features: int = 64, width: int = 256, num_classes: int = 10) -> Feedback:
    """Exercise 8.3: the number of parameters of ``MLP(in_features, [width], num_classes)``."""
    expected = in_features * width + width + width * num_classes + num_classes
    try:
        got = int(count)
    except (TypeError, ValueError):
        return Feedback(False, f"count should be an integer; got {type(count).__name__}")
    if got == expected:
        return Feedback(True, f"{got} parameters: {in_features}x{width} + {width} + {width}x{num_classes} + {num_classes}")
    if got == in_features * width + width * num_classes:
        return Feedback(False, f"{got} counts the weights only: each layer also has one bias per output")
    if got == in_features * width + width:
        return Feedback(False, f"{got} is the hidden layer only; add the output layer")
    return Feedback(False, f"{got} parameters; each nnx.Linear(a, b) has a*b weights and b biases")
