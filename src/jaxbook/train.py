"""The training-loop core: one compiled ``lax.scan`` loop, its batches, its history, its divergence check.

Introduced in Chapter 2 (descent paths on a function of two parameters) and used by every training
loop after it: mini-batch SGD (Chapter 4, ``jaxbook.descent``), the two-layer network and its
many-seeds studies (Chapter 6, ``jaxbook.nn`` and ``jaxbook.studies``), the optax loop (Chapter 7,
``jaxbook.optim``) and the Flax NNX loop (Chapter 8, ``jaxbook.flax_models``). They share:

- :func:`run_steps`, the loop itself: a ``lax.scan`` over steps (inside a ``lax.scan`` over
  epochs when training on mini-batches), to be called inside ``jax.jit``;
- :func:`batch_indices`, the one way to draw mini-batches: each epoch is a fresh permutation of
  the rows, drawn from its own key split from the one given;
- :func:`diverged` and :func:`check_losses`, one rule for a run that has gone wrong (a loss that
  is NaN, infinite, or a millionfold its initial value), traced or eager, with one message;
- :class:`History`, what a loop records, which :func:`history_frame` turns into a DataFrame.

The words mean the same thing in every module: ``params`` is a pytree of arrays (for Flax, the
``model``), ``loss_fn(params, *data)`` a scalar loss of data passed as arguments (never closed
over, so that the compiled loop is reused for new data of the same shape), ``key`` a
``jax.random.key`` for the mini-batches, ``history`` a :class:`History`, and ``optimizer`` a
function from a learning rate to an ``optax.GradientTransformation`` (Chapter 7 on; Flax's
``nnx.Optimizer`` object is called ``nnx_optimizer``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax import Array

from jaxbook import validation

Params = Any  # a pytree of arrays
LossFn = Callable[..., Array]
MetricsFn = Callable[..., dict[str, Array]]
#: ``update(grads, state, params) -> (params, state, records)``: one step's rule, e.g. plain descent.
Update = Callable[[Params, Any, Params], tuple[Params, Any, dict[str, Array]]]
#: ``step(carry, batch) -> (carry, records)``: one training step on a batch (a tuple of arrays).
Step = Callable[[Any, tuple[Array, ...]], tuple[Any, dict[str, Array]]]

#: A loss this many times its initial value counts as diverged.
GROWTH = 1e6


class DivergenceError(ValueError):
    """Raised when the loss becomes NaN, infinite or explodes during training."""


# --- divergence: one rule, traced or eager --------------------------------------------------------


def _divergence_mask(losses: Array, growth: float, xp: Any = jnp) -> Array:
    """``xp`` is ``jax.numpy`` (traced or not) or ``numpy`` (for a finished curve: no compiled programs)."""
    losses = xp.asarray(losses)
    bad = ~xp.isfinite(losses)
    initial = xp.where(xp.isfinite(losses[0]), xp.abs(losses[0]), 1.0)
    exploded = xp.abs(xp.where(bad, 0.0, losses)) > growth * xp.maximum(initial, 1e-12)
    return bad | exploded


def diverged(losses: Array, *, growth: float = GROWTH) -> Array:
    """Whether a loss curve (initial value first) has diverged: a NaN or infinite value, or one
    ``growth`` times the initial one. Works inside ``jit`` and ``vmap`` (a traced boolean), so a
    study over many seeds can record a failure instead of stopping. Chapter 6.

    Example:
      >>> bool(diverged(jnp.array([1.0, 0.5, jnp.nan])))
      True
    """
    return jnp.any(_divergence_mask(losses, growth))


def check_losses(losses: Array, *, lr: float, growth: float = GROWTH) -> None:
    """Raise :class:`DivergenceError` if the loss curve has :func:`diverged`. Chapter 2.

    The message names the step, the value and the learning rate, and suggests a smaller one.

    Example:
      >>> check_losses(jnp.array([1.0, 0.5, 0.25]), lr=0.1)
    """
    losses = np.asarray(losses)
    problem = _divergence_mask(losses, growth, xp=np)
    if problem.any():
        step = int(np.argmax(problem))
        bad = not np.isfinite(losses[step])
        what = f"became {losses[step]}" if bad else f"grew from {losses[0]:.4g} to {losses[step]:.4g}"
        raise DivergenceError(
            f"training diverged: the loss {what} at step {step} with lr={lr:g}. The steps are too "
            f"large for this problem's curvature; try a smaller learning rate, e.g. lr={lr / 10:g}."
        )


# --- mini-batches: one shuffle -------------------------------------------------------------------


def check_batching(data: tuple[Any, ...], batch_size: int, key: Any) -> int:
    """Check the arguments of a mini-batch loop and return the number of rows ``n``. Chapter 4.

    Raises:
      ValueError: naming the argument, if ``key`` is ``None``, ``data`` is empty, its arrays
        have different numbers of rows, or ``batch_size`` is not between 1 and ``n``.
    """
    if key is None:
        raise ValueError("key must be a jax.random.key when batch_size is given; got None")
    if not data:
        raise ValueError("data must hold at least one array to draw mini-batches from (e.g. (X, y)); got ()")
    n = validation.same_length(**{f"data[{i}]": array for i, array in enumerate(data)})
    batch_size = validation.positive_int("batch_size", batch_size)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most the number of rows ({n}); got {batch_size}")
    return n


def batch_indices(key: Array, n: int, batch_size: int, num_steps: int) -> Array:
    """The rows of each mini-batch: shape ``(num_steps, batch_size)``.

    An **epoch** is one pass over the ``n`` rows in a fresh random order: ``n // batch_size``
    batches (the rows left over are skipped that epoch). Epoch ``e`` uses the permutation
    ``jax.random.permutation(keys[e], n)`` with ``keys = jax.random.split(key, num_epochs)``: a new
    order every epoch, never a reused key. Chapter 4; used by every mini-batch loop.

    Example:
      >>> rows = batch_indices(jax.random.key(0), 6, 3, 4)
      >>> rows.shape, sorted(rows[:2].ravel().tolist()) == list(range(6))
      ((4, 3), True)
    """
    n = validation.positive_int("n", n)
    batch_size = validation.positive_int("batch_size", batch_size)
    num_steps = validation.positive_int("num_steps", num_steps)
    if batch_size > n:
        raise ValueError(f"batch_size must be at most n={n}; got {batch_size}")
    return _batch_indices(key, n, batch_size, num_steps)


@partial(jax.jit, static_argnums=(1, 2, 3))
def _batch_indices(key, n, batch_size, num_steps):
    per_epoch = n // batch_size
    num_epochs = -(-num_steps // per_epoch)
    orders = jax.vmap(lambda k: jax.random.permutation(k, n)[: per_epoch * batch_size])(
        jax.random.split(key, num_epochs)
    )
    return orders.reshape(-1, batch_size)[:num_steps]


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Mini-batches in one epoch of :func:`batch_indices`: ``n // batch_size``. Chapter 4."""
    return n // batch_size


