"""Checkers for the exercises of Chapter 8 (networks with Flax NNX).

Each takes the student's answer and returns a :class:`~jaxbook.checks.Feedback`; none raises.
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
from jaxbook.checks._core import (
    Feedback,
    as_array,
    as_number,
    call_student,
    checker,
    compare_arrays,
    sigmoid,
)


@checker("two_logits", function=True)
def check_two_logits(two_logits: Callable[[Any], Any]) -> Feedback:
    """Exercise 8.1: ``two_logits(z)`` should turn one logit per example, shape ``(n,)``, into two,
    shape ``(n, 2)``, whose softmax is ``(1 - sigmoid(z), sigmoid(z))``.

    Any pair whose difference is ``z`` is right (``(0, z)``, ``(-z/2, z/2)``,
    ``(log_sigmoid(-z), log_sigmoid(z))``). Diagnoses swapped columns, stacking along the wrong
    axis, and probabilities passed as logits.
    """
    z = np.array([-30.0, -2.0, -0.5, 0.0, 0.7, 3.0, 25.0], dtype=np.float32)
    got = as_array(call_student(two_logits, jnp.asarray(z), name="two_logits"))
    if got is None:
        return Feedback(False, "two_logits should return an array of shape (n, 2)")
    if got.shape == (2, z.size):
        return Feedback(False, f"two_logits returns shape {got.shape}; stack along the last axis to get ({z.size}, 2)")
    if got.shape != (z.size, 2):
        return Feedback(False, f"two_logits returns shape {got.shape}; expected ({z.size}, 2)")
    if not np.all(np.isfinite(got)):
        return Feedback(False, f"two_logits returns NaN or infinity for z = {z.tolist()} (is there a log of 0?)")
    p = sigmoid(z)
    if np.allclose(got, np.column_stack([1.0 - p, p]), atol=1e-5) or np.allclose(
        got, np.column_stack([p, 1.0 - p]), atol=1e-5
    ):
        return Feedback(
            False,
            "those are the probabilities (1 - sigmoid(z), sigmoid(z)), not logits: softmax would turn them into "
            "other probabilities. Return logits whose difference is z, e.g. (0, z)",
        )
    shifted = got - got.max(axis=1, keepdims=True)
    softmax = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    if np.allclose(softmax[:, 0], p, atol=1e-5):
        return Feedback(False, "the classes are swapped: column 1 must be the logit of class 1, so put z second")
    result = compare_arrays(softmax[:, 1], p, name="softmax(two_logits(z))[:, 1]", rtol=1e-4, atol=1e-5)
    if result.ok:
        return Feedback(True, "softmax of your two logits equals sigmoid(z): only their difference matters")
    return result


def _params(model: nnx.Module) -> list[np.ndarray]:
    return [np.asarray(leaf) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))]


def _plain_jax_jit(function: Any) -> bool:
    """A function wrapped in ``jax.jit`` (not ``nnx.jit``)."""
    return (
        hasattr(function, "lower")
        and hasattr(function, "__wrapped__")
        and not type(function).__module__.startswith("flax")
    )


@checker("train_step", function=True)
def check_train_step(train_step: Callable[..., Any]) -> Feedback:
    """Exercise 8.2: ``train_step(model, optimizer, X, y)`` should compute the loss
    ``jaxbook.flax_models.sigmoid_loss`` and its gradient with ``nnx.value_and_grad``, apply
    ``optimizer.update(model, grads)`` and return the loss (before the update).

    Two steps are compared with a reference on an identical model. Diagnoses a step wrapped in
    plain ``jax.jit`` (it runs, but works on copies of the model, so the update is lost), no
    update, two updates per step, and the loss computed after the update.
    """
    X = jax.random.uniform(jax.random.key(81), (64, 2))
    y = (X[:, 1] >= 2.5 * X[:, 0] * (1 - X[:, 0])).astype(jnp.float32)
    models = [flax_models.MLP(2, [2], 1, rngs=nnx.Rngs(8)) for _ in range(2)]
    optimizers = [nnx.Optimizer(m, optax.adam(0.1), wrt=nnx.Param) for m in models]
    before = _params(models[0])
    losses, expected_before, expected_after = [], [], []
    for k in range(2):
        losses.append(
            call_student(
                train_step, models[0], optimizers[0], X, y, name="train_step", where=f"at step {k + 1}", allow_none=True
            )
        )
        loss, grads = nnx.value_and_grad(flax_models.sigmoid_loss)(models[1], X, y)
        optimizers[1].update(models[1], grads)
        expected_before.append(float(loss))
        expected_after.append(float(flax_models.sigmoid_loss(models[1], X, y)))
    if all(np.array_equal(a, b) for a, b in zip(before, _params(models[0]))):
        if _plain_jax_jit(train_step):
            return Feedback(
                False,
                "train_step is wrapped in plain jax.jit: it runs, but on copies of the model and optimizer, "
                "so optimizer.update changes the copies and the update is silently dropped. Use nnx.jit, which "
                "carries the in-place changes back out",
            )
        return Feedback(False, "the model's parameters did not change: call optimizer.update(model, grads)")
    if int(np.asarray(optimizers[0].step[...])) == 4:
        return Feedback(False, "optimizer.update was called twice per step")
    for g, e in zip(_params(models[0]), _params(models[1])):
        result = compare_arrays(g, e, name="the parameters after two steps", rtol=1e-4, atol=1e-6)
        if not result.ok:
            return Feedback(
                False, f"{result.message} (is the loss flax_models.sigmoid_loss, and the optimizer the one passed in?)"
            )
    if any(loss is None for loss in losses):
        return Feedback(False, "train_step should return the loss; it returned None")
    got = [as_number(loss, "the returned loss") for loss in losses]
    if np.allclose(got, expected_before, rtol=1e-4, atol=1e-6):
        return Feedback(True, "train_step matches nnx.value_and_grad + optimizer.update over two steps")
    if np.allclose(got, expected_after, rtol=1e-4, atol=1e-6):
        return Feedback(
            False,
            "the returned loss is computed after the update: return the loss before the update, "
            "the one nnx.value_and_grad gives with the gradient",
        )
    return compare_arrays(got[-1], expected_before[-1], name="the returned loss", rtol=1e-4, atol=1e-6)


@checker("num_params")
def check_parameter_count(count: Any, in_features: int = 64, width: int = 256, num_classes: int = 10) -> Feedback:
    """Exercise 8.3: the number of parameters of ``MLP(in_features, [width], num_classes)``, a whole number."""
    expected = in_features * width + width + width * num_classes + num_classes
    value = as_number(count, "num_params")
    if not float(value).is_integer():
        return Feedback(False, f"num_params should be a whole number (a count of parameters); got {value:g}")
    got = int(value)
    if got == expected:
        return Feedback(
            True, f"{got} parameters: {in_features}x{width} + {width} + {width}x{num_classes} + {num_classes}"
        )
    if got == in_features * width + width * num_classes:
        return Feedback(False, f"{got} counts the weights only: each layer also has one bias per output")
    if got == in_features * width + width:
        return Feedback(False, f"{got} is the hidden layer only; add the output layer")
    if got == in_features * width + in_features + width * num_classes + width:
        return Feedback(False, f"{got} gives each layer one bias per input; a bias belongs to each output unit")
    if got == (in_features + 1) * (width + 1) * (num_classes + 1) or got == in_features * width * num_classes:
        return Feedback(False, f"{got} multiplies the layers' sizes; add the layers' counts instead")
    return Feedback(False, f"{got} parameters; each nnx.Linear(a, b) has a*b weights and b biases")
