"""A smoke test of the benchmark's pieces (``make bench`` itself takes minutes and is not run here)."""

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import loops
import problems
import run


def test_every_problem_builds_and_takes_a_finite_step():
    for make in problems.ALL:
        problem = make()
        assert problem.chapter in range(1, 9) and problem.num_steps >= 1
        if problem.step is None:
            for fit in problem.closed_form.values():
                assert np.all(np.isfinite(np.asarray(fit(*problem.data))))
        else:
            state = jax.jit(problem.step)(problem.state, *problem.data)
            assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(state))


@pytest.mark.parametrize("make", [problems.chapter2, problems.chapter4])
def test_the_three_styles_agree(make):
    assert run.styles_agree(make(), num_steps=3)


def test_the_reference_tools_solve_the_same_problem():
    problem = problems.chapter4()
    answers = [np.ravel(fit()) for fit in problem.references.values()]
    np.testing.assert_allclose(answers[0], answers[2], rtol=1e-8)  # numpy lstsq and statsmodels: all coefficients
    np.testing.assert_allclose(answers[0][1:], answers[1], rtol=1e-8)  # scikit-learn: the slopes


def test_number_formatting():
    assert run._fmt(1234.5) == "1,234" and run._fmt(0.01234) == "0.0123" and run._fmt(None) == "-"
    assert run._fmt(1e-5) == "< 0.001"
    assert run._percent(0.5) == "50 %" and run._percent(0.012) == "1.2 %" and run._percent(1e-6) == "< 0.01 %"


def sphere_step(t):
    return t - 0.1 * jax.grad(lambda t: jnp.sum(t**2))(t)


def regression_step(b, X, y):
    return b - 0.1 * jax.grad(lambda b: jnp.mean((X @ b - y) ** 2))(b)


def test_python_loop_and_scan_loop_agree_with_the_closed_form():
    t0 = jnp.array([2.0, 1.0])
    expected = np.array([2.0, 1.0]) * 0.8**25  # each step multiplies by 1 - 2 lr
    np.testing.assert_allclose(loops.python_loop(sphere_step, t0, 25), expected, rtol=1e-5)
    np.testing.assert_allclose(loops.scan_loop(sphere_step, t0, 25), expected, rtol=1e-5)


def test_loops_pass_data_and_reach_least_squares():
    rng = np.random.default_rng(0)
    X = jnp.asarray(rng.normal(size=(50, 3)), dtype=jnp.float32)
    y = jnp.asarray(rng.normal(size=50), dtype=jnp.float32)
    reference = np.linalg.lstsq(np.asarray(X, np.float64), np.asarray(y, np.float64), rcond=None)[0]
    by_scan = loops.scan_loop(regression_step, jnp.zeros(3), 500, X, y)
    by_loop = loops.python_loop(jax.jit(regression_step), jnp.zeros(3), 500, X, y)
    np.testing.assert_allclose(by_scan, reference, atol=1e-4)
    np.testing.assert_allclose(by_loop, by_scan, atol=1e-5)
    with pytest.raises(ValueError, match="num_steps must be a positive integer; got 0"):
        loops.python_loop(sphere_step, jnp.ones(2), 0)
