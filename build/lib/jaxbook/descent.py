r"""Two more training loops beside ``jaxbook.train.gradient_descent``: stop at a tolerance, and
mini-batch stochastic gradient descent.

Introduced in Chapter 4. Like ``gradient_descent``, the loss is ``loss_fn(params, *data)`` of a
pytree of parameters and of data passed as arguments; both loops are compiled once with ``jit``.

- :func:`descend_until` runs full-batch descent inside ``jax.lax.while_loop`` until the gradient
  norm falls below a tolerance (or a step budget runs out), so it does only the steps it needs.
- :func:`minibatch_sgd` shuffles the data each epoch with a key split from the one it is given,
  and takes one step per mini-batch. The loss is a **mean** over the batch, so its gradient is
  already an average: the step is ``lr * grad``, with no further division by the batch size.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from jaxbook import validation

Params = Any
LossFn = Callable[..., Array]


def _global_norm(tree: Params) -> Array:
    return jnp.sqrt(sum(jnp.sum(leaf**2) for leaf in jax.tree.leaves(tree)))


@partial(jax.jit, static_argnames=("loss_fn", "max_steps"))
def _descend_until(loss_fn, params, data, lr, tol, max_steps):
    grad_fn = jax.grad(loss_fn)

    def keep_going(state):
        _, grads, step = state
        return (_global_norm(grads) > tol) & (step < max_steps)

    def update(state):
        params, grads, step = state
        params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
        return params, grad_fn(params, *data), step + 1

    state = (params, grad_fn(params, *data), jnp.array(0, dtype=jnp.int32))
    params, grads, steps = jax.lax.while_loop(keep_going, update, state)
    return params, steps, _global_norm(grads)


def descend_until(
    loss_fn: LossFn,
    params: Params,
    *,
    lr: float,
    tol: float,
    max_steps: int = 100_000,
    data: tuple[Array, ...] = (),
) -> tuple[Params, int, float]:
    """Gradient descent that stops when the gradient's norm drops below ``tol``.

    The loop is a ``jax.lax.while_loop``: its number of iterations is decided at run time, so
    unlike ``lax.scan`` it cannot record a history of fixed length. Chapter 4.

    Args:
      loss_fn: ``loss_fn(params, *data) -> scalar``; pass the same function object each time.
      params: initial parameters, any pytree of float arrays.
      lr: learning rate, > 0.
      tol: stop once ``||grad|| <= tol`` (the Euclidean norm over all parameters), > 0.
      max_steps: give up after this many steps (the result then has ``||grad|| > tol``).
      data: extra arguments of ``loss_fn``.

    Returns:
      ``(params, steps, grad_norm)``: the final parameters, the number of steps taken and the
      gradient norm at the final parameters.

    Example:
      >>> b, steps, norm = descend_until(lambda t: jnp.sum(t**2), jnp.array([2.0, 1.0]), lr=0.1, tol=1e-3)
      >>> steps
      38
    """
    lr = validation.positive("lr", lr)
    tol = validation.positive("tol", tol)
    max_steps = validation.positive_int("max_steps", max_steps)
    params, steps, grad_norm = _descend_until(loss_fn, params, tuple(data), jnp.float32(lr), jnp.float32(tol), max_steps)
    return params, int(steps), float(grad_norm)


@partial(jax.jit, static_argnames=("loss_fn", "batch_size", "num_epochs"))
def _minibatch_sgd(loss_fn, params, data, key, lr, decay, batch_size, num_epochs):
    n = data[0].shape[0]
    num_batches = n // batch_size
    value_and_grad = jax.value_and_grad(loss_fn)

    def step(carry, batch_indices):
        params, t = carry
        batch = tuple(array[batch_indices] for array in data)
        loss, grads = value_and_grad(params, *batch)
        lr_t = lr / (1.0 + decay * t)
        # loss_fn is a mean over the batch: grads is already an average, no "/ batch_size" here
        params = jax.tree.map(lambda p, g: p - lr_t * g, params, grads)
        return (params, t + 1.0), (loss, lr_t)

    def epoch(carry, epoch_key):
        order = jax.random.permutation(epoch_key, n)[: num_batches * batch_size]
        carry, (losses, lrs) = jax.lax.scan(step, carry, order.reshape(num_batches, batch_size))
        full_loss = loss_fn(carry[0], *data)
        return carry, (losses, lrs, full_loss)

    epoch_keys = jax.random.split(key, num_epochs)
    (params, _), (losses, lrs, epoch_losses) = jax.lax.scan(epoch, (params, jnp.float32(0.0)), epoch_keys)
    return params, losses.reshape(-1), lrs.reshape(-1), epoch_losses


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
) -> tuple[Params, dict[str, Array]]:
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
      num_epochs: passes over the data, >= 1.
      data: the arrays the loss takes after ``params``, each with ``n`` rows (e.g. ``(X, y)``).
      decay: learning-rate decay, >= 0.

    Returns:
      ``(params, history)`` with ``history["loss"]`` the mini-batch loss at each step (before its
      update), shape ``(num_epochs * steps_per_epoch,)``; ``history["lr"]`` the learning rate of
      each step; ``history["epoch_loss"]`` the full-data loss after each epoch, ``(num_epochs,)``.

    Example:
      >>> X = jnp.ones((8, 1)); y = jnp.full(8, 2.0)
      >>> mse = lambda b, X, y: jnp.mean((X @ b - y) ** 2)
      >>> b, history = minibatch_sgd(mse, jnp.zeros(1), key=jax.random.key(0), lr=0.1, batch_size=4, num_epochs=3, data=(X, y))
      >>> history["loss"].shape
      (6,)
    """
    lr = validation.positive("lr", lr)
    batch_size = validation.positive_int("batch_size", batch_size)
    num_epochs = validation.positive_int("num_epochs", num_epochs)
    if decay < 0:
        raise ValueError(f"decay must be >= 0; got {decay}")
    if not data:
        raise ValueError("data must hold at least one array (e.g. (X, y)); got an empty tuple")
    n = validation.same_length(**{f"data[{i}]": array for i, array in enumerate(data)})
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of rows ({n}); got {batch_size}")
    params, losses, lrs, epoch_losses = _minibatch_sgd(
        loss_fn, params, tuple(data), key, jnp.float32(lr), jnp.float32(decay), batch_size, num_epochs
    )
    return params, {"loss": losses, "lr": lrs, "epoch_loss": epoch_losses}
