r"""Standardising a feature and a target, and mapping fitted coefficients back.

Introduced in Chapter 2: standardising rounds the cost bowl, so gradient descent converges in a
few steps; the line it finds is then mapped back to the original units. With
:math:`x_s = (x - \bar x)/s_x` and :math:`y_s = (y - \bar y)/s_y`, a line
:math:`y_s = b_0 + b_1 x_s` in standardised units is, in the original units,

.. math:: y = \underbrace{\bar y + b_0 s_y - a \bar x}_{\text{intercept}} + a x,
   \qquad a = b_1 \frac{s_y}{s_x}.

A known slip drops :math:`b_1` from the :math:`a \bar x` term of the intercept (it writes
:math:`\bar x\, s_y / s_x`), which is off by :math:`(1 - b_1)\,\bar x\, s_y / s_x`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from jaxbook import validation


def standardize(x: Array) -> tuple[Array, Array, Array]:
    """Centre ``x`` on its mean and divide by its standard deviation (``ddof=0``).

    Args:
      x: shape ``(n,)``, not constant.

    Returns:
      ``(z, mean, sd)``: ``z`` of shape ``(n,)`` with mean 0 and standard deviation 1, and the two
      scalars needed to map back. Chapter 2.

    Raises:
      ValueError: if ``x`` is not 1-D, has NaN/inf, or is constant.

    Example:
      >>> z, mean, sd = standardize(jnp.array([1.0, 2.0, 3.0]))
      >>> z.round(4), float(mean)
      (Array([-1.2247,  0.    ,  1.2247], dtype=float32), 2.0)
    """
    x_np = validation.as_float_array("x", x, ndim=1)
    if np.ptp(x_np) == 0:
        raise ValueError(f"x must not be constant (its standard deviation would be 0); every value is {x_np[0]}")
    return _standardize(jnp.asarray(x))


@jax.jit  # one compiled program, not one per operation run eagerly
def _standardize(x: Array) -> tuple[Array, Array, Array]:
    mean, sd = jnp.mean(x), jnp.std(x)
    return (x - mean) / sd, mean, sd


def unstandardize_coefficients(
    coef_std: Array,
    x_mean: float,
    x_sd: float,
    y_mean: float,
    y_sd: float,
) -> tuple[Array, Array]:
    r"""Map ``(b0, b1)`` of ``y_s = b0 + b1 x_s`` (standardised units) back to ``(intercept, slope)``.

    ``slope = b1 * y_sd / x_sd`` and ``intercept = y_mean + b0 * y_sd - slope * x_mean``. Chapter 2.

    Args:
      coef_std: ``(b0, b1)``, shape ``(2,)``, fitted on standardised ``x`` and ``y``.
      x_mean, x_sd, y_mean, y_sd: the statistics returned by :func:`standardize`.

    Returns:
      ``(intercept, slope)`` in the original units.

    Raises:
      ValueError: if ``coef_std`` is not of shape ``(2,)`` or a standard deviation is not positive.

    Example:
      >>> unstandardize_coefficients(jnp.array([0.0, 1.0]), 2.0, 1.0, 10.0, 3.0)
      (Array(4., dtype=float32), Array(3., dtype=float32))
    """
    coef_np = validation.as_float_array("coef_std", coef_std, ndim=1)
    if coef_np.shape != (2,):
        raise ValueError(f"coef_std must have shape (2,) = (b0, b1); got shape {coef_np.shape}")
    validation.positive("x_sd", x_sd)
    validation.positive("y_sd", y_sd)
    return _unstandardize(jnp.asarray(coef_std), x_mean, x_sd, y_mean, y_sd)


@jax.jit
def _unstandardize(coef_std: Array, x_mean: Array, x_sd: Array, y_mean: Array, y_sd: Array) -> tuple[Array, Array]:
    b0, b1 = coef_std
    slope = b1 * y_sd / x_sd
    intercept = y_mean + b0 * y_sd - slope * x_mean
    return intercept, slope
