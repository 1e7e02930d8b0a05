"""Chapter 1 helpers against NumPy, scikit-learn and statsmodels."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LinearRegression
from sklearn.metrics import r2_score

from jaxbook import data, least_squares


@pytest.fixture(params=[0, 1, 2])
def problem(request):
    x, y = data.linear_data(jax.random.key(request.param), n=200)
    return x, y, least_squares.design_matrix(x)


def reference(x, y):
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return np.linalg.lstsq(np.column_stack([np.ones_like(x64), x64]), y64, rcond=None)[0]


def test_design_matrix_is_ones_then_features():
    X = least_squares.design_matrix(jnp.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    np.testing.assert_array_equal(X, [[1, 1, 2], [1, 3, 4], [1, 5, 6]])


@pytest.mark.parametrize("solver", [least_squares.solve_normal_equations, least_squares.lstsq, least_squares.qr_solve])
def test_solvers_match_numpy(problem, solver):
    x, y, X = problem
    np.testing.assert_allclose(solver(X, y), reference(x, y), rtol=1e-4, atol=1e-4)


def test_r_squared_matches_statsmodels_and_scikit_learn(problem):
    x, y, X = problem
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    y_hat = X @ least_squares.lstsq(X, y)
    fit = sm.OLS(y64, sm.add_constant(x64)).fit()
    assert float(least_squares.r_squared(y, y_hat)) == pytest.approx(fit.rsquared, abs=1e-4)
    assert float(least_squares.r_squared(y, y_hat)) == pytest.approx(
        r2_score(y64, np.asarray(y_hat, np.float64)), abs=1e-4
    )


def test_matches_scikit_learn_and_statsmodels(problem):
    x, y, X = problem
    x64, y64 = np.asarray(x, np.float64), np.asarray(y, np.float64)
    sk = LinearRegression().fit(x64[:, None], y64)
    sm_params = sm.OLS(y64, np.asarray(X, np.float64)).fit().params
    b = least_squares.lstsq(X, y)
    np.testing.assert_allclose(b, [sk.intercept_, sk.coef_[0]], atol=1e-4)
    np.testing.assert_allclose(b, sm_params, atol=1e-4)


def test_loss_gradient_by_autodiff_matches_finite_differences(problem):
    _, y, X = problem
    b = jnp.array([0.3, -0.7])
    X64, y64, b64 = (np.asarray(a, np.float64) for a in (X, y, b))
    eps = 1e-6
    fd = [
        (least_squares.loss(b64 + eps * e, X64, y64) - least_squares.loss(b64 - eps * e, X64, y64)) / (2 * eps)
        for e in np.eye(2)
    ]
    np.testing.assert_allclose(jax.grad(least_squares.loss)(b, X, y), fd, rtol=1e-4)


def test_loss_is_squared_norm():
    X = jnp.array([[1.0, 0.0], [1.0, 1.0]])
    y = jnp.array([1.0, 3.0])
    assert float(least_squares.loss(jnp.zeros(2), X, y)) == pytest.approx(10.0)


def test_qr_and_lstsq_beat_the_normal_equations_on_an_ill_conditioned_design():
    x = jnp.linspace(0.0, 1.0, 50)
    X = x[:, None] ** jnp.arange(6)[None, :]
    y = X @ jnp.ones(6)
    err_lstsq = float(jnp.max(jnp.abs(least_squares.lstsq(X, y) - 1)))
    err_qr = float(jnp.max(jnp.abs(least_squares.qr_solve(X, y) - 1)))
    err_solve = float(jnp.max(jnp.abs(least_squares.solve_normal_equations(X, y) - 1)))
    assert max(err_lstsq, err_qr) < 1e-3 < err_solve


def test_data_are_reproducible_and_have_the_documented_law():
    x1, y1 = data.linear_data(jax.random.key(3), n=5000)
    x2, y2 = data.linear_data(jax.random.key(3), n=5000)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert float(x1.min()) >= -1 and float(x1.max()) < 1
    b = reference(x1, y1)
    np.testing.assert_allclose(b, [2.0, 3.0], atol=0.1)
    c, f = data.celsius_fahrenheit(jax.random.key(0))
    assert c.shape == (401,) and float(c[0]) == -5.0 and float(c[-1]) == pytest.approx(15.0)
    np.testing.assert_allclose(np.diff(np.asarray(c)), 0.05, atol=1e-5)
    intercept, slope = reference(c, f)
    assert abs(intercept - 32.0) < 0.6 and abs(slope - 1.8) < 0.1, (intercept, slope)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: least_squares.lstsq(jnp.ones((5, 2)), jnp.ones(4)),
            "X and y must have the same number of rows; X has 5 rows, y has 4",
        ),
        (lambda: least_squares.lstsq(jnp.ones(5), jnp.ones(5)), r"X must be 2-D; got shape \(5,\)"),
        (lambda: least_squares.lstsq(jnp.ones((5, 2)), jnp.ones((5, 1))), r"y must be 1-D; got shape \(5, 1\)"),
        (
            lambda: least_squares.lstsq(jnp.ones((5, 2)).at[2, 1].set(jnp.nan), jnp.ones(5)),
            r"X must be finite; got NaN at index \(2, 1\)",
        ),
        (
            lambda: least_squares.solve_normal_equations(jnp.ones((5, 2)), jnp.ones(5).at[0].set(jnp.inf)),
            "y must be finite; got infinity at index 0",
        ),
        (
            lambda: least_squares.solve_normal_equations(jnp.ones((5, 2)), jnp.ones(5)),
            r"X is rank-deficient: rank 1 < 2 columns",
        ),
        (
            lambda: least_squares.lstsq(jnp.ones((1, 2)), jnp.ones(1)),
            r"at least as many rows as columns; got shape \(1, 2\)",
        ),
        (lambda: least_squares.r_squared(jnp.ones(4), jnp.arange(4.0)), "y must not be constant"),
        (
            lambda: least_squares.r_squared(jnp.arange(4.0), jnp.arange(3.0)),
            "y and y_hat must have the same number of rows",
        ),
        (
            lambda: least_squares.qr_solve(jnp.ones((5, 2)), jnp.ones(5)),
            r"X is rank-deficient: rank 1 < 2 columns",
        ),
        (lambda: least_squares.design_matrix(jnp.ones((2, 2, 2))), r"x must be 1-D or 2-D; got shape \(2, 2, 2\)"),
        (lambda: data.linear_data(jax.random.key(0), n=0), "n must be a positive integer; got 0"),
        (lambda: data.linear_data(jax.random.key(0), noise_sd=-1.0), "noise_sd must be >= 0; got -1.0"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_non_finite_scalar_gets_a_value_error():
    from jaxbook import validation

    with pytest.raises(ValueError, match="a must be finite; got NaN"):
        validation.as_float_array("a", float("nan"), ndim=0)
    with pytest.raises(ValueError, match="a must be finite; got infinity"):
        validation.as_float_array("a", float("inf"), ndim=(0, 1))
