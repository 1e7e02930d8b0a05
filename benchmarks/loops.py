"""The benchmark's loops: the same steps in a Python ``for`` loop and as one compiled ``lax.scan``.

Used by ``run.py`` (``make bench``) to time each chapter's training step in three styles.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp  # noqa: F401  (used by the doctests)

from jaxbook import validation

Params = Any  # a pytree of arrays
Step = Callable[..., Params]


def python_loop(step: Step, params: Params, num_steps: int, *data: Any) -> Params:
    """Apply ``params = step(params, *data)`` ``num_steps`` times in a Python ``for`` loop.

    With an un-jitted ``step`` every operation is dispatched one at a time from Python; with a
    jitted one, each step is one call of compiled code. The benchmark's first two styles.

    Example:
      >>> python_loop(lambda t: t - 0.1 * 2 * t, jnp.array([2.0, 1.0]), 1)
      Array([1.6, 0.8], dtype=float32)
    """
    num_steps = validation.positive_int("num_steps", num_steps)
    for _ in range(num_steps):
        params = step(params, *data)
    return params


@partial(jax.jit, static_argnames=("step", "num_steps"))
def scan_loop(step: Step, params: Params, num_steps: int, *data: Any) -> Params:
    """The same ``num_steps`` steps as :func:`python_loop`, as one ``lax.scan`` compiled with ``jit``.

    The whole loop is a single call: no Python between steps, and XLA sees the loop body once.
    ``step`` and ``num_steps`` are static (a new value recompiles). Chapter 9.

    Example:
      >>> scan_loop(lambda t: t - 0.1 * 2 * t, jnp.array([2.0, 1.0]), 1)
      Array([1.6, 0.8], dtype=float32)
    """

    def body(params, _):
        return step(params, *data), None

    return jax.lax.scan(body, params, length=num_steps)[0]
