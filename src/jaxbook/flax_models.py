"""Networks as Flax NNX modules, and a compiled training loop for them.

Introduced in Chapter 8. :class:`MLP` is the two-layer network of Chapter 6 written with
``nnx.Linear`` layers (and, with other sizes, the capstone's network and Chapter 9's data-parallel
classifier); :func:`train_step` is the NNX training step (``nnx.value_and_grad``, then
``optimizer.update(model, grads)`` on an ``nnx.Optimizer``), and :func:`fit` runs it on the
training-loop core of ``jaxbook.train``, all steps inside one ``lax.scan``, by splitting the model
and its optimiser into a static graph and a pytree of arrays (``nnx.split`` / ``nnx.merge``).
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

_LECUN_NORMAL = nnx.initializers.lecun_normal()  # nnx.Linear's defaults
_ZEROS = nnx.initializers.zeros_init()


class MLP(nnx.Module):
    """A multi-layer perceptron: ``nnx.Linear`` layers with an activation between them.

    ``MLP(2, [2], 1, rngs=nnx.Rngs(0))`` is Chapter 6's hill network (sigmoid hidden layer of
    width 2, one output logit). Called on ``X`` of shape ``(n, in_features)`` it returns logits of
    shape ``(n, num_outputs)``. Chapter 8.

    Args:
      in_features: the number of input features.
      widths: the widths of the hidden layers, in order.
      num_outputs: the number of output logits.
      activation: the function applied after each hidden layer.
      kernel_init, bias_init: the initialisers every ``nnx.Linear`` draws its weights and biases
        with (Flax's defaults: LeCun normal kernels, zero biases), e.g.
        ``nnx.initializers.normal(0.1)``.
      rngs: the ``nnx.Rngs`` the initial values are drawn from.

    Example:
      >>> model = MLP(2, [2], 1, rngs=nnx.Rngs(0))
      >>> model(jnp.zeros((5, 2))).shape
      (5, 1)
      >>> small = MLP(2, [2], 1, kernel_init=nnx.initializers.normal(0.1), rngs=nnx.Rngs(0))
      >>> bool(jnp.abs(small.hidden[0].kernel[...]).max() < 1.0)
      True
    """

    def __init__(
        self,
        in_features: int,
        widths: Sequence[int],
        num_outputs: int,
        *,
        activation: Callable[[Array], Array] = nnx.sigmoid,
        kernel_init: Callable[..., Array] = _LECUN_NORMAL,
        bias_init: Callable[..., Array] = _ZEROS,
        rngs: nnx.Rngs,
    ):
        sizes = [in_features, *widths]
        init = {"kernel_init": kernel_init, "bias_init": bias_init}
        self.hidden = nnx.List([nnx.Linear(a, b, **init, rngs=rngs) for a, b in zip(sizes[:-1], sizes[1:])])
        self.output = nnx.Linear(sizes[-1], num_outputs, **init, rngs=rngs)
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


@nnx.jit(static_argnums=0)
def train_step(loss_fn: Callable[..., Array], model: nnx.Module, nnx_optimizer: nnx.Optimizer, *batch: Array) -> Array:
    """One optimiser step on a batch; updates ``model`` and ``nnx_optimizer`` in place. Chapter 8.

    The NNX idiom, written once for the book: ``loss, grads = nnx.value_and_grad(loss_fn)(model,
    *batch)``, then ``nnx_optimizer.update(model, grads)``, under ``nnx.jit``. :func:`fit` runs it
    inside its ``lax.scan``; Chapter 9 calls it on sharded batches, unchanged: where the batch and
    the parameters live decides how it runs.

    Args:
      loss_fn: ``loss_fn(model, *batch) -> scalar``, e.g. :func:`sigmoid_loss`; static (the same
        function object each time).
      model: an NNX module.
      nnx_optimizer: ``nnx.Optimizer(model, tx, wrt=nnx.Param)``, Flax's optimiser object (in the
        package, ``optimizer`` is always a function from a learning rate to an optax optimiser).
      batch: the arrays ``loss_fn`` takes after the model, e.g. ``X, y``.

    Returns:
      The batch loss before the update.

    Example:
      >>> model = MLP(2, [2], 1, rngs=nnx.Rngs(0))
      >>> nnx_optimizer = nnx.Optimizer(model, optax.adam(0.01), wrt=nnx.Param)
      >>> float(train_step(sigmoid_loss, model, nnx_optimizer, jnp.zeros((4, 2)), jnp.ones(4))) > 0
      True
    """
    loss, grads = nnx.value_and_grad(loss_fn)(model, *batch)
    nnx_optimizer.update(model, grads)
    return loss


@partial(jax.jit, static_argnames=("graphdef", "loss_fn", "optimizer", "num_steps", "per_epoch"))
def _fit(graphdef, state, lr, data, indices, loss_fn, optimizer, num_steps, per_epoch):
    model = nnx.merge(graphdef, state)
    nnx_optimizer = nnx.Optimizer(model, optimizer(lr), wrt=nnx.Param)
    both, carry = nnx.split((model, nnx_optimizer))

    def step(carry, batch):
        model, nnx_optimizer = nnx.merge(both, carry)
        loss = train_step(loss_fn, model, nnx_optimizer, *batch)
        return nnx.state((model, nnx_optimizer)), {"loss": loss}

    def evaluate(carry):
        return loss_fn(nnx.merge(both, carry)[0], *data)

    carry, records, evaluations = train.run_steps(
        step, carry, data, num_steps=num_steps, indices=indices, per_epoch=per_epoch, evaluate=evaluate
    )
    return nnx.state(nnx.merge(both, carry)[0]), records, evaluations


def fit(
    loss_fn: Callable[..., Array],
    model: nnx.Module,
    optimizer: Callable[[Any], optax.GradientTransformation],
    *,
    lr: float,
    num_steps: int,
    data: tuple[Array, ...],
    batch_size: int,
    key: Array,
) -> tuple[nnx.Module, train.History]:
    """Train ``model`` in place on mini-batches, all steps in one compiled ``lax.scan``.

    The same convention as ``jaxbook.optim.fit``, with a Flax model in place of a pytree of
    parameters. Each step is :func:`train_step` with ``nnx.Optimizer(model, optimizer(lr),
    wrt=nnx.Param)``; the data are shuffled afresh every epoch with ``key``
    (``jaxbook.train.batch_indices``). Chapter 8.

    Args:
      loss_fn: ``loss_fn(model, *data) -> scalar``; the same function object each time.
      model: an NNX module; updated in place.
      optimizer: a function from the learning rate to an ``optax.GradientTransformation``, e.g.
        ``optax.adam``. The learning rate is an argument of the compiled loop, so several calls
        with the same ``optimizer`` (one per seed, say) compile it once.
      lr: the learning rate, > 0.
      num_steps, batch_size: how many steps, of how many examples.
      data: the arrays ``loss_fn`` takes after the model, e.g. ``(X, y)``, each with ``n`` rows.
      key: a ``jax.random.key`` for the mini-batches.

    Returns:
      ``(model, history)``: the trained model (the same object) and a ``jaxbook.train.History``
      with ``history["loss"]``, the mini-batch loss of every step ``(num_steps,)``, and
      ``history["epoch_loss"]``, the loss on all the data after each epoch.

    Raises:
      jaxbook.train.DivergenceError: if the loss becomes NaN or infinite or explodes.

    Example:
      >>> X, y = jnp.array([[0.5, 0.9], [0.5, 0.1]] * 4), jnp.array([1.0, 0.0] * 4)
      >>> model, history = fit(sigmoid_loss, MLP(2, [2], 1, rngs=nnx.Rngs(0)), optax.adam, lr=0.1,
      ...                      num_steps=6, data=(X, y), batch_size=4, key=jax.random.key(0))
      >>> history["loss"].shape, history["epoch_loss"].shape
      ((6,), (3,))
    """
    lr = validation.positive("lr", lr)
    num_steps = validation.positive_int("num_steps", num_steps)
    data = tuple(jnp.asarray(a) for a in data)
    n = train.check_batching(data, batch_size, key)
    per_epoch = train.steps_per_epoch(n, batch_size)
    indices = train.batch_indices(key, n, batch_size, num_steps)
    graphdef, state = nnx.split(model)
    state, records, evaluations = _fit(
        graphdef, state, jnp.float32(lr), data, indices, loss_fn, optimizer, num_steps, per_epoch
    )
    nnx.update(model, state)
    history = train.make_history(records, evaluations, None, num_steps=num_steps, per_epoch=per_epoch)
    train.check_losses(jnp.append(history["loss"], history["epoch_loss"][-1]), lr=lr)
    return model, history


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
