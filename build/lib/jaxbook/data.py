"""Synthetic data sets, each drawn from an explicit ``jax.random`` key.

The same key gives the same data on every machine: JAX's counter-based generator does not depend
on the CPU, the number of threads or any global state.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

from jaxbook import validation


def linear_data(
    key: Array,
    n: int = 100,
    *,
    slope: float = 3.0,
    intercept: float = 2.0,
    noise_sd: float = 1.0,
) -> tuple[Array, Array]:
    """Draw ``n`` points of ``y = slope * x + intercept + noise`` with ``x ~ U(-1, 1)``.

    Introduced in Chapter 1. Chapter 1's data set is ``linear_data(key)``: y = 3x + 2 + N(0, 1).

    Args:
      key: a ``jax.random.key``; it is split here, never reused.
      n: number of points.
      slope, intercept: the true line.
      noise_sd: standard deviation of the Gaussian noise (0 for exact data).

    Returns:
      ``(x, y)``, two float32 arrays of shape ``(n,)``.

    Example:
      >>> x, y = linear_data(jax.random.key(0), n=5)
      >>> x.shape, y.shape
      ((5,), (5,))
    """
    n = validation.positive_int("n", n)
    if noise_sd < 0:
        raise ValueError(f"noise_sd must be >= 0; got {noise_sd}")
    key_x, key_noise = jax.random.split(key)
    x = jax.random.uniform(key_x, (n,), minval=-1.0, maxval=1.0)
    y = slope * x + intercept + noise_sd * jax.random.normal(key_noise, (n,))
    return x, y


def celsius_fahrenheit(key: Array, *, noise_sd: float = 3.0) -> tuple[Array, Array]:
    """Noisy thermometer readings: Celsius from -5 to 15 in steps of 0.05, and Fahrenheit.

    ``F = 9/5 C + 32 + N(0, noise_sd^2)``. Introduced in Chapter 1.

    Returns:
      ``(celsius, fahrenheit)``, two float32 arrays of shape ``(401,)``.

    Example:
      >>> c, f = celsius_fahrenheit(jax.random.key(0))
      >>> c.shape
      (401,)
    """
    if noise_sd < 0:
        raise ValueError(f"noise_sd must be >= 0; got {noise_sd}")
    celsius = jnp.linspace(-5.0, 15.0, 401)
    fahrenheit = 9.0 / 5.0 * celsius + 32.0 + noise_sd * jax.random.normal(key, celsius.shape)
    return celsius, fahrenheit
