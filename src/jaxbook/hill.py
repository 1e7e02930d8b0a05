"""The hill data set: points in the unit square, class 1 on or above the crest ``y = 2.5 x (1 - x)``.

Introduced in Chapter 6 and used again by Chapters 7 to 9, which train networks to find the
hill's boundary. The labels are exact (no noise), so what a model misses is what its shape cannot
draw.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from jaxbook import validation


class HillData(NamedTuple):
    """The hill data set: training and validation inputs ``(n, 2)`` and 0/1 labels ``(n,)``."""

    X_train: Array
    y_train: Array
    X_val: Array
    y_val: Array


def hill_boundary(x: Array) -> Array:
    """The hill's crest ``2.5 x (1 - x)``: points on or above it are class 1. Chapter 6.

    Example:
      >>> float(hill_boundary(0.5))
      0.625
    """
    return 2.5 * x * (1.0 - x)


def hill_labels(X: Array) -> Array:
    """Labels of points ``X`` (n, 2): 1.0 where ``y >= 2.5 x (1 - x)``, else 0.0. Chapter 6."""
    return (X[:, 1] >= hill_boundary(X[:, 0])).astype(jnp.float32)


def hill_data(key: Array, *, n_train: int = 10_000, n_val: int = 1_000) -> HillData:
    """Draw the hill data set: points uniform in the unit square, class 1 when ``y >= 2.5 x (1 - x)``.

    The labels are exact (no noise): the best possible accuracy is 100 %, and what a model misses
    is what its shape cannot draw. Introduced in Chapter 6.

    Args:
      key: a ``jax.random.key``; split here into one key per set.
      n_train, n_val: numbers of training and validation points.

    Returns:
      A :class:`HillData` ``(X_train (n_train, 2), y_train (n_train,), X_val, y_val)``, float32.

    Example:
      >>> data = hill_data(jax.random.key(0), n_train=100, n_val=10)
      >>> data.X_train.shape, data.y_val.shape
      ((100, 2), (10,))
    """
    n_train = validation.positive_int("n_train", n_train)
    n_val = validation.positive_int("n_val", n_val)
    return HillData(*_hill_data(key, n_train, n_val))


@partial(jax.jit, static_argnums=(1, 2))
def _hill_data(key, n_train, n_val):
    key_train, key_val = jax.random.split(key)
    X_train = jax.random.uniform(key_train, (n_train, 2))
    X_val = jax.random.uniform(key_val, (n_val, 2))
    return X_train, hill_labels(X_train), X_val, hill_labels(X_val)
