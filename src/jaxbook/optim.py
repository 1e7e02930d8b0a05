"""Training with optax (``tx.update``, then ``optax.apply_updates``) on the loop of ``jaxbook.train``,
success-rate studies over seeds and learning rates, and L-BFGS to convergence.

Introduced in Chapter 7. An optimiser is passed as a *factory*, a function from a learning rate to
an ``optax.GradientTransformation`` (``optax.adam`` itself is one, and so is
``lambda lr: optax.chain(optax.clip_by_global_norm(1.0), optax.adam(lr))``). The learning rate
stays an argument, so that one compiled loop serves every learning rate, and a study can
``vmap`` over learning rates as well as seeds.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array

from jaxbook import hill, nn, train, validation

Params = Any  # a pytree of arrays
#: ``optimizer(lr)`` is an ``optax.GradientTransformation``: ``optax.adam`` is one.
Optimizer = Callable[[Any], optax.GradientTransformation]


def _optax_update(tx: optax.GradientTransformation) -> train.Update:
    # the update rule of an optax optimiser, for train.gradient_step
    def update(grads, state, params):
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, {}

    return update


@partial(jax.jit, static_argnames=("loss_fn", "optimizer", "num_steps", "per_epoch", "record_params"))
def _fit(loss_fn, params, optimizer, lr, data, indices, num_steps, per_epoch, record_params):
    tx = optimizer(lr)
    params, records, evaluations = train.run_minibatch_steps(
        loss_fn,
        _optax_update(tx),
        params,
        tx.init(params),
        data,
        indices=indices,
        num_steps=num_steps,
        per_epoch=per_epoch,
        record_params=record_params,
    )
    # the curve fit checks for divergence: each step's loss, then the final loss on all the data.
    # Computed here, in the compiled loop, so that a run that did not diverge needs no eager check.
    diverged = train.diverged(jnp.concatenate([records["loss"], evaluations[-1:]]))
    return params, records, evaluations, diverged


def fit(
    loss_fn: Callable[..., Array],
    params: Params,
    optimizer: Optimizer,
    *,
    lr: float,
    num_steps: int,
    data: tuple[Array, ...] = (),
    batch_size: int | None = None,
    key: Array | None = None,
    record_params: bool = False,
    check_divergence: bool = True,
) -> tuple[Params, train.History]:
    """Minimise ``loss_fn(params, *data)`` with an optax optimiser, as one compiled ``lax.scan``.

    Each step computes ``loss, grads = value_and_grad(loss_fn)(params, *batch)``, then
    ``updates, opt_state = tx.update(grads, opt_state, params)`` and
    ``params = optax.apply_updates(params, updates)``, with ``tx = optimizer(lr)``. The loop is the
    core of ``jaxbook.train`` (``run_steps``, ``gradient_step``). Chapter 7.

    Args:
      loss_fn: ``loss_fn(params, *data) -> scalar``; pass the same function object each time
        (it is a static argument of ``jit``).
      params: initial parameters, any pytree.
      optimizer: a function from the learning rate to an ``optax.GradientTransformation``,
        e.g. ``optax.adam``; the same object each time, to reuse the compiled loop.
      lr: learning rate, > 0 (the peak value if the factory builds a schedule from it).
      num_steps: number of updates.
      data: arrays whose first axis indexes examples (e.g. ``(X, y)``).
      batch_size: if given, each step uses a mini-batch of this many examples, the data shuffled
        afresh every epoch with ``key`` (``jaxbook.train.batch_indices``); if ``None``, every
        step uses all the data.
      key: a ``jax.random.key`` for the mini-batches (required with ``batch_size``).
      record_params: also record the parameters before each step (for drawing paths).
      check_divergence: raise ``jaxbook.train.DivergenceError`` if the loss becomes NaN or
        infinite, or grows a millionfold; the message suggests a smaller learning rate.

    Returns:
      ``(params, history)``, a ``jaxbook.train.History``. On all the data, ``history["loss"]`` has
      shape ``(num_steps + 1,)``, the loss before each step and after the last one. On
      mini-batches, ``history["loss"]`` is each step's mini-batch loss ``(num_steps,)`` and
      ``history["epoch_loss"]`` the loss on all the data after each epoch (the last after the
      final step). ``history["params"]``, if recorded, has a leading axis of ``num_steps + 1``.

    Example:
      >>> f = lambda t: jnp.sum(t**2)
      >>> t, history = fit(f, jnp.array([2.0, 1.0]), optax.sgd, lr=0.1, num_steps=1)
      >>> t
      Array([1.6, 0.8], dtype=float32)
    """
    lr = validation.positive("lr", lr)
    num_steps = validation.positive_int("num_steps", num_steps)
    data = tuple(data)
    indices = per_epoch = None
    if batch_size is not None:
        n = train.check_batching(data, batch_size, key)
        per_epoch = train.steps_per_epoch(n, batch_size)
        indices = train.batch_indices(key, n, batch_size, num_steps)
    params, records, evaluations, diverged = _fit(
        loss_fn, params, optimizer, jnp.float32(lr), data, indices, num_steps, per_epoch, record_params
    )
    history = train.make_history(records, evaluations, params, num_steps=num_steps, per_epoch=per_epoch)
    if check_divergence and bool(diverged):  # the same rule as check_losses, which names the step
        curve = history["loss"] if batch_size is None else jnp.append(history["loss"], history["epoch_loss"][-1])
        train.check_losses(curve, lr=lr)  # on mini-batches: each step's loss, then the final full-data loss
    return params, history


def recommended(lr: Any) -> optax.GradientTransformation:
    """The clipped, scheduled Adam of Chapter 7, for 3000 steps: clip the gradient to global norm 1,
    then Adam with a learning rate that stays at ``lr`` for 2000 steps and decays to zero along a
    cosine over the last 1000. "Recommended" for its guards (against a rare huge gradient, and for
    settling at the end), chosen before Chapter 7 measured the optimisers: it is not the winner of
    that comparison (RMSprop at 0.1 was more accurate on the hill), but at a peak of 0.05 it never
    failed there, which is why Chapter 8 reuses it.

    Example:
      >>> tx = recommended(0.05)
      >>> state = tx.init(jnp.zeros(2))
    """
    schedule = optax.join_schedules(
        [optax.constant_schedule(lr), optax.cosine_decay_schedule(lr, decay_steps=1000)], boundaries=[2000]
    )
    return optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))


class Study(NamedTuple):
    """Results of :func:`hill_study`, each of shape ``(num_lrs, num_seeds)``."""

    val_accuracy: Array
    train_loss: Array  # full training loss at the end
    diverged: Array  # bool: jaxbook.train.diverged of the initial and final full training loss


@partial(jax.jit, static_argnames=("loss_fn", "optimizer", "num_steps", "per_epoch"))
def _hill_study(loss_fn, optimizer, lrs, params, indices, X, y, X_val, y_val, num_steps, per_epoch):
    def one_run(lr, params):
        tx = optimizer(lr)
        step = train.gradient_step(loss_fn, _optax_update(tx))
        (final, _), _, _ = train.run_steps(
            step, (params, tx.init(params)), (X, y), num_steps=num_steps, indices=indices, per_epoch=per_epoch
        )
        final_loss = loss_fn(final, X, y)
        diverged = train.diverged(jnp.stack([loss_fn(params, X, y), final_loss]))
        return nn.accuracy(final, X_val, y_val), final_loss, diverged

    over_seeds = jax.vmap(one_run, in_axes=(None, 0))
    if lrs.shape[0] == 1:  # a vmap over a single learning rate compiled to a loop ~4x slower on CPU (measured)
        return jax.tree.map(lambda a: a[None], over_seeds(lrs[0], params))
    return jax.vmap(over_seeds, in_axes=(0, None))(lrs, params)


class StudyInputs(NamedTuple):
    """What :func:`hill_study` needs: each seed's initial parameters and the shared mini-batches."""

    params: Params  # a batch of parameter pytrees, leading axis num_seeds
    indices: Array  # (num_steps, batch_size): the rows of each step's mini-batch, the same for every seed
    per_epoch: int  # steps per epoch