# --- the loop -----------------------------------------------------------------------------------


def run_steps(
    step: Step,
    carry: Any,
    data: tuple[Array, ...],
    *,
    num_steps: int,
    indices: Array | None = None,
    per_epoch: int | None = None,
    evaluate: Callable[[Any], Array] | None = None,
) -> tuple[Any, dict[str, Array], Array | None]:
    """Run ``num_steps`` training steps as one ``lax.scan``; call it inside ``jax.jit``.

    Without ``indices`` every step sees all the ``data``. With ``indices`` (from
    :func:`batch_indices`), step ``t`` sees the rows ``indices[t]`` of every array of ``data``, and
    the steps run as a scan over epochs of ``per_epoch`` steps (the last may be shorter).
    ``evaluate(carry)``, if given, is computed after each epoch (after the last step, without
    mini-batches): the loss on all the data, say. Chapter 2.

    Returns:
      ``(carry, records, evaluations)``: each record stacked along a leading axis of length
      ``num_steps``, and the evaluations (one per epoch) or ``None``.

    Example:
      >>> step = lambda t, batch: (t - 0.1 * 2 * t, {"t": t})
      >>> t, records, _ = run_steps(step, jnp.array(2.0), (), num_steps=2)
      >>> records["t"].tolist()
      [2.0, 1.600000023841858]
    """
    if indices is None:
        carry, records = jax.lax.scan(lambda c, _: step(c, data), carry, length=num_steps)
        return carry, records, None if evaluate is None else evaluate(carry)[None]

    def batch_step(c, rows):
        return step(c, tuple(array[rows] for array in data))

    def epoch(c, rows):
        c, records = jax.lax.scan(batch_step, c, rows)
        return c, (records, None if evaluate is None else evaluate(c))

    full = (num_steps // per_epoch) * per_epoch
    parts, evaluations = [], []
    if full:
        carry, (records, values) = jax.lax.scan(epoch, carry, indices[:full].reshape(-1, per_epoch, indices.shape[1]))
        parts.append(jax.tree.map(lambda r: r.reshape(full, *r.shape[2:]), records))
        evaluations.append(values)
    if num_steps > full:
        carry, (records, value) = epoch(carry, indices[full:num_steps])
        parts.append(records)
        evaluations.append(None if value is None else value[None])
    records = jax.tree.map(lambda *r: jnp.concatenate(r), *parts) if len(parts) > 1 else parts[0]
    if evaluate is None:
        return carry, records, None
    return carry, records, jnp.concatenate(evaluations)


def gradient_step(
    loss_fn: LossFn, update: Update, metrics_fn: MetricsFn | None = None, record_params: bool = False
) -> Step:
    """The training step of every loop on a pytree of parameters, for :func:`run_steps`.

    The carry is ``(params, state)``: ``loss, grads = jax.value_and_grad(loss_fn)(params, *batch)``,
    then ``params, state, extra = update(grads, state, params)``. It records the loss (before the
    update), the metrics ``metrics_fn(params, *batch)``, the parameters if asked, and ``extra``.
    Chapter 2 uses ``update = p - lr * g``; Chapter 7 an optax optimiser's update. Chapter 2.

    Example:
      >>> plain = lambda g, s, p: (p - 0.1 * g, s, {})
      >>> (t, _), records = gradient_step(lambda t: jnp.sum(t**2), plain)((jnp.array([2.0]), ()), ())
      >>> t, records["loss"]
      (Array([1.6], dtype=float32), Array(4., dtype=float32))
    """
    value_and_grad = jax.value_and_grad(loss_fn)

    def step(carry, batch):
        params, state = carry
        loss, grads = value_and_grad(params, *batch)
        records = {"loss": loss}
        if metrics_fn is not None:
            records.update(metrics_fn(params, *batch))
        if record_params:
            records["params"] = params
        params, state, extra = update(grads, state, params)
        records.update(extra)
        return (params, state), records

    return step


def run_minibatch_steps(
    loss_fn: LossFn,
    update: Update,
    params: Params,
    state: Any,
    data: tuple[Array, ...],
    *,
    indices: Array,
    num_steps: int,
    per_epoch: int,
    record_params: bool = False,
) -> tuple[Params, dict[str, Array], dict[str, Array]]:
    """Mini-batch training of a pytree of parameters: :func:`gradient_step` inside :func:`run_steps`.

    The loop of mini-batch SGD (Chapter 4) and of the optax optimisers (Chapter 7), which differ
    only in ``update`` and its ``state``; the loss on all of ``data`` is evaluated after each epoch.
    Call it inside ``jax.jit``. Returns ``(params, records, evaluations)`` as :func:`run_steps` does.
    """
    step = gradient_step(loss_fn, update, record_params=record_params)
    (params, _), records, evaluations = run_steps(
        step,
        (params, state),
        data,
        num_steps=num_steps,
        indices=indices,
        per_epoch=per_epoch,
        evaluate=lambda carry: loss_fn(carry[0], *data),
    )
    return params, records, evaluations


# --- the history --------------------------------------------------------------------------------


class History(dict):
    """What a training loop records, by name, as arrays; :func:`history_frame` makes it a DataFrame.

    Every series has one row per step, except those named ``epoch_...``, one per epoch. Row ``t``
    is about the parameters after ``t`` updates: the loss and metrics of a step are recorded before
    its update. Trained on all the data, ``history["loss"]`` has ``num_steps + 1`` rows (the loss
    after the last update last); on mini-batches it holds each step's mini-batch loss
    (``num_steps`` rows) and ``history["epoch_loss"]`` the loss on all the data after each epoch:
    the two are never mixed in one array. ``history["params"]``, if recorded, has ``num_steps + 1``
    rows. Chapter 2.

    Example:
      >>> History({"loss": jnp.array([2.0, 1.0])}, num_steps=1)["loss"].shape
      (2,)
    """

    def __init__(self, series: dict[str, Array], *, num_steps: int, per_epoch: int | None = None):
        super().__init__(series)
        self.num_steps = num_steps
        self.per_epoch = per_epoch


def make_history(
    records: dict[str, Array],
    evaluations: Array,
    params: Params,
    *,
    num_steps: int,
    per_epoch: int | None = None,
) -> History:
    """Build the :class:`History` of a loop from :func:`run_steps`' records and evaluations (the
    loss on all the data) and the final parameters. Chapter 2."""
    series = dict(records)
    if per_epoch is None:  # trained on all the data: the loss after the last update ends the curve
        series["loss"] = jnp.append(series["loss"], evaluations[-1])
    else:
        series["epoch_loss"] = evaluations
    if "params" in series:
        series["params"] = jax.tree.map(lambda h, p: jnp.concatenate([h, p[None]]), series["params"], params)
    return History(series, num_steps=num_steps, per_epoch=per_epoch)


def history_frame(history: History) -> pd.DataFrame:
    """Turn a :class:`History` into a DataFrame indexed by step, in one call. Chapter 4.

    Row ``t`` describes the parameters after ``t`` updates: the last row, after the final update,
    has only the loss on all the data. Epoch series sit at the row of their epoch's last update.
    Recorded parameters and other non-scalar series are left out.

    Example:
      >>> history_frame(History({"loss": jnp.array([2.0, 1.0, 0.5])}, num_steps=2)).shape
      (3, 1)
    """
    if not isinstance(history, History):
        raise ValueError(f"history must be a jaxbook.train.History from a training loop; got {type(history).__name__}")
    columns = {}
    for name in sorted(history, key=lambda name: name != "loss"):  # the loss first
        values = np.asarray(history[name])
        if name == "params" or values.ndim != 1:
            continue
        if name.startswith("epoch_") and history.per_epoch is not None:
            rows = np.minimum((np.arange(len(values)) + 1) * history.per_epoch, history.num_steps)
        else:
            rows = np.arange(len(values))
        columns[name] = pd.Series(values, index=pd.Index(rows, name="step"))
    return pd.DataFrame(columns).reindex(pd.RangeIndex(history.num_steps + 1, name="step"))


# --- plain gradient descent ----------------------------------------------------------------------


@partial(jax.jit, static_argnames=("loss_fn", "num_steps", "metrics_fn", "record_params"))
def _descend(loss_fn, params, data, lr, num_steps, metrics_fn, record_params):
    def update(grads, state, params):
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), state, {}

    step = gradient_step(loss_fn, update, metrics_fn, record_params)
    (params, _), records, evaluations = run_steps(
        step, (params, ()), data, num_steps=num_steps, evaluate=lambda carry: loss_fn(carry[0], *data)
    )
    return params, records, evaluations


