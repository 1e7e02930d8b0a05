"""jaxbook.stats against statsmodels, and its bad-input errors."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from jaxbook import stats


def _statsmodels_table(fit) -> np.ndarray:
    ci = np.asarray(fit.conf_int())
    return np.column_stack([fit.params, fit.bse, fit.tvalues, fit.pvalues, ci[:, 0], ci[:, 1]])


def _ols_problem(seed: int, n: int, p: int):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1)) * rng.uniform(0.5, 5.0, size=p - 1)])
    b = rng.normal(size=p) * rng.choice([0.0, 0.3, 3.0], size=p)  # some truly zero coefficients
    y = X @ b + rng.normal(scale=rng.uniform(0.5, 3.0), size=n)
    return X, y


@pytest.mark.parametrize("seed, n, p", [(0, 30, 2), (1, 100, 4), (2, 1000, 3), (3, 12, 6), (4, 500, 10)])
def test_ols_summary_matches_statsmodels(seed, n, p):
    X, y = _ols_problem(seed, n, p)
    table = stats.ols_summary(X, y)
    assert list(table.columns) == ["coef", "std_err", "t", "p_value", "ci_low", "ci_high"]
    assert len(table) == p
    expected = _statsmodels_table(sm.OLS(y, X).fit())
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=1e-9, atol=1e-12)
    assert table.attrs["df_resid"] == n - p


def _logit_problem(seed: int, n: int, p: int):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])
    b = rng.normal(size=p) * 0.8
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ b))).astype(float)
    return X, y


@pytest.mark.parametrize("seed, n, p", [(0, 50, 2), (1, 200, 3), (2, 2000, 5), (3, 500, 8), (4, 5000, 20)])
def test_logit_summary_matches_statsmodels(seed, n, p):
    X, y = _logit_problem(seed, n, p)
    table = stats.logit_summary(X, y)
    assert list(table.columns) == ["coef", "std_err", "t", "p_value", "ci_low", "ci_high"]
    fit = sm.Logit(y, X).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    np.testing.assert_allclose(table.to_numpy(), _statsmodels_table(fit), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(table.attrs["log_likelihood"], fit.llf, rtol=1e-12)


def test_logit_summary_on_default_statsmodels_fit():
    X, y = _logit_problem(5, 400, 4)
    fit = sm.Logit(y, X).fit(disp=0)  # the defaults a reader would use
    np.testing.assert_allclose(stats.logit_summary(X, y).to_numpy(), _statsmodels_table(fit), rtol=1e-6, atol=1e-9)


def test_names_and_dataframe_columns():
    X, y = _ols_problem(0, 40, 3)
    frame = pd.DataFrame(X, columns=["const", "a", "b"])
    assert list(stats.ols_summary(frame, y).index) == ["const", "a", "b"]
    assert list(stats.ols_summary(X, y).index) == ["x0", "x1", "x2"]
    assert list(stats.logit_summary(X, (y > y.mean()).astype(float), names=["c", "u", "v"]).index) == ["c", "u", "v"]
    with pytest.raises(ValueError, match="names must have one entry per column of X \\(3\\); got 2"):
        stats.ols_summary(X, y, names=["a", "b"])


@pytest.mark.parametrize("summary", [stats.ols_summary, stats.logit_summary])
def test_bad_inputs(summary):
    X, y = _logit_problem(0, 30, 3)
    with pytest.raises(ValueError, match="X and y must have the same number of rows; X has 30 rows, y has 29"):
        summary(X, y[:-1])
    X_nan = X.copy()
    X_nan[4, 1] = np.nan
    with pytest.raises(ValueError, match="X must be finite; got NaN at index \\(4, 1\\)"):
        summary(X_nan, y)
    y_inf = y.copy()
    y_inf[2] = np.inf
    with pytest.raises(ValueError, match="y must be finite; got infinity at index 2"):
        summary(X, y_inf)
    with pytest.raises(ValueError, match="at least as many rows as columns; got shape \\(2, 3\\)"):
        summary(X[:2], y[:2])
    X_dep = np.column_stack([X, X[:, 1] + X[:, 2]])
    with pytest.raises(ValueError, match="X is rank-deficient: rank 3 < 4 columns"):
        summary(X_dep, y)
    with pytest.raises(ValueError, match="y must be 1-D; got shape \\(30, 1\\)"):
        summary(X, y[:, None])


def test_ols_needs_residual_degrees_of_freedom():
    X, y = _ols_problem(0, 3, 3)
    with pytest.raises(ValueError, match="more rows than columns.*n - p = 0 degrees of freedom"):
        stats.ols_summary(X, y)


def test_logit_rejects_bad_labels():
    X, _ = _logit_problem(0, 30, 2)
    with pytest.raises(ValueError, match="y must hold labels 0 and 1 only"):
        stats.logit_summary(X, np.linspace(0, 2, 30))
    with pytest.raises(ValueError, match="y must contain both classes; every label is 1"):
        stats.logit_summary(X, np.ones(30))


def test_logit_perfect_separation_raises():
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    X = np.column_stack([np.ones(60), x])
    with pytest.raises(stats.PerfectSeparationError, match="perfectly \\(or quasi-perfectly\\) separated"):
        stats.logit_summary(X, (x > 0.1).astype(float))
    # quasi-complete separation: x = -1 is always class 0, x = 1 always class 1, x = 0 mixed
    x = np.repeat([-1.0, 0.0, 1.0], 20)
    y = np.concatenate([np.zeros(20), np.tile([0.0, 1.0], 10), np.ones(20)])
    with pytest.raises(stats.PerfectSeparationError, match="separated"):
        stats.logit_summary(np.column_stack([np.ones(60), x]), y)
    assert issubclass(stats.PerfectSeparationError, ValueError)