def study_inputs(
    keys: Array,
    batch_key: Array,
    n: int,
    *,
    num_steps: int,
    batch_size: int,
    width: int = 2,
    init_scale: float = 1.0,
) -> StudyInputs:
    """Initial parameters for each seed of a :func:`hill_study`, and one sequence of mini-batches.

    Each key draws one network exactly as ``jaxbook.nn.init_params(key, width=width,
    init_scale=init_scale)``. Every seed and every optimiser then sees the same mini-batches of the
    ``n`` training points, drawn with ``batch_key`` by ``jaxbook.train.batch_indices`` (a fresh
    order every epoch): the seeds differ only in their starting point, and optimisers are compared
    on equal terms. Chapter 7.

    Example:
      >>> keys = jax.random.split(jax.random.key(0), 3)
      >>> inputs = study_inputs(keys, jax.random.key(1), 100, num_steps=10, batch_size=20)
      >>> inputs.params["W1"].shape, inputs.indices.shape
      ((3, 2, 2), (10, 20))
    """
    n = validation.positive_int("n", n)
    num_steps = validation.positive_int("num_steps", num_steps)
    params = nn.init_batch(keys, width=width, init_scale=init_scale)
    indices = train.batch_indices(batch_key, n, batch_size, num_steps)
    return StudyInputs(params, indices, train.steps_per_epoch(n, batch_size))


