"""Networks as Flax NNX modules, and a compiled training loop for them.

Introduced in Chapter 8. :class:`MLP` is the two-layer network of Chapter 6 written with
``nnx.Linear`` layers (and, with other sizes, the capstone's network); :func:`fit` trains a module
with ``nnx.Optimizer(model, tx, wrt=nnx.Param)`` and ``optimizer.update(model, grads)``, running
all steps inside one ``lax.scan`` by splitting the model and optimiser into a static graph and a
pytree of arrays (``nnx.split`` / ``nnx.merge``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax import Array

from jaxbook import train, validation


class MLP(nnx.Module):
    """A multi-layer perceptron: ``nnx.Linear`` layers with an activation between them.

    ``MLP(2, [2], 1, rngs=nnx.Rngs(0))`` is Chapter 6's hill network (sigmoid hidden layer of
    width 2, one output logit). Called on ``X`` of shape ``(n, in_features)`` it returns logits of
    shape ``(n, num_outputs)``. Chapter 8.

    Example:
      >>> model = MLP(2, [2], 1, rngs=nnx.Rngs(0))
      >>> model(jnp.zeros((5, 2))).shape
      (5, 1)
    """

    def __init__(
        self,
        in_features: int,
        widths: Sequence[int],
        num_outputs: int,
        *,
        activation: Callable[[Array], Array] = nnx.sigmoid,
        rngs: nnx.Rngs,
    ):
        sizes = [in_features, *widths]
        self.hidden = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
        self.output = nnx.Linear(sizes[-1], num_outputs, rngs=rngs)
        self.activation = activation

    def __call__(self, x: Array) -> Array:
        for layer in self.hidden:
            x = self.activation(layer(x))
        return self.output(x)


def from_params(params: dict[str, Array]) -> MLP:
    """The NNX version of a Chapter 6 parameter pytree ``{"W1", "b1", "w2", "b2"}``: an
    ``MLP(2, [width], 1)`` whose layers hold exactly these numbers. Chapter 8.

    ``nnx.Linear`` stores its kernel as ``(in_features, out_features)``, the same layout as
    ``W1``, so the copy is direct; ``w2`` becomes a ``(width, 1)`` kernel.

    Example:
      >>> params = {"W1": jnp.ones((2, 3)), "b1": jnp.zeros(3), "w2": jnp.ones(3), "b2": jnp.array(0.5)}
      >>> from_params(params).output.kernel.shape
      (3, 1)
    """
    W1, b1, w2, b2 = (jnp.asarray(params[k], dtype=jnp.float32) for k in ("W1", "b1", "w2", "b2"))
    if W1.ndim != 2 or W1.shape[0] != 2:
        raise ValueError(f"params['W1'] must have shape (2, width); got {W1.shape}")
    width = W1.shape[1]
    for name, value, shape in [("b1", b1, (width,)), ("w2", w2, (width,)), ("b2", b2, ())]:
        if value.shape != shape:
            raise ValueError(f"params[{name!r}] must have shape {shape}; got {value.shape}")
    model = MLP(2, [width], 1, rngs=nnx.Rngs(0))  # the random initial values are overwritten
    model.hidden[0].kernel[...] = W1
    model.hidden[0].bias[...] = b1
    model.output.kernel[...] = w2[:, None]
    model.output.bias[...] = b2[None]
    return model


def to_params(model: MLP) -> dict[str, Array]:
    """The Chapter 6 pytree ``{"W1", "b1", "w2", "b2"}`` of a hill model ``MLP(2, [width], k)``.

    For one output logit the copy is direct. For two logits with softmax, only their difference
    matters: ``softmax(z)[1] = sigmoid(z1 - z0)``, so ``w2`` and ``b2`` are the differences of the
    two output columns and the result predicts the same probabilities. Chapter 8.

    Example:
      >>> params = {"W1": jnp.ones((2, 3)), "b1": jnp.zeros(3), "w2": jnp.ones(3), "b2": jnp.array(0.5)}
      >>> float(to_params(from_params(params))["b2"])
      0.5
    """
    if len(model.hidden) != 1 or model.hidden[0].kernel.shape[0] != 2 or model.output.kernel.shape[1] not in (1, 2):
        raise ValueError("model must be a hill model MLP(2, [width], 1 or 2)")
    kernel, bias = model.output.kernel[...], model.output.bias[...]
    if kernel.shape[1] == 2:
        w2, b2 = kernel[:, 1] - kernel[:, 0], bias[1] - bias[0]
    else:
        w2, b2 = kernel[:, 0], bias[0]
    return {"W1": model.hidden[0].kernel[...], "b1": model.hidden[0].bias[...], "w2": w2, "b2": b2}


def sigmoid_loss(model: nnx.Module, X: Array, y: Array) -> Array:
    """Mean binary cross-entropy of a one-logit model: ``model(X)`` ``(n, 1)``, labels ``y`` 0/1
    ``(n,)``. Chapter 8.
    """
    return jnp.mean(optax.sigmoid_binary_cross_entropy(model(X)[:, 0], y))


def softmax_loss(model: nnx.Module, X: Array, y: Array) -> Array:
    """Mean softmax cross-entropy of a model with one logit per class: ``model(X)`` ``(n, k)``,
    integer labels ``y`` in ``0..k-1`` (floats 0.0/1.0 are accepted), shape ``(n,)``. Chapter 8.
    """
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model(X), y.astype(jnp.int32)))


def predict(model: nnx.Module, X: Array) -> Array:
    """Predicted classes, shape ``(n,)``: ``logit >= 0`` for one output, the arg-max for several."""
    logits = model(X)
    return (logits[:, 0] >= 0).astype(jnp.int32) if logits.shape[1] == 1 else jnp.argmax(logits, axis=1)


def accuracy(model: nnx.Module, X: Array, y: Array) -> Array:
    """Fraction of correctly predicted classes. Chapter 8."""
    return jnp.mean(predict(model, X) == y.astype(jnp.int32))


@partial(jax.jit, static_argnames=("graphdef", "loss_fn", "batch_size", "num_steps"))
def _scan_steps(graphdef, state, X, y, order, loss_fn, batch_size, num_steps):
    n = X.shape[0]
    cycle = jnp.concatenate([order, order[:batch_size]])
    X_shuffled, y_shuffled = X[cycle], y[cycle]

    def step(state, t):
        model, optimizer = nnx.merge(graphdef, state)
        start = (t * batch_size) % n
        X_batch = jax.lax.dynamic_slice_in_dim(X_shuffled, start, batch_size)
        y_batch = jax.lax.dynamic_slice_in_dim(y_shuffled, start, batch_size)
        loss, grads = nnx.value_and_grad(loss_fn)(model, X_batch, y_batch)
        optimizer.update(model, grads)
        return nnx.state((model, optimizer)), loss

    return jax.lax.scan(step, state, jnp.arange(num_steps))


def fit(
    model: nnx.Module,
    tx: optax.GradientTransformation,
    loss_fn: Callable[[nnx.Module, Array, Array], Array],
    X: Array,
    y: Array,
    *,
    num_steps: int,
    batch_size: int,
    key: Array,
    lr: float | None = None,
) -> tuple[nnx.Optimizer, Array]:
    """Train ``model`` in place with ``tx`` on mini-batches, all steps in one compiled ``lax.scan``.

    Each step is the NNX idiom ``loss, grads = nnx.value_and_grad(loss_fn)(model, X_batch, y_batch)``
    then ``optimizer.update(model, grads)`` with ``optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)``.
    The data are shuffled once with ``key`` and visited in consecutive batches. Chapter 8.

    Args:
      model: an NNX module; updated in place.
      tx: an optax optimiser. It becomes part of the compiled program's static key, so pass the
        same object to several calls (e.g. one per seed) to compile the loop only once.
      loss_fn: ``loss_fn(model, X, y) -> scalar``; the same function object each time.
      X, y: training inputs ``(n, d)`` and labels ``(n,)``.
      num_steps, batch_size: how many steps, of how many examples.
      key: a ``jax.random.key`` for the shuffle.
      lr: the learning rate inside ``tx``, if known: then a millionfold growth of the loss is
        also caught, and the message suggests a value ten times smaller.

    Returns:
      ``(optimizer, losses)``: the ``nnx.Optimizer`` (its ``step`` counts updates) and the
      mini-batch loss of every step, shape ``(num_steps,)``.

    Raises:
      jaxbook.train.DivergenceError: if the loss becomes NaN or infinite or explodes.
    """
    num_steps = validation.positive_int("num_steps", num_steps)
    batch_size = validation.positive_int("batch_size", batch_size)
    n = validation.same_length(X=X, y=y)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of examples ({n}); got {batch_size}")
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))
    order = jnp.argsort(jax.random.bits(key, (n,)))
    state, losses = _scan_steps(graphdef, state, jnp.asarray(X), jnp.asarray(y), order, loss_fn, batch_size, num_steps)
    nnx.update((model, optimizer), state)
    if lr is not None:
        train.check_losses(losses, lr=lr)
    elif not np.all(np.isfinite(np.asarray(losses))):
        step = int(np.argmax(~np.isfinite(np.asarray(losses))))
        raise train.DivergenceError(
            f"training diverged: the loss became {float(losses[step])} at step {step}; try a smaller learning rate"
        )
    return optimizer, losses


def grid_probabilities(model: nnx.Module, *, num: int = 201) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``P(class 1)`` of a hill model on a ``num x num`` grid over the unit square, for region
    plots: the sigmoid of a single logit, or the softmax probability of class 1. Chapter 8.
    """
    xs = np.linspace(0.0, 1.0, num, dtype=np.float32)
    xx, yy = np.meshgrid(xs, xs)
    logits = model(jnp.asarray(np.stack([xx.ravel(), yy.ravel()], axis=1)))
    prob = jax.nn.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else jax.nn.softmax(logits, axis=1)[:, 1]
    return xx, yy, np.asarray(prob).reshape(xx.shape)


def standardise(X_train: Any, X_val: Any) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale each feature by the *training* mean and standard deviation, and apply the
    same transformation to the validation set (so nothing is learnt from it). Chapter 8.

    Example:
      >>> a, b = standardise(np.array([[1.0], [3.0]]), np.array([[2.0]]))
      >>> a.ravel().tolist(), b.ravel().tolist()
      ([-1.0, 1.0], [0.0])
    """
    X_train = validation.as_float_array("X_train", X_train, ndim=2)
    X_val = validation.as_float_array("X_val", X_val, ndim=2)
    if X_val.shape[1] != X_train.shape[1]:
        raise ValueError(f"X_val must have {X_train.shape[1]} columns like X_train; got {X_val.shape[1]}")
    mean, sd = X_train.mean(axis=0), X_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)  # a constant feature stays 0 instead of dividing by zero
    return ((X_train - mean) / sd).astype(np.float32), ((X_val - mean) / sd).astype(np.float32)
