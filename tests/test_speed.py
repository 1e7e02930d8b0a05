"""jaxbook.speed: timing, XLA cost counts against analytic counts, the machine's limits, the loops."""

import time

import jax
import jax.numpy as jnp
import pytest

from jaxbook import speed


def test_time_call_separates_the_first_call_and_waits_for_results():
    calls = []

    def slow_first(x):
        calls.append(x)
        if len(calls) == 1:
            time.sleep(0.05)  # stands in for compilation
        return x + 1

    timing = speed.time_call(slow_first, jnp.ones(2), repeats=4, number=3)
    assert len(calls) == 1 + 4 * 3
    assert timing.first >= 0.05 > timing.median
    assert timing.best <= timing.median <= timing.worst
    assert (timing.repeats, timing.number) == (4, 3)


def test_time_call_blocks_until_the_result_is_ready():
    seen = []

    class Result:
        def block_until_ready(self):
            seen.append("blocked")
            return self

    speed.time_call(lambda: Result(), repeats=2)
    assert seen == ["blocked"] * 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"repeats": 0}, "repeats must be a positive integer; got 0"),
        ({"number": 1.5}, "number must be a positive integer; got 1.5"),
    ],
)
def test_time_call_rejects_bad_counts(kwargs, message):
    with pytest.raises(ValueError, match=message):
        speed.time_call(jnp.sin, jnp.ones(2), **kwargs)


@pytest.mark.parametrize("m, k, n", [(4, 3, 1), (8, 16, 5), (32, 32, 32)])
def test_cost_counts_two_m_k_n_flops_for_a_matrix_product(m, k, n):
    A = jnp.ones((m, k))
    B = jnp.ones((k, n))
    count = speed.cost(lambda A, B: A @ B, A, B)
    assert count.flops == 2 * m * k * n
    # it reads both inputs and writes the output at least once (float32: 4 bytes each)
    assert count.bytes_accessed >= 4 * (m * k + k * n + m * n)


def test_cost_of_a_gradient_step_scales_with_the_data():
    def step(b, X, y):
        return b - 0.1 * jax.grad(lambda b: jnp.mean((X @ b - y) ** 2))(b)

    small = speed.cost(step, jnp.zeros(3), jnp.ones((100, 3)), jnp.ones(100))
    large = speed.cost(step, jnp.zeros(3), jnp.ones((1000, 3)), jnp.ones(1000))
    assert 5 < large.flops / small.flops < 15
    assert 5 < large.bytes_accessed / small.bytes_accessed < 15


def test_machine_limits_are_positive_rates():
    assert speed.peak_flops(128, repeats=2) > 1e6
    assert speed.memory_bandwidth(256, repeats=2) > 1e6
    with pytest.raises(ValueError, match="n must be a positive integer; got 0"):
        speed.peak_flops(0)


def test_gflops():
    assert speed.gflops(3e9, 1.5) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="seconds must be a positive finite number; got 0"):
        speed.gflops(1.0, 0)
