"""Training with optax: one ``lax.scan`` loop around ``tx.update`` and ``optax.apply_updates``,
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

from jaxbook import nn, train, validation

Params = Any  # a pytree of arrays
OptimizerFactory = Callable[[Any], optax.GradientTransformation]


@partial(jax.jit, static_argnames=("loss_fn", "optimizer", "num_steps", "batch_size", "record_params"))
def _optax_loop(loss_fn, params, optimizer, lr, data, order, num_steps, batch_size, record_params):
    tx = optimizer(lr)
    value_and_grad = jax.value_and_grad(loss_fn)
    if order is not None:
        # shuffle the data once, then take consecutive slices: far cheaper than a gather per step.
        # The first batch_size points are appended so that a batch may wrap around the end.
        n = order.shape[0]
        cycle = jnp.concatenate([order, order[:batch_size]])
        shuffled = tuple(a[cycle] for a in data)

    def step(carry, t):
        params, opt_state = carry
        if order is None:
            batch = data
        else:
            start = (t * batch_size) % n
            batch = tuple(jax.lax.dynamic_slice_in_dim(a, start, batch_size) for a in shuffled)
        loss, grads = value_and_grad(params, *batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        record = {"loss": loss, "params": params} if record_params else {"loss": loss}
        return (optax.apply_updates(params, updates), opt_state), record

    (params, _), history = jax.lax.scan(step, (params, tx.init(params)), jnp.arange(num_steps))
    return params, history, loss_fn(params, *data)


def shuffled_order(key: Array, n: int) -> Array:
    """A random permutation of ``range(n)``: the order in which mini-batches visit the data.

    Mini-batch ``t`` of size ``B`` is ``order[t B : (t + 1) B]``, cycling through the shuffled
    data (a batch may wrap around the end): every point is used once per pass. Chapter 7.

    Example:
      >>> shuffled_order(jax.random.key(0), 5).shape
      (5,)
    """
    n = validation.positive_int("n", n)
    return _shuffled_order(key, n)


@partial(jax.jit, static_argnums=1)
def _shuffled_order(key, n):
    # sorting random 32-bit integers is a uniform random permutation (ties, rare, keep their order)
    # and compiles faster than jax.random.permutation
    return jnp.argsort(jax.random.bits(key, (n,)))


def fit(
    loss_fn: Callable[..., Array],
    params: Params,
    optimizer: OptimizerFactory,
    *,
    lr: float,
    num_steps: int,
    data: tuple[Array, ...] = (),
    batch_size: int | None = None,
    key: Array | None = None,
    record_params: bool = False,
    check_divergence: bool = True,
) -> tuple[Params, dict[str, Array]]:
    """Minimise ``loss_fn(params, *data)`` with an optax optimiser, as one compiled ``lax.scan``.

    Each step computes ``loss, grads = value_and_grad(loss_fn)(params, *batch)``, then
    ``updates, opt_state = tx.update(grads, opt_state, params)`` and
    ``params = optax.apply_updates(params, updates)``, with ``tx = optimizer(lr)``. Chapter 7.

    Args:
      loss_fn: ``loss_fn(params, *data) -> scalar``; pass the same function object each time
        (it is a static argument of ``jit``).
      params: initial parameters, any pytree.
      optimizer: a function from the learning rate to an ``optax.GradientTransformation``,
        e.g. ``optax.adam``; the same object each time, to reuse the compiled loop.
      lr: learning rate, > 0 (the peak value if the factory builds a schedule from it).
      num_steps: number of updates.
      data: arrays whose first axis indexes examples (e.g. ``(X, y)``).
      batch_size: if given, each step uses a mini-batch of this many examples, consecutive slices
        of the data shuffled once with ``key`` (see :func:`shuffled_order`); if ``None``, every
        step uses all the data.
      key: a ``jax.random.key`` for the mini-batches (required with ``batch_size``).
      record_params: also record the parameters before each step (for drawing paths).
      check_divergence: raise ``jaxbook.train.DivergenceError`` if the loss becomes NaN or
        infinite, or grows a millionfold; the message suggests a smaller learning rate.

    Returns:
      ``(final_params, history)`` with ``history["loss"]`` of shape ``(num_steps + 1,)``: the
      (mini-batch) loss before each step, then the full-data loss after the last one; and, if
      recorded, ``history["params"]`` with a leading axis of ``num_steps + 1``.

    Example:
      >>> f = lambda t: jnp.sum(t**2)
      >>> t, history = fit(f, jnp.array([2.0, 1.0]), optax.sgd, lr=0.1, num_steps=1)
      >>> t
      Array([1.6, 0.8], dtype=float32)
    """
    lr = validation.positive("lr", lr)
    num_steps = validation.positive_int("num_steps", num_steps)
    data = tuple(data)
    order = None
    if batch_size is not None:
        if key is None:
            raise ValueError("key must be a jax.random.key when batch_size is given; got None")
        if not data:
            raise ValueError("batch_size needs data to draw mini-batches from; got data=()")
        n = validation.same_length(**{f"data[{i}]": a for i, a in enumerate(data)})
        batch_size = validation.positive_int("batch_size", batch_size)
        if batch_size > n:
            raise ValueError(f"batch_size must be at most the number of examples ({n}); got {batch_size}")
        order = shuffled_order(key, n)
    final_params, history, final_loss = _optax_loop(
        loss_fn, params, optimizer, jnp.float32(lr), data, order, num_steps, batch_size, record_params
    )
    history = dict(history)
    history["loss"] = jnp.append(history["loss"], final_loss)
    if record_params:
        history["params"] = jax.tree.map(lambda h, p: jnp.concatenate([h, p[None]]), history["params"], final_params)
    if check_divergence:
        train.check_losses(history["loss"], lr=lr)
    return final_params, history


def recommended(lr: Any) -> optax.GradientTransformation:
    """Chapter 7's recommended optimiser for the hill network (3000 steps): clip the gradient to
    global norm 1, then Adam with a learning rate that stays at ``lr`` for 2000 steps and decays to
    zero along a cosine over the last 1000. Reused by Chapter 8.

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
    diverged: Array  # bool: the final loss is NaN or infinite, or a million times the initial one


