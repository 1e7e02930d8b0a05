"""NumPy references the checkers compare students' answers with, and the problems they test on:
written once, in float64, by no one's JAX code.

Introduced in Chapter 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def read_only(array: np.ndarray) -> np.ndarray:
    """``array``, made read-only: a reference or test problem a checker keeps for the whole process
    (``functools.cache``) cannot then be changed in place by mistake.

    Example:
      >>> read_only(np.zeros(2)).flags.writeable
      False
    """
    array.flags.writeable = False
    return array


def sigmoid(z: Any) -> np.ndarray:
    """The logistic function in float64, without overflow warnings.

    Example:
      >>> float(sigmoid(0.0))
      0.5
    """
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def softplus(z: Any) -> np.ndarray:
    """``log(1 + exp(z))`` in float64, finite for every finite ``z``."""
    return np.logaddexp(0.0, np.asarray(z, dtype=np.float64))


def binary_cross_entropy(logits: Any, y: Any, *, reduce: bool = True) -> Any:
    """The binary cross-entropy of ``logits`` and 0/1 labels ``y``, ``softplus(z) - y z``, in float64.

    Returns the mean (a float), or with ``reduce=False`` one loss per example.

    Example:
      >>> round(binary_cross_entropy([0.0, 0.0], [0.0, 1.0]), 6)
      0.693147
    """
    z = np.asarray(logits, dtype=np.float64)
    per_example = softplus(z) - np.asarray(y, dtype=np.float64) * z
    return float(np.mean(per_example)) if reduce else per_example


def regression_problems(sizes: Sequence[tuple[int, int]], seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Random float32 problems ``(b, X, y)`` with ``X`` of shape ``(n, p)``, one per ``(n, p)`` in ``sizes``.

    Example:
      >>> [X.shape for _, X, _ in regression_problems([(5, 2), (8, 3)], seed=0)]
      [(5, 2), (8, 3)]
    """
    rng = np.random.default_rng(seed)
    problems = []
    for n, p in sizes:
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = rng.normal(size=n).astype(np.float32)
        b = rng.normal(size=p).astype(np.float32)
        problems.append((b, X, y))
    return problems
