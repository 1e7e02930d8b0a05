"""Linear regression fitted by descent: Chapter 4's data set and loss.

Chapter 4 fits the plane ``y = -11 x1 + 12 x2 + 3 + 3 eps`` by gradient descent and compares the
answer with the closed form of Chapter 1 (``jaxbook.least_squares``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp  # noqa: F401 (the docstring examples use it)
from jax import Array

from jaxbook import losses, validation

#: Chapter 4's true coefficients, ``[intercept, b1, b2]``, and noise standard deviation.
PLANE_COEFFICIENTS = (3.0, -11.0, 12.0)
PLANE_NOISE_SD = 3.0


def plane_data(
    key: Array,
    n: int = 1000,
    *,
    coefficients: tuple[float, float, float] = PLANE_COEFFICIENTS,
    noise_sd: float = PLANE_NOISE_SD,
) -> tuple[Array, Array]:
    """Draw ``n`` points of ``y = b0 + b1 x1 + b2 x2 + noise_sd * eps`` with ``x1, x2, eps ~ N(0, 1)``.

    Chapter 4's data set is ``plane_data(key)``: ``y = -11 x1 + 12 x2 + 3 + 3 eps``, ``n = 1000``.

    Args:
      key: a ``jax.random.key``; split here into one key for the features and one for the noise.
      n: number of points.
      coefficients: ``(intercept, b1, b2)``.
      noise_sd: standard deviation of the noise, >= 0.

    Returns:
      ``(x, y)``: features of shape ``(n, 2)`` and targets of shape ``(n,)``, float32.

    Example:
      >>> x, y = plane_data(jax.random.key(0), n=5)
      >>> x.shape, y.shape
      ((5, 2), (5,))
    """
    n = validation.positive_int("n", n)
    if noise_sd < 0:
        raise ValueError(f"noise_sd must be >= 0; got {noise_sd}")
    if len(coefficients) != 3:
        raise ValueError(f"coefficients must be (intercept, b1, b2); got {len(coefficients)} values")
    key_x, key_noise = jax.random.split(key)
    x = jax.random.normal(key_x, (n, 2))
    b0, b1, b2 = coefficients
    y = b0 + b1 * x[:, 0] + b2 * x[:, 1] + noise_sd * jax.random.normal(key_noise, (n,))
    return x, y


def mse_loss(b: Array, X: Array, y: Array) -> Array:
    """Mean squared error of the linear model ``X @ b``: ``mean((X b - y)^2)``.

    Shapes: ``b`` ``(p,)``, ``X`` ``(n, p)``, ``y`` ``(n,)``; returns a scalar. Being a mean, it
    is ``least_squares.loss / n``: the same minimiser, a gradient ``n`` times smaller, and the same
    learning rate works for any ``n`` or batch size. Chapter 4.

    Example:
      >>> float(mse_loss(jnp.array([0.0, 1.0]), jnp.array([[1.0, 2.0], [1.0, 0.0]]), jnp.array([3.0, 0.0])))
      0.5
    """
    return losses.mean_squared_error(X @ b, y)
