r"""Loss functions written once for the whole book.

Conventions: ``y_hat`` is a prediction, ``logits`` are real-valued scores before the sigmoid,
``y`` holds targets (0/1 labels for the classification losses). Every loss is a **mean** over
examples, so that a mini-batch gradient is already an average and the learning rate does not
depend on the batch size.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array


def mean_squared_error(y_hat: Array, y: Array) -> Array:
    """Mean of the squared errors, ``mean((y_hat - y)^2)``: shapes ``(n,)`` and ``(n,)`` to a scalar.

    Its square root is a standard deviation (the RMSE), not a variance. Introduced in Chapter 4.

    Example:
      >>> float(mean_squared_error(jnp.array([1.0, 2.0]), jnp.array([1.0, 4.0])))
      2.0
    """
    return jnp.mean((y_hat - y) ** 2)


def binary_cross_entropy(logits: Array, y: Array) -> Array:
    r"""Mean binary cross-entropy computed from logits, stably.

    .. math:: \ell(z, y) = -y \log \sigma(z) - (1 - y) \log(1 - \sigma(z)) = \operatorname{softplus}(z) - y z,

    using :math:`\log \sigma(z) = -\operatorname{softplus}(-z)` (``jax.nn.log_sigmoid``), which is
    finite for every finite logit. Shapes: ``logits`` and ``y`` ``(n,)``; returns a scalar.
    Introduced in Chapter 5.

    Example:
      >>> float(binary_cross_entropy(jnp.array([1000.0, -1000.0]), jnp.array([0.0, 1.0])))
      1000.0
    """
    return jnp.mean(jax.nn.softplus(logits) - y * logits)


def naive_binary_cross_entropy(logits: Array, y: Array) -> Array:
    """The textbook formula ``-mean(y log p + (1 - y) log(1 - p))`` with ``p = sigmoid(logits)``.

    Shown in Chapter 5 only to fail: in float32 ``sigmoid(z)`` rounds to exactly 1 for ``z > 17``
    and to 0 for ``z < -104``, so the logarithm returns ``-inf`` and the loss ``inf`` or ``nan``.
    """
    p = jax.nn.sigmoid(logits)
    return -jnp.mean(y * jnp.log(p) + (1.0 - y) * jnp.log(1.0 - p))
