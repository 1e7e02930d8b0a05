"""A smoke test of the time-to-answer benchmark on a small logistic regression (``make bench`` runs the full one)."""

import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import time_to_answer as tta


@pytest.fixture(scope="module")
def problem():
    return tta.make_problem(n=2_000, dim=10)


@pytest.fixture(scope="module")
def results(problem):
    return tta.measure(problem, repeats=1)


def test_every_method_reaches_the_criterion_and_the_mle(problem, results):
    names = [r.method for r in results]
    for expected in ("scikit-learn", "statsmodels", "JAX Newton/IRLS", "optax.lbfgs", "gradient descent"):
        assert any(name.startswith(expected) for name in names), (expected, names)
    assert sum(r.baseline for r in results) == 1 and sum(r.mle for r in results) == 1
    mle = next(r.coef for r in results if r.mle)
    for r in results:
        assert r.projected_seconds is None, f"{r.method} stopped before the criterion"
        assert tta.gradient_ratio(problem, r.coef) <= tta.RELATIVE_TOLERANCE, r.method
        np.testing.assert_allclose(r.coef, mle, rtol=0, atol=1e-4, err_msg=r.method)
        assert r.iterations >= 1 and r.timing.median > 0


def test_the_table_has_one_row_per_method(problem, results):
    text = tta.table(problem, results)
    rows = [line for line in text.splitlines() if line.startswith("| ")][2:]
    assert len(rows) == len(results)
    baseline = next(i for i, r in enumerate(results) if r.baseline)
    assert results[baseline].note.endswith("the baseline (faster)") and "| 1.00 |" in rows[baseline]
    assert "**no**" not in text


def test_the_gradient_descent_projection_predicts_the_steps(problem):
    import jax.numpy as jnp

    design, y = jnp.asarray(problem.design, jnp.float32), jnp.asarray(problem.y, jnp.float32)
    target = jnp.float32(tta.FLOAT32_MARGIN * problem.target)
    mle, _ = tta.statsmodels_fit(problem)
    coef, steps = tta.gradient_descent(design, y, target)
    capped, cap = tta.gradient_descent(design, y, target, max_steps=30)
    assert int(cap) == 30 < int(steps)
    predicted = tta.gd_projection(problem, np.asarray(capped, np.float64), int(cap), mle)
    assert 0.7 * int(steps) <= predicted <= 1.3 * int(steps)
    assert tta.gd_projection(problem, np.asarray(coef, np.float64), int(steps), mle) == int(steps)


def test_the_problem_is_chapter_5s():
    full = tta.make_problem()
    assert full.design.shape == (10_000, 101) and np.all(full.design[:, 0] == 1)
    assert set(np.unique(full.y)) == {0.0, 1.0}
    assert f"{full.y.mean():.1%}" == "50.3%"  # as Chapter 5 prints for its training data
