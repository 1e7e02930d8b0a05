r"""Least squares in closed form: the design matrix, the loss, its gradient and three solvers.

Introduced in Chapter 1. With a design matrix :math:`X` of shape ``(n, p)`` and targets
:math:`y` of shape ``(n,)``, the least-squares loss is the *squared* norm

.. math:: L(b) = \lVert X b - y \rVert^2, \qquad \nabla L(b) = 2 X^\top X b - 2 X^\top y,

and setting the gradient to zero gives the normal equations :math:`X^\top X b = X^\top y`.
"""

from __future__ import annotations

import jax.numpy as jnp
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


def loss_gradient(b: Array, X: Array, y: Array) -> Array:
    """The hand-derived gradient of :func:`loss`: ``2 X^T X b - 2 X^T y``, shape ``(p,)``. Chapter 1."""
    return 2.0 * X.T @ (X @ b) - 2.0 * X.T @ y


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

    This is the most accurate of the three solvers: its error grows with ``cond(X)``, while the
    normal equations' grows with ``cond(X^T X) = cond(X)^2``. Shapes as in
    :func:`solve_normal_equations`. Chapter 1.

    Example:
      >>> X = design_matrix(jnp.array([0.0, 1.0, 2.0]))
      >>> lstsq(X, jnp.array([1.0, 3.0, 5.0])).round(4)
      Array([1., 2.], dtype=float32)
    """
    X, y = _check_problem(X, y, full_rank=True)
    return jnp.linalg.lstsq(X, y)[0]


def inverse_normal_equations(X: Array, y: Array) -> Array:
    """``inv(X^T X) @ X^T y``: the textbook formula, shown in Chapter 1 only to be avoided.

    Forming the inverse costs more and loses more digits than solving the system. Shapes as in
    :func:`solve_normal_equations`.
    """
    X, y = _check_problem(X, y, full_rank=False)
    return jnp.linalg.inv(X.T @ X) @ (X.T @ y)


def simple_regression(x: Array, y: Array) -> tuple[Array, Array]:
    """Intercept and slope of the least-squares line through ``(x, y)`` from the moment formulas.

    ``slope = cov(x, y) / var(x)`` and ``intercept = mean(y) - slope * mean(x)``; the ``1/n``
    factors cancel, so it does not matter which normalisation is used, as long as it is the same
    for both. Chapter 1.

    Args:
      x, y: shape ``(n,)`` each, ``x`` not constant.

    Returns:
      ``(intercept, slope)`` as scalars.

    Example:
      >>> simple_regression(jnp.array([0.0, 1.0, 2.0]), jnp.array([1.0, 3.0, 5.0]))
      (Array(1., dtype=float32), Array(2., dtype=float32))
    """
    x_np = validation.as_float_array("x", x, ndim=1)
    validation.as_float_array("y", y, ndim=1)
    validation.same_length(x=x, y=y)
    if np.ptp(x_np) == 0:
        raise ValueError(f"x must not be constant; every value is {x_np[0]}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    x_centred = x - x.mean()
    slope = (x_centred @ (y - y.mean())) / (x_centred @ x_centred)
    return y.mean() - slope * x.mean(), slope


def polynomial_design(x: Array, degree: int) -> Array:
    """Raw polynomial features ``[1, x, x^2, ..., x^degree]``, shape ``(n, degree + 1)``.

    Their columns are nearly parallel on an interval away from 0, which makes the design
    ill-conditioned: Chapter 1 uses it to show what ``inv`` does to accuracy.

    Example:
      >>> polynomial_design(jnp.array([2.0]), 3)
      Array([[1., 2., 4., 8.]], dtype=float32)
    """
    validation.as_float_array("x", x, ndim=1)
    degree = validation.positive_int("degree", degree)
    return jnp.asarray(x)[:, None] ** jnp.arange(degree + 1)[None, :]


def condition_number(A: Array) -> float:
    """The 2-norm condition number ``sigma_max / sigma_min`` of a matrix, computed in float64.

    Roughly, solving a system with this matrix can lose ``log10(condition_number)`` digits.
    Chapter 1.

    Example:
      >>> condition_number(jnp.array([[2.0, 0.0], [0.0, 1.0]]))
      2.0
    """
    A_np = validation.as_float_array("A", A, ndim=2)
    singular_values = np.linalg.svd(A_np, compute_uv=False)
    return float(singular_values[0] / singular_values[-1])
