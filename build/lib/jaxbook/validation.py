"""Input checks shared by every helper: each raises a ``ValueError`` that names the argument,
what was expected and what arrived.

Introduced in Chapter 1; every later helper validates its inputs through these functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _describe_shape(value: Any) -> str:
    return str(tuple(np.shape(value)))


def as_float_array(name: str, value: Any, ndim: int | tuple[int, ...]) -> np.ndarray:
    """Return ``value`` as a NumPy float array after checking its rank and finiteness.

    Args:
      name: the argument's name, used in the error message.
      value: anything array-like (a list, a NumPy or JAX array).
      ndim: the accepted number(s) of dimensions, e.g. ``1`` for a vector, ``(1, 2)`` for either.

    Returns:
      The values as a ``float64`` NumPy array (JAX arrays are copied to host).

    Raises:
      ValueError: if the array has another rank, is empty, or holds NaN or infinity.

    Example:
      >>> as_float_array("x", [1.0, 2.0], ndim=1).shape
      (2,)
    """
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; got {type(value).__name__} ({exc})") from None
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if array.ndim not in allowed:
        wanted = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {wanted}; got shape {_describe_shape(array)} ({array.ndim}-D)")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {_describe_shape(array)}")
    bad = ~np.isfinite(array)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if np.isnan(array[where]) else "infinity"
        if array.ndim == 0:
            raise ValueError(f"{name} must be finite; got {kind}")
        raise ValueError(
            f"{name} must be finite; got {kind} at index {where if len(where) > 1 else where[0]} "
            f"({int(bad.sum())} non-finite value(s) in all)"
        )
    return array


def same_length(**arrays: Any) -> int:
    """Check that all the given arrays have the same first dimension and return it.

    Example:
      >>> same_length(X=np.zeros((3, 2)), y=np.zeros(3))
      3
    """
    lengths = {name: int(np.shape(a)[0]) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} has {n} rows" for name, n in lengths.items())
        raise ValueError(f"{' and '.join(lengths)} must have the same number of rows; {described}")
    return next(iter(lengths.values()))


def positive(name: str, value: float) -> float:
    """Check that a hyperparameter is a finite number greater than zero and return it as a float.

    Example:
      >>> positive("lr", 0.1)
      0.1
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number; got {value!r}") from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return number


def positive_int(name: str, value: Any) -> int:
    """Check that a count (steps, samples, epochs) is an integer of at least one and return it.

    Example:
      >>> positive_int("n", 10)
      10
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a positive integer; got {value!r} ({type(value).__name__})")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value}")
    return int(value)


def full_column_rank(name: str, X: np.ndarray, rtol: float | None = None) -> int:
    """Check that the design matrix ``X`` (n, p) has rank p and at least p rows; return the rank.

    A design whose columns are linearly dependent has no unique least-squares solution: the normal
    equations are singular. ``rtol`` is the relative singular-value threshold (default: NumPy's).
    """
    n, p = X.shape
    if n < p:
        raise ValueError(f"{name} must have at least as many rows as columns; got shape {(n, p)}")
    rank = int(np.linalg.matrix_rank(X, rtol=rtol))
    if rank < p:
        raise ValueError(
            f"{name} is rank-deficient: rank {rank} < {p} columns, so the least-squares "
            "solution is not unique (is one column a multiple or sum of others?)"
        )
    return rank