@partial(jax.jit, static_argnames=("loss_fn", "optimizer", "num_steps", "batch_size"))
def _hill_study(loss_fn, optimizer, lrs, params, order, X, y, X_val, y_val, num_steps, batch_size):
    def one_run(lr, params):
        final, _, final_loss = _optax_loop(loss_fn, params, optimizer, lr, (X, y), order, num_steps, batch_size, False)
        # the same rule as jaxbook.train.check_losses: NaN, infinite, or a millionfold growth
        diverged = ~jnp.isfinite(final_loss) | (final_loss > 1e6 * loss_fn(params, X, y))
        return nn.accuracy(final, X_val, y_val), final_loss, diverged

    over_seeds = jax.vmap(one_run, in_axes=(None, 0))
    if lrs.shape[0] == 1:  # a vmap over a single learning rate compiled to a loop ~4x slower on CPU (measured)
        return jax.tree.map(lambda a: a[None], over_seeds(lrs[0], params))
    return jax.vmap(over_seeds, in_axes=(0, None))(lrs, params)


@partial(jax.jit, static_argnames=("width",))
def _init_many(keys, init_scale, width):
    return jax.vmap(lambda key: nn._init_traced(key, width, init_scale))(keys)


class StudyInputs(NamedTuple):
    """What :func:`hill_study` needs: each seed's initial parameters and the shared data order."""

    params: Params  # a batch of parameter pytrees, leading axis num_seeds
    order: Array  # (n,): the shuffled order of the training points, the same for every seed
    num_steps: int
    batch_size: int


