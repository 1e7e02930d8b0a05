r"""Taylor expansions by nesting ``jax.grad``.

Introduced in Chapter 3. For a scalar function :math:`f` of one variable, expanded about
:math:`a` with step :math:`h = x - a`, the term of order :math:`n` is

.. math:: \frac{f^{(n)}(a)}{n!} h^n,

and the order-:math:`N` approximation is the sum of the terms :math:`n = 0, \dots, N`. The
derivatives come from applying ``jax.grad`` :math:`n` times, each level a ``jax.jit``-wrapped
function; :func:`derivatives` evaluates all levels in one compiled program (once per function,
order and dtype). Everything works in the dtype of ``a``: float32 by
default, float64 inside ``with jax.enable_x64(True):``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

ScalarFn = Callable[[Array], Array]

#: Highest order accepted: nested reverse-mode derivatives grow quickly in cost with the order.
MAX_ORDER = 16


def _check_order(order: object) -> int:
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)):
        raise ValueError(f"order must be an integer between 0 and {MAX_ORDER}; got {order!r} ({type(order).__name__})")
    if not 0 <= order <= MAX_ORDER:
        raise ValueError(f"order must be an integer between 0 and {MAX_ORDER}; got {order}")
    return int(order)


def _check_point(name: str, value: object) -> Array:
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar (one expansion point); got shape {tuple(np.shape(value))}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number; got {value!r}") from None
    if not np.isfinite(number):
        raise ValueError(f"{name} must be finite; got {number}")
    value = jnp.asarray(value)
    return value if jnp.issubdtype(value.dtype, jnp.floating) else value.astype(jnp.result_type(float))


def _check_f(f: object) -> None:
    if not callable(f):
        raise ValueError(f"f must be a scalar function of one variable; got {type(f).__name__}")


@functools.lru_cache(maxsize=256)
def _derivative_chain(f: ScalarFn, order: int) -> tuple[ScalarFn, ...]:
    # Each level is a jitted function: differentiating it differentiates its traced program
    # (jaxpr), not the nested Python grads, so the cost grows gently with the order. Nesting
    # plain grads instead doubles the traced program at every level (order 10 would take
    # seconds to trace). The chain of order n extends the cached chain of order n - 1.
    if order == 0:
        return (jax.jit(f),)
    lower = _derivative_chain(f, order - 1)
    return (*lower, jax.jit(jax.grad(lower[-1])))


def derivatives(f: ScalarFn, a: float, order: int) -> Array:
    """The derivatives ``f(a), f'(a), ..., f^(order)(a)``, by applying ``jax.grad`` repeatedly.

    Args:
      f: a scalar function of one scalar, e.g. ``lambda x: x ** 0.5``.
      a: the point, a scalar (its dtype sets the precision).
      order: the highest derivative, 0 to ``MAX_ORDER``.

    Returns:
      Shape ``(order + 1,)``: entry ``n`` is the ``n``-th derivative at ``a``. Chapter 3.

    Raises:
      ValueError: if ``f`` is not callable, ``a`` is not a finite scalar, or ``order`` is out of range.

    Example:
      >>> derivatives(lambda x: x ** 3, 2.0, 4).tolist()
      [8.0, 12.0, 12.0, 6.0, 0.0]
    """
    _check_f(f)
    a = _check_point("a", a)
    return _all_derivatives(f, _check_order(order))(a)


@functools.lru_cache(maxsize=256)
def _all_derivatives(f: ScalarFn, order: int) -> Callable[[Array], Array]:
    # every level of the chain, called inside one jitted function: one program per function,
    # order and dtype instead of one per level (each level stays a simplified program of its own)
    chain = _derivative_chain(f, order)
    return jax.jit(lambda a: jnp.stack([g(a) for g in chain]))


def factorials(order: int, dtype: jnp.dtype = jnp.float32) -> Array:
    """``0!, 1!, ..., order!`` as floats of ``dtype``, shape ``(order + 1,)``. Chapter 3.

    Example:
      >>> factorials(4)
      Array([ 1.,  1.,  2.,  6., 24.], dtype=float32)
    """
    order = _check_order(order)
    return jnp.asarray([float(math.factorial(n)) for n in range(order + 1)], dtype=dtype)


def taylor_coefficients(f: ScalarFn, a: float, order: int) -> Array:
    """The coefficients ``c_n = f^(n)(a) / n!`` of the Taylor polynomial about ``a``.

    Shape ``(order + 1,)``; the polynomial is ``sum_n c_n (x - a)^n``. Chapter 3.

    Example:
      >>> [round(v, 4) for v in taylor_coefficients(jnp.exp, 0.0, 3).tolist()]
      [1.0, 1.0, 0.5, 0.1667]
    """
    values = derivatives(f, a, order)
    return values / factorials(order, values.dtype)


def taylor_terms(f: ScalarFn, a: float, x: float, order: int) -> Array:
    """The terms ``f^(n)(a) h^n / n!`` with ``h = x - a``, for ``n = 0, ..., order``.

    Their sum is the order-``order`` approximation of ``f(x)``; their cumulative sums are the
    approximations of every lower order (see :func:`taylor_approximations`). Chapter 3.

    Args:
      f: scalar function of one scalar.
      a: expansion point (scalar).
      x: where to approximate ``f`` (scalar).
      order: highest order, 0 to ``MAX_ORDER``.

    Returns:
      Shape ``(order + 1,)``, in the dtype of ``a``.

    Example:
      >>> taylor_terms(lambda t: t ** 2, 1.0, 3.0, 2)
      Array([1., 4., 4.], dtype=float32)
    """
    coefficients = taylor_coefficients(f, a, order)
    h = jnp.asarray(_check_point("x", x), coefficients.dtype) - jnp.asarray(a, coefficients.dtype)
    return _times_powers(coefficients, h)


@jax.jit
def _times_powers(coefficients: Array, h: Array) -> Array:
    return coefficients * h ** jnp.arange(coefficients.shape[0])


def taylor_approximations(f: ScalarFn, a: float, x: float, order: int) -> Array:
    """The approximations of ``f(x)`` of orders ``0, 1, ..., order`` about ``a``: the cumulative
    sums of :func:`taylor_terms`, shape ``(order + 1,)``. Chapter 3.

    Example:
      >>> [round(v, 4) for v in taylor_approximations(lambda t: t ** 0.5, 49.0, 43.0, 2).tolist()]
      [7.0, 6.5714, 6.5583]
    """
    return jnp.cumsum(taylor_terms(f, a, x, order))


def taylor_polynomial(f: ScalarFn, a: float, order: int) -> Callable[[Array], Array]:
    """The order-``order`` Taylor polynomial of ``f`` about ``a``, as a function of ``x``.

    The derivatives are computed once; the returned function works on an array ``x`` of any shape
    (element-wise) and is what Chapter 3 plots over an interval.

    Example:
      >>> p = taylor_polynomial(jnp.exp, 0.0, 2)
      >>> p(jnp.array([0.0, 1.0]))
      Array([1. , 2.5], dtype=float32)
    """
    coefficients = taylor_coefficients(f, a, order)
    a = jnp.asarray(a, coefficients.dtype)

    def polynomial(x: Array) -> Array:
        h = jnp.asarray(x, coefficients.dtype) - a
        # Horner's rule: c0 + h (c1 + h (c2 + ...))
        result = jnp.zeros_like(h) + coefficients[-1]
        for c in coefficients[-2::-1]:
            result = result * h + c
        return result

    return jax.jit(polynomial)  # one compiled program per shape of x, not one per operation
