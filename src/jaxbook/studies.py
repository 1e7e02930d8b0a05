"""Studies over many seeds: one network per key, all trained at once with ``jax.vmap``.

Introduced in Chapter 6, where the share of seeds that reach 97 % validation accuracy measures how
reliably plain gradient descent trains the hill network (Chapter 7's optax studies are
``jaxbook.optim.hill_study``). The loop of each seed is the training-loop core of
``jaxbook.train``, mapped over the seeds' initial parameters: one compiled call trains them all.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from jaxbook import hill, nn, train, validation
from jaxbook.nn import Params


class SeedStudy(NamedTuple):
    """Results of :func:`fit_seeds`, one entry per seed along the leading axis."""

    params: Params
    loss_curves: Array  # (num_seeds, num_steps // record_every + 1)
    train_accuracy: Array  # (num_seeds,)
    val_accuracy: Array  # (num_seeds,)
    diverged: Array  # (num_seeds,) bool: jaxbook.train.diverged of the seed's loss curve


@partial(jax.jit, static_argnames=("num_steps", "record_every"))
def _fit_seeds(params, X, y, X_val, y_val, lr, num_steps, record_every):
    def update(grads, state, params):
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), state, {}

    step = train.gradient_step(nn.loss, update)

    def one_seed(params):
        (params, _), records, final = train.run_steps(
            step, (params, ()), (X, y), num_steps=num_steps, evaluate=lambda carry: nn.loss(carry[0], X, y)
        )
        curve = jnp.concatenate([records["loss"], final])
        return (
            params,
            jnp.append(records["loss"][::record_every], final[-1]),
            nn.accuracy(params, X, y),
            nn.accuracy(params, X_val, y_val),
            train.diverged(curve),
        )

    return jax.vmap(one_seed)(params)


def fit_seeds(
    keys: Array,
    data: hill.HillData,
    *,
    lr: float,
    num_steps: int,
    width: int = 2,
    init_scale: float = 1.0,
    record_every: int = 100,
) -> SeedStudy:
    """Train one network per key by plain gradient descent, all at once with ``jax.vmap``.

    Each key initialises its own network with ``jaxbook.nn.init_params`` (same ``width`` and
    ``init_scale``); every network then takes ``num_steps`` full-batch steps on the same data.
    A seed whose loss diverges is not an error: it is recorded in ``diverged``. Chapter 6.

    Args:
      keys: a batch of keys, e.g. ``jax.random.split(jax.random.key(0), 20)``, shape ``(num_seeds,)``.
      data: a ``jaxbook.hill.HillData``.
      lr: learning rate, > 0.
      num_steps: steps per network, a multiple of ``record_every``.
      width, init_scale: as in ``jaxbook.nn.init_params``.
      record_every: the loss curve keeps one value every this many steps.

    Returns:
      A :class:`SeedStudy` with final parameters, loss curves, training and validation accuracy,
      and which seeds diverged.

    Example:
      >>> data = hill.hill_data(jax.random.key(0), n_train=200, n_val=50)
      >>> study = fit_seeds(jax.random.split(jax.random.key(1), 3), data, lr=1.0, num_steps=20, record_every=10)
      >>> study.val_accuracy.shape, study.loss_curves.shape
      ((3,), (3, 3))
    """
    lr = validation.positive("lr", lr)
    num_steps = validation.positive_int("num_steps", num_steps)
    record_every = validation.positive_int("record_every", record_every)
    if num_steps % record_every:
        raise ValueError(f"num_steps must be a multiple of record_every={record_every}; got {num_steps}")
    nn.check_inputs(data.X_train)
    nn.check_inputs(data.X_val)
    params = nn.init_batch(keys, width=width, init_scale=init_scale)
    return SeedStudy(
        *_fit_seeds(
            params,
            data.X_train,
            data.y_train,
            data.X_val,
            data.y_val,
            jnp.float32(lr),
            num_steps,
            record_every,
        )
    )


def unstack(params: Params, index: int) -> Params:
    """The ``index``-th network of a batch of parameters (as returned by :func:`fit_seeds`). Chapter 6.

    Example:
      >>> unstack({"b2": jnp.array([1.0, 2.0])}, 1)["b2"]
      Array(2., dtype=float32)
    """
    num_seeds = jax.tree.leaves(params)[0].shape[0]
    if not -num_seeds <= index < num_seeds:
        raise IndexError(f"index {index} is out of range for a batch of {num_seeds} networks")
    return _unstack(params, index)


@jax.jit
def _unstack(params, index):
    # one compiled program for every index (a traced index), in place of one slice per leaf
    return jax.tree.map(lambda p: p[index], params)
