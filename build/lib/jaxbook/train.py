"""Gradient descent as one compiled ``lax.scan``, with a per-step history and divergence checks.

Introduced in Chapter 2 (descent paths on a function of two parameters) and used for every
training loop after it (Chapters 4 to 6). The loss is a function ``loss_fn(params, *data)`` of a
pytree of parameters (an array, a tuple, a dict) and of data passed as arguments, never closed
over, so that the compiled step is reused for new data of the same shape.
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


class DivergenceError(ValueError):
    """Raised when the loss becomes NaN, infinite or explodes during training."""


@partial(jax.jit, static_argnames=("loss_fn", "num_steps", "metrics_fn", "record_params"))
def _descend(loss_fn, params, data, lr, num_steps, metrics_fn, record_params):
    value_and_grad = jax.value_and_grad(loss_fn)

    def step(params, _):
        loss, grads = value_and_grad(params, *data)
        record = {"loss": loss}
        if metrics_fn is not None:
            record.update(metrics_fn(params, *data))
        if record_params:
            record["params"] = params
        new_params = jax.tree.map(lambda p, g: p - lr * g, params, grads)
        return new_params, record

    final_params, history = jax.lax.scan(step, params, length=num_steps)
    final_loss = loss_fn(final_params, *data)
    return final_params, history, final_loss


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
) -> tuple[Params, dict[str, Array]]:
    """Run ``num_steps`` steps of ``params <- params - lr * grad(loss_fn)(params, *data)``.

    The whole loop is one ``jax.lax.scan`` inside ``jax.jit``: compiled once per loss function and
    shape, then a single call. The history has one entry per step, recorded *before* that step's
    update, plus the loss after the last update.

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
      check_divergence: raise :class:`DivergenceError` if the loss becomes NaN or infinite or grows
        beyond 1e6 times its initial value. Chapter 2 turns it off to draw a diverging path.

    Returns:
      ``(final_params, history)``: ``history["loss"]`` has shape ``(num_steps + 1,)`` (the initial
      loss first, the final last); each metric has shape ``(num_steps,)``; ``history["params"]``,
      if recorded, has a leading axis of ``num_steps + 1``.

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
    final_params, history, final_loss = _descend(
        loss_fn, params, tuple(data), jnp.float32(lr), num_steps, metrics_fn, record_params
    )
    history = dict(history)
    history["loss"] = jnp.append(history["loss"], final_loss)
    if record_params:
        history["params"] = jax.tree.map(lambda h, p: jnp.concatenate([h, p[None]]), history["params"], final_params)
    if check_divergence:
        check_losses(history["loss"], lr=lr)
    return final_params, history


def check_losses(losses: Array, *, lr: float, growth: float = 1e6) -> None:
    """Raise :class:`DivergenceError` if a loss curve has NaN/inf or grew ``growth``-fold.

    The message names the step, the value and the learning rate, and suggests a smaller one.

    Example:
      >>> check_losses(jnp.array([1.0, 0.5, 0.25]), lr=0.1)
    """
    losses = np.asarray(losses)
    bad = ~np.isfinite(losses)
    initial = abs(float(losses[0])) if np.isfinite(losses[0]) else 1.0
    exploded = np.abs(np.where(bad, 0.0, losses)) > growth * max(initial, 1e-12)
    problem = bad | exploded
    if problem.any():
        step = int(np.argmax(problem))
        what = f"became {losses[step]}" if bad[step] else f"grew from {losses[0]:.4g} to {losses[step]:.4g}"
        raise DivergenceError(
            f"training diverged: the loss {what} at step {step} with lr={lr:g}. The steps are too "
            f"large for this problem's curvature; try a smaller learning rate, e.g. lr={lr / 10:g}."
        )


def history_frame(history: dict[str, Array]) -> pd.DataFrame:
    """Turn a history from :func:`gradient_descent` into a DataFrame indexed by step.

    Scalar series of length ``num_steps`` or ``num_steps + 1`` become columns (the last row, after
    the final update, has only the loss); recorded parameters are left out. Chapter 4.

    Example:
      >>> history_frame({"loss": jnp.array([2.0, 1.0, 0.5])}).shape
      (3, 1)
    """
    columns = {}
    for name in sorted(history, key=lambda name: name != "loss"):  # the loss first
        values = np.asarray(history[name])
        if name == "params" or values.ndim != 1:
            continue
        columns[name] = pd.Series(values, index=pd.RangeIndex(len(values), name="step"))
    return pd.DataFrame(columns)
