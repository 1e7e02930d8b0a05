r"""Least squares in closed form: the design matrix, the loss, three solvers and :math:`R^2`.

Introduced in Chapter 1. With a design matrix :math:`X` of shape ``(n, p)`` and targets
:math:`y` of shape ``(n,)``, the least-squares loss is the *squared* norm

.. math:: L(b) = \lVert X b - y \rVert^2, \qquad \nabla L(b) = 2 X^\top X b - 2 X^\top y,

and setting the gradient to zero gives the normal equations :math:`X^\top X b = X^\top y`.
Chapter 1 writes each of these in its cells first; later chapters import them from here.
"""

from __future__ import annotations

import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np
from jax import Array

from jaxbook import validation


def design_matrix(x: Array) -> Array:
    """Prepend a column of ones to the features, so that ``b[0]`` is the intercept.

    Args:
      x: features, shape ``(n,)`` for one feature or ``(n, d)`` for ``d``.

    Returns:
      ``X`` of shape ``(n, d + 1)``: ``[1, x]``.

    Example:
      >>> design_matrix(jnp.array([2.0, 3.0]))
      Array([[1., 2.],
             [1., 3.]], dtype=float32)
    """
    validation.as_float_array("x", x, ndim=(1, 2))
    x = jnp.asarray(x)
    features = x[:, None] if x.ndim == 1 else x
    return jnp.concatenate([jnp.ones((features.shape[0], 1), features.dtype), features], axis=1)


def _check_problem(X: Array, y: Array, *, full_rank: bool) -> tuple[Array, Array]:
    X_np = validation.as_float_array("X", X, ndim=2)
    validation.as_float_array("y", y, ndim=1)
    validation.same_length(X=X, y=y)
    if full_rank:
        validation.full_column_rank("X", X_np)
    return jnp.asarray(X), jnp.asarray(y)


def loss(b: Array, X: Array, y: Array) -> Array:
    """The least-squares loss ``||X b - y||^2`` (a sum of squares, not a mean).

    Shapes: ``b`` ``(p,)``, ``X`` ``(n, p)``, ``y`` ``(n,)``; returns a scalar. Chapter 1.
    Not validated, so that it can be used inside ``jit`` and ``grad``.

    Example:
      >>> float(loss(jnp.array([0.0, 1.0]), jnp.array([[1.0, 2.0]]), jnp.array([3.0])))
      1.0
    """
    residual = X @ b - y
    return residual @ residual


def solve_normal_equations(X: Array, y: Array) -> Array:
    """Solve ``X^T X b = X^T y`` with ``jnp.linalg.solve`` (an LU factorisation, no inverse).

    Args:
      X: design matrix ``(n, p)`` of full column rank.
      y: targets ``(n,)``.

    Returns:
      ``b`` of shape ``(p,)``.

    Raises:
      ValueError: on mismatched lengths, NaN/inf, or a rank-deficient ``X``.

    Example:
      >>> X = design_matrix(jnp.array([0.0, 1.0, 2.0]))
      >>> solve_normal_equations(X, jnp.array([1.0, 3.0, 5.0]))
      Array([1., 2.], dtype=float32)
    """
    X, y = _check_problem(X, y, full_rank=True)
    return jnp.linalg.solve(X.T @ X, X.T @ y)


def lstsq(X: Array, y: Array) -> Array:
    """Least squares with ``jnp.linalg.lstsq``, which works on ``X`` itself (an SVD), not ``X^T X``.

    Like :func:`qr_solve`, its error grows with ``cond(X)``, while the normal equations' grows with
    ``cond(X^T X) = cond(X)^2``. Shapes as in :func:`solve_normal_equations`. Chapter 1.

    Example:
      >>> X = design_matrix(jnp.array([0.0, 1.0, 2.0]))
      >>> lstsq(X, jnp.array([1.0, 3.0, 5.0])).round(4)
      Array([1., 2.], dtype=float32)
    """
    X, y = _check_problem(X, y, full_rank=True)
    return jnp.linalg.lstsq(X, y)[0]


def qr_solve(X: Array, y: Array) -> Array:
    """Least squares through the reduced QR factorisation ``X = Q R``: solve ``R b = Q^T y``.

    ``X^T X`` is never formed, so the error grows with ``cond(X)``, not its square. Shapes and
    errors as in :func:`solve_normal_equations`. Chapter 1.

    Example:
      >>> X = design_matrix(jnp.array([0.0, 1.0, 2.0]))
      >>> qr_solve(X, jnp.array([1.0, 3.0, 5.0])).round(4)
      Array([1., 2.], dtype=float32)
    """
    X, y = _check_problem(X, y, full_rank=True)
    Q, R = jnp.linalg.qr(X)
    return jax.scipy.linalg.solve_triangular(R, Q.T @ y, lower=False)


def r_squared(y: Array, y_hat: Array) -> Array:
    """The coefficient of determination ``1 - sum((y - y_hat)^2) / sum((y - mean(y))^2)``.

    The share of the variation of ``y`` around its mean that the fitted values explain (for a
    least-squares fit with an intercept, between 0 and 1). Chapter 1.

    Args:
      y: targets ``(n,)``, not all equal.
      y_hat: fitted values ``(n,)``.

    Returns:
      ``R^2`` as a scalar.

    Raises:
      ValueError: on mismatched lengths, NaN/inf, or a constant ``y``.

    Example:
      >>> float(r_squared(jnp.array([1.0, 2.0, 3.0]), jnp.array([1.0, 2.0, 4.0])))
      0.5
    """
    y_np = validation.as_float_array("y", y, ndim=1)
    validation.as_float_array("y_hat", y_hat, ndim=1)
    validation.same_length(y=y, y_hat=y_hat)
    if np.ptp(y_np) == 0:
        raise ValueError(f"y must not be constant (R^2 is undefined); every value is {y_np[0]}")
    y, y_hat = jnp.asarray(y), jnp.asarray(y_hat)
    residual = y - y_hat
    return 1.0 - (residual @ residual) / jnp.sum((y - jnp.mean(y)) ** 2)
