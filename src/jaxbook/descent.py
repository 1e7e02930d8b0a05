r"""Mini-batch stochastic gradient descent, on the training-loop core of ``jaxbook.train``.

Introduced in Chapter 4 (which writes full-batch descent to a tolerance with ``lax.while_loop``
itself). Like ``jaxbook.train.gradient_descent``, the loss is ``loss_fn(params, *data)`` of a
pytree of parameters and of data passed as arguments, and the loop is compiled once with ``jit``.
The data are shuffled afresh every epoch (``jaxbook.train.batch_indices``) and each step uses one
mini-batch. The loss is a **mean** over the batch, so its gradient is already an average: the step
is ``lr * grad``, with no further division by the batch size.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
from jax import Array

from jaxbook import train, validation
from jaxbook.train import History, LossFn, Params


@partial(jax.jit, static_argnames=("loss_fn", "num_steps", "per_epoch"))
def _minibatch_sgd(loss_fn, params, data, indices, lr, decay, num_steps, per_epoch):
    def update(grads, t, params):
        lr_t = lr / (1.0 + decay * t)
        # loss_fn is a mean over the batch: grads is already an average, no "/ batch_size" here
        return jax.tree.map(lambda p, g: p - lr_t * g, params, grads), t + 1.0, {"lr": lr_t}

    return train.run_minibatch_steps(
        loss_fn, update, params, jnp.float32(0.0), data, indices=indices, num_steps=num_steps, per_epoch=per_epoch
    )


def minibatch_sgd(
    loss_fn: LossFn,
    params: Params,
    *,
    key: Array,
    lr: float,
    batch_size: int,
    num_epochs: int,
    data: tuple[Array, ...],
    decay: float = 0.0,
) -> tuple[Params, History]:
    """Mini-batch stochastic gradient descent: shuffle each epoch, one step per mini-batch.

    An **epoch** is one pass over the data; with ``n`` rows it has ``n // batch_size`` **steps**
    (a last incomplete batch is dropped). Step ``t`` (counted from 0 over all epochs) uses the
    learning rate ``lr / (1 + decay * t)``, so ``decay = 0`` keeps it constant. Chapter 4.

    Args:
      loss_fn: ``loss_fn(params, *batch) -> scalar``, a **mean** over the rows of the batch.
      params: initial parameters, any pytree of float arrays.
      key: a ``jax.random.key``; split into one key per epoch for the shuffles, never reused.
      lr: initial learning rate, > 0.
      batch_size: rows per mini-batch, between 1 and ``n``.
      num_epochs: passes over the data, >= 1 (the loop runs ``num_epochs * (n // batch_size)``
        steps).
      data: the arrays the loss takes after ``params``, each with ``n`` rows (e.g. ``(X, y)``).
      decay: learning-rate decay, >= 0.

    Returns:
      ``(params, history)``: a ``jaxbook.train.History`` with ``history["loss"]`` the mini-batch
      loss at each step (before its update), shape ``(num_epochs * steps_per_epoch,)``;
      ``history["lr"]`` the learning rate of each step; ``history["epoch_loss"]`` the full-data
      loss after each epoch, ``(num_epochs,)``.

    Example:
      >>> X = jnp.ones((8, 1)); y = jnp.full(8, 2.0)
      >>> mse = lambda b, X, y: jnp.mean((X @ b - y) ** 2)
      >>> b, history = minibatch_sgd(
      ...     mse, jnp.zeros(1), key=jax.random.key(0), lr=0.1, batch_size=4, num_epochs=3, data=(X, y)
      ... )
      >>> history["loss"].shape, history["epoch_loss"].shape
      ((6,), (3,))
    """
    lr = validation.positive("lr", lr)
    num_epochs = validation.positive_int("num_epochs", num_epochs)
    if decay < 0:
        raise ValueError(f"decay must be >= 0; got {decay}")
    data = tuple(data)
    n = train.check_batching(data, batch_size, key)
    per_epoch = train.steps_per_epoch(n, batch_size)
    num_steps = num_epochs * per_epoch
    indices = train.batch_indices(key, n, batch_size, num_steps)
    params, records, evaluations = _minibatch_sgd(
        loss_fn, params, data, indices, jnp.float32(lr), jnp.float32(decay), num_steps, per_epoch
    )
    return params, train.make_history(records, evaluations, params, num_steps=num_steps, per_epoch=per_epoch)