def select_seeds(inputs: StudyInputs, num_seeds: int) -> StudyInputs:
    """The first ``num_seeds`` seeds of a :class:`StudyInputs`. Chapter 7."""
    num_seeds = validation.positive_int("num_seeds", num_seeds)
    return inputs._replace(params=jax.tree.map(lambda a: a[:num_seeds], inputs.params))


def hill_study(
    optimizer: Optimizer,
    lrs: Any,
    inputs: StudyInputs,
    data: hill.HillData,
    *,
    loss_fn: Callable[..., Array] = nn.loss,
) -> Study:
    """Train the hill network once per learning rate and seed, all in one compiled call.

    ``jax.vmap`` runs the loop of :func:`fit` over the seeds (their initial parameters and
    mini-batches come from :func:`study_inputs`) and over the learning rates. A run that diverges
    is not an error here: it is recorded in ``diverged`` and counts as a failure. Chapter 7.

    Args:
      optimizer: a learning-rate-to-optimiser factory, e.g. ``optax.adam``.
      lrs: learning rates, shape ``(num_lrs,)``.
      inputs: a :class:`StudyInputs` from :func:`study_inputs` (seeds, steps and batches).
      data: a ``jaxbook.hill.HillData``.
      loss_fn: the training loss, ``loss_fn(params, X, y)``.

    Returns:
      A :class:`Study` of arrays of shape ``(num_lrs, num_seeds)``.

    Example:
      >>> data = hill.hill_data(jax.random.key(0), n_train=100, n_val=20)
      >>> keys = jax.random.split(jax.random.key(1), 3)
      >>> inputs = study_inputs(keys, jax.random.key(2), 100, num_steps=5, batch_size=10)
      >>> hill_study(optax.adam, [0.01, 0.1], inputs, data).val_accuracy.shape
      (2, 3)
    """
    lrs = validation.as_float_array("lrs", lrs, ndim=1)
    if np.any(lrs <= 0):
        raise ValueError(f"lrs must all be positive; got {lrs.tolist()}")
    if not isinstance(inputs, StudyInputs):
        raise ValueError(f"inputs must be a StudyInputs from optim.study_inputs; got {type(inputs).__name__}")
    n = data.X_train.shape[0]
    if int(jnp.max(inputs.indices)) >= n:
        raise ValueError(f"inputs were drawn for more points than data's {n} training points")
    accuracy, final_loss, diverged = _hill_study(
        loss_fn,
        optimizer,
        jnp.asarray(lrs, dtype=jnp.float32),
        inputs.params,
        inputs.indices,
        data.X_train,
        data.y_train,
        data.X_val,
        data.y_val,
        inputs.indices.shape[0],
        inputs.per_epoch,
    )
    return Study(accuracy, final_loss, diverged)


def lbfgs(
    loss_fn: Callable[..., Array],
    params: Params,
    *,
    data: tuple[Array, ...] = (),
    max_steps: int = 100,
    tol: float = 1e-6,
) -> tuple[Params, dict[str, Array]]:
    """Minimise a smooth deterministic loss with ``optax.lbfgs`` (zoom line search) until the
    gradient norm falls below ``tol`` or ``max_steps`` iterations, in one ``lax.while_loop``.

    Uses ``optax.value_and_grad_from_state`` to reuse the value and gradient the line search
    already computed. Chapter 7.

    Returns:
      ``(params, info)`` with ``info["num_steps"]``, ``info["loss"]`` and ``info["grad_norm"]``.

    Example:
      >>> t, info = lbfgs(lambda t: jnp.sum((t - 3.0) ** 2), jnp.zeros(2))
      >>> [round(float(v), 4) for v in t]
      [3.0, 3.0]
    """
    max_steps = validation.positive_int("max_steps", max_steps)
    tol = validation.positive("tol", tol)
    return _lbfgs(loss_fn, params, tuple(data), max_steps, jnp.float32(tol))


@partial(jax.jit, static_argnames=("loss_fn", "max_steps"))
def _lbfgs(loss_fn, params, data, max_steps, tol):
    def objective(p):
        return loss_fn(p, *data)

    solver = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(objective)

    def step(carry):
        params, state, _ = carry
        value, grad = value_and_grad(params, state=state)
        updates, state = solver.update(grad, state, params, value=value, grad=grad, value_fn=objective)
        params = optax.apply_updates(params, updates)
        return params, state, optax.tree.norm(optax.tree.get(state, "grad"))

    def keep_going(carry):
        _, state, grad_norm = carry
        count = optax.tree.get(state, "count")
        return (count == 0) | ((count < max_steps) & (grad_norm >= tol))

    init = (params, solver.init(params), jnp.array(jnp.inf, dtype=jnp.float32))
    params, state, grad_norm = jax.lax.while_loop(keep_going, step, init)
    return params, {"num_steps": optax.tree.get(state, "count"), "loss": objective(params), "grad_norm": grad_norm}