def gradient_descent(
    loss_fn: LossFn,
    params: Params,
    *,
    lr: float,
    num_steps: int,
    data: tuple[Array, ...] = (),
    metrics_fn: MetricsFn | None = None,
    record_params: bool = False,
    check_divergence: bool = True,
) -> tuple[Params, History]:
    """Run ``num_steps`` steps of ``params <- params - lr * grad(loss_fn)(params, *data)``.

    The whole loop is one ``jax.lax.scan`` inside ``jax.jit`` (:func:`run_steps`): compiled once
    per loss function and shape, then a single call. Chapter 2.

    Args:
      loss_fn: ``loss_fn(params, *data) -> scalar``; pass the same function object each time
        (it is a static argument of ``jit``, so a new lambda recompiles).
      params: initial parameters, any pytree of float arrays.
      lr: learning rate, > 0.
      num_steps: number of updates, >= 1.
      data: extra arguments of ``loss_fn`` (e.g. ``(X, y)``).
      metrics_fn: optional ``metrics_fn(params, *data) -> dict`` of scalars recorded each step
        (accuracy, false positives, ...).
      record_params: also record the parameters at each step (for drawing descent paths).
      check_divergence: raise :class:`DivergenceError` if the loss has :func:`diverged`.
        Chapter 2 turns it off to draw a diverging path.

    Returns:
      ``(params, history)``: the final parameters and a :class:`History` with ``history["loss"]``
      of shape ``(num_steps + 1,)`` (the initial loss first, the final last), each metric of
      shape ``(num_steps,)`` and, if recorded, ``history["params"]`` with a leading axis of
      ``num_steps + 1``.

    Raises:
      ValueError: for a non-positive ``lr`` or ``num_steps``.
      DivergenceError: if the loss diverges and ``check_divergence`` is set.

    Example:
      >>> f = lambda t: jnp.sum(t**2)
      >>> t, history = gradient_descent(f, jnp.array([2.0, 1.0]), lr=0.1, num_steps=1)
      >>> t
      Array([1.6, 0.8], dtype=float32)
    """
    lr = validation.positive("lr", lr)
    num_steps = validation.positive_int("num_steps", num_steps)
    params, records, evaluations = _descend(
        loss_fn, params, tuple(data), jnp.float32(lr), num_steps, metrics_fn, record_params
    )
    history = make_history(records, evaluations, params, num_steps=num_steps)
    if check_divergence:
        check_losses(history["loss"], lr=lr)
    return params, history
