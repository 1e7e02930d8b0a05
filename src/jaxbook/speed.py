r"""Measuring speed honestly: compilation timed apart from calls, work counted, limits measured.

Introduced in Chapter 9 and used by the benchmark (``make bench``, ``benchmarks/run.py``, whose
loops in three styles are in ``benchmarks/loops.py``).

Three rules make a timing mean something in JAX:

- **Separate the first call.** The first call of a jitted function traces and compiles it; the
  calls after it only run. :func:`time_call` reports the two apart.
- **Wait for the result.** JAX dispatches work asynchronously: a call returns before the numbers
  are computed. Every timing here ends with ``jax.block_until_ready``.
- **Repeat and take the median.** One run is at the mercy of the operating system; the median of a
  few repeats is not, and ``time.perf_counter`` is the clock meant for it.

A time alone says little; a time against what the machine can do says a lot. :func:`peak_flops`
times a large float32 matrix product (arithmetic-bound) and :func:`memory_bandwidth` a large
matrix-vector product (memory-bound); :func:`cost` asks XLA how many floating-point operations and
bytes one call of a function needs, so that ``cost / time`` can be compared with those limits.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from jaxbook import validation


class Timing(NamedTuple):
    """Seconds taken by a function: its first call apart, then the median of the repeats.

    ``first`` includes tracing and compilation for a jitted function (and one run);
    ``median``, ``best`` and ``worst`` are per call, over ``repeats`` repeats of ``number`` calls.
    """

    first: float
    median: float
    best: float
    worst: float
    repeats: int
    number: int


def time_call(fn: Callable[..., Any], *args: Any, repeats: int = 5, number: int = 1) -> Timing:
    """Time ``fn(*args)``: the first call alone, then ``repeats`` repeats of ``number`` calls.

    Every measurement waits for the result with ``jax.block_until_ready`` and uses
    ``time.perf_counter``. The per-call time of a repeat is its total divided by ``number``
    (use ``number > 1`` for calls so short that the clock's resolution matters). Chapter 9.

    Args:
      fn: any function of ``args`` returning arrays (or a pytree of them).
      args: its arguments.
      repeats: number of timed repeats after the first call, >= 1.
      number: calls per repeat, >= 1.

    Returns:
      A :class:`Timing` in seconds.

    Example:
      >>> timing = time_call(jax.jit(jnp.sin), jnp.ones(3), repeats=3)
      >>> timing.repeats, timing.best <= timing.median <= timing.worst
      (3, True)
    """
    repeats = validation.positive_int("repeats", repeats)
    number = validation.positive_int("number", number)
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - start
    per_call = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            out = fn(*args)
        jax.block_until_ready(out)
        per_call.append((time.perf_counter() - start) / number)
    return Timing(first, statistics.median(per_call), min(per_call), max(per_call), repeats, number)


class Cost(NamedTuple):
    """What XLA's cost model counts for one call: floating-point operations and bytes accessed."""

    flops: float
    bytes_accessed: float


def cost(fn: Callable[..., Any], *args: Any) -> Cost:
    """Count the FLOPs and bytes of one call of ``fn(*args)`` with XLA's cost analysis.

    The function is jitted, lowered and compiled for these arguments, and
    ``compiled.cost_analysis()`` is read. The counts are XLA's estimate for the optimised program:
    a fused elementwise chain reads its inputs once, a matrix product of ``(m, k)`` by ``(k, n)``
    counts ``2 m k n`` FLOPs. For arguments sharded over several devices the counts are per
    device. Chapter 9.

    Example:
      >>> cost(lambda A, x: A @ x, jnp.ones((4, 3)), jnp.ones(3)).flops
      24.0
    """
    analysis = jax.jit(fn).lower(*args).compile().cost_analysis()
    if isinstance(analysis, (list, tuple)):  # older JAX versions returned one dict per program
        analysis = analysis[0] if analysis else {}
    analysis = analysis or {}
    return Cost(float(analysis.get("flops", 0.0)), float(analysis.get("bytes accessed", 0.0)))


@jax.jit
def _matmul(A: Array, B: Array) -> Array:
    return A @ B


def peak_flops(n: int = 2048, *, repeats: int = 5) -> float:
    """The machine's achievable float32 FLOP/s, measured on an ``n x n`` matrix product.

    A matrix product does ``2 n^3`` operations on ``3 n^2`` numbers: for large ``n`` it is
    limited by arithmetic, not memory, and XLA calls a tuned library for it, so its rate is what
    this machine can reach in practice, with the threads XLA is allowed: all cores by default, one
    under ``--xla_cpu_multi_thread_eigen=false`` (as the book's notebooks run). Chapter 9.

    Example:
      >>> peak_flops(64, repeats=2) > 0
      True
    """
    n = validation.positive_int("n", n)
    # the values do not matter to the speed of a matrix product; filling is cheaper than drawing
    A = jnp.full((n, n), 0.5, dtype=jnp.float32)
    B = jnp.full((n, n), 0.25, dtype=jnp.float32)
    timing = time_call(_matmul, A, B, repeats=repeats)
    return 2.0 * n**3 / timing.median


@jax.jit
def _matvec(A: Array, x: Array) -> Array:
    return A @ x


def memory_bandwidth(n: int = 8192, *, repeats: int = 10) -> float:
    """The machine's achievable memory bandwidth in bytes/s, measured on an ``n x n`` matrix-vector product.

    ``A @ x`` reads each of the ``n^2`` float32 entries of ``A`` once and does only 2 operations
    per entry: for a matrix much larger than the caches (``n = 8192`` is 256 MiB) its time is the
    time to stream ``A`` from memory. Bytes counted: ``4 (n^2 + 2 n)``. Chapter 9.

    Example:
      >>> memory_bandwidth(64, repeats=2) > 0
      True
    """
    n = validation.positive_int("n", n)
    A = jnp.full((n, n), 0.5, dtype=jnp.float32)
    x = jnp.full((n,), 0.25, dtype=jnp.float32)
    timing = time_call(_matvec, A, x, repeats=repeats)
    return 4.0 * (n * n + 2 * n) / timing.median


def gflops(flops: float, seconds: float) -> float:
    """Rate in GFLOP/s (or GB/s for bytes): ``flops / seconds / 1e9``.

    Example:
      >>> gflops(2e9, 0.5)
      4.0
    """
    seconds = validation.positive("seconds", seconds)
    return flops / seconds / 1e9