def study_inputs(
    keys: Array,
    order_key: Array,
    n: int,
    *,
    num_steps: int,
    batch_size: int,
    width: int = 2,
    init_scale: float = 1.0,
) -> StudyInputs:
    """Initial parameters for each seed of a :func:`hill_study`, and one shuffled data order.

    Each key draws one network exactly as ``jaxbook.nn.init_params(key, width=width,
    init_scale=init_scale)``. Every seed and every optimiser then sees the same mini-batches, from
    one order of the ``n`` training points drawn with ``order_key``: the seeds differ only in their
    starting point, and optimisers are compared on equal terms. (Sharing the order also keeps each
    step a cheap slice of the data rather than a gather per seed.) Chapter 7.

    Example:
      >>> inputs = study_inputs(jax.random.split(jax.random.key(0), 3), jax.random.key(1), 100, num_steps=10, batch_size=20)
      >>> inputs.params["W1"].shape, inputs.order.shape
      ((3, 2, 2), (100,))
    """
    if np.ndim(keys) != 1:
        raise ValueError(f"keys must be a 1-D batch of keys, e.g. jax.random.split(key, 20); got shape {np.shape(keys)}")
    n = validation.positive_int("n", n)
    batch_size = validation.positive_int("batch_size", batch_size)
    num_steps = validation.positive_int("num_steps", num_steps)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of points n={n}; got {batch_size}")
    init_scale = validation.positive("init_scale", init_scale)
    width = validation.positive_int("width", width)
    params = _init_many(keys, jnp.float32(init_scale), width)
    return StudyInputs(params, shuffled_order(order_key, n), num_steps, batch_size)


def select_seeds(inputs: StudyInputs, num_seeds: int) -> StudyInputs:
    """The first ``num_seeds`` seeds of a :class:`StudyInputs`. Chapter 7."""
    num_seeds = validation.positive_int("num_seeds", num_seeds)
    return inputs._replace(params=jax.tree.map(lambda a: a[:num_seeds], inputs.params))


def hill_study(
    optimizer: OptimizerFactory,
    lrs: Any,
    inputs: tuple[Params, Array],
    data: nn.HillData,
    *,
    loss_fn: Callable[..., Array] = nn.loss,
) -> Study:
    """Train the hill network once per learning rate and seed, all in one compiled call.

    ``jax.vmap`` runs the optax loop of :func:`fit` over the seeds (their initial parameters and
    mini-batches come from :func:`study_inputs`) and over the learning rates. A run that diverges
    is not an error here: it is recorded in ``diverged`` and counts as a failure. Chapter 7.

    Args:
      optimizer: a learning-rate-to-optimiser factory, e.g. ``optax.adam``.
      lrs: learning rates, shape ``(num_lrs,)``.
      inputs: a :class:`StudyInputs` from :func:`study_inputs` (seeds, steps and batch size).
      data: a ``jaxbook.nn.HillData``.
      loss_fn: the training loss, ``loss_fn(params, X, y)``.

    Returns:
      A :class:`Study` of arrays of shape ``(num_lrs, num_seeds)``.

    Example:
      >>> data = nn.hill_data(jax.random.key(0), n_train=100, n_val=20)
      >>> inputs = study_inputs(jax.random.split(jax.random.key(1), 3), jax.random.key(2), 100, num_steps=5, batch_size=10)
      >>> hill_study(optax.adam, [0.01, 0.1], inputs, data).val_accuracy.shape
      (2, 3)
    """
    lrs = validation.as_float_array("lrs", lrs, ndim=1)
    if np.any(lrs <= 0):
        raise ValueError(f"lrs must all be positive; got {lrs.tolist()}")
    if not isinstance(inputs, StudyInputs):
        raise ValueError(f"inputs must be a StudyInputs from optim.study_inputs; got {type(inputs).__name__}")
    if inputs.order.shape[0] != data.X_train.shape[0]:
        raise ValueError(f"inputs were drawn for n={inputs.order.shape[0]} points but data has {data.X_train.shape[0]} training points")
    accuracy, final_loss, diverged = _hill_study(
        loss_fn, optimizer, jnp.asarray(lrs, dtype=jnp.float32), inputs.params, inputs.order,
        data.X_train, data.y_train, data.X_val, data.y_val, inputs.num_steps, inputs.batch_size,
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
