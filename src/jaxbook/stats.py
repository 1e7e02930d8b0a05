r"""Statistical inference for regression: coefficient tables like statsmodels' summaries.

Introduced in Chapter 4 (ordinary least squares) and Chapter 5 (logistic regression). Both
helpers take the design matrix as given (a column of ones gives an intercept), compute in float64
with NumPy and SciPy, and return a pandas DataFrame with one row per column of ``X`` and the
columns ``coef``, ``std_err``, ``t``, ``p_value``, ``ci_low``, ``ci_high`` (95 % interval).

For least squares with ``n`` rows and ``p`` columns,

.. math::
   \hat b = \arg\min \lVert Xb - y\rVert^2, \quad \hat\sigma^2 = \frac{\mathrm{RSS}}{n - p}, \quad
   \operatorname{se}(\hat b_j) = \sqrt{\hat\sigma^2 [(X^\top X)^{-1}]_{jj}}, \quad
   t_j = \hat b_j / \operatorname{se}(\hat b_j),

with p-values and intervals from Student's t distribution on ``n - p`` degrees of freedom. For
logistic regression the standard errors come from the inverse of the Fisher information
:math:`X^\top W X` at the maximum-likelihood estimate, ``W = diag(p (1 - p))``, and the
statistic is a Wald z with normal p-values and intervals.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats
from threadpoolctl import threadpool_limits

from jaxbook import validation

#: The columns of every summary table, in order.
COLUMNS = ("coef", "std_err", "t", "p_value", "ci_low", "ci_high")


class PerfectSeparationError(ValueError):
    """Raised by :func:`logit_summary` when the classes can be separated (perfectly or almost).

    Then the likelihood keeps growing as the coefficients run off to infinity: there is no
    maximum-likelihood estimate and no finite standard error to report.
    """


def _check_design(X: Any, y: Any, names: Sequence[str] | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if names is None and isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
    X_np = validation.as_float_array("X", X, ndim=2)
    y_np = validation.as_float_array("y", y, ndim=1)
    validation.same_length(X=X_np, y=y_np)
    n, p = X_np.shape
    validation.full_column_rank("X", X_np)
    if names is None:
        names = [f"x{j}" for j in range(p)]
    names = [str(name) for name in names]
    if len(names) != p:
        raise ValueError(f"names must have one entry per column of X ({p}); got {len(names)}")
    return X_np, y_np, names


def _table(
    coef: np.ndarray,
    std_err: np.ndarray,
    statistic: np.ndarray,
    p_value: np.ndarray,
    half_width: np.ndarray,
    names: list[str],
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "coef": coef,
            "std_err": std_err,
            "t": statistic,
            "p_value": p_value,
            "ci_low": coef - half_width,
            "ci_high": coef + half_width,
        },
        index=pd.Index(names, name="term"),
    )


def ols_summary(X: Any, y: Any, *, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Least-squares coefficients with standard errors, t statistics, p-values and 95 % intervals.

    The same numbers as ``statsmodels.api.OLS(y, X).fit()`` (``params``, ``bse``, ``tvalues``,
    ``pvalues``, ``conf_int()``). Introduced in Chapter 4.

    Args:
      X: design matrix, shape ``(n, p)``, used as given (include a column of ones for an
        intercept), with full column rank and ``n > p``. A DataFrame's column names become row names.
      y: targets, shape ``(n,)``.
      names: optional row names, one per column of ``X``; default ``x0, x1, ...``.

    Returns:
      A DataFrame with one row per column of ``X`` and the columns ``coef``, ``std_err``, ``t``,
      ``p_value``, ``ci_low``, ``ci_high``. ``attrs`` holds ``n``, ``df_resid`` (``n - p``),
      ``rss`` and ``sigma`` (the residual standard deviation, ``sqrt(RSS / (n - p))``).

    Raises:
      ValueError: if ``X`` and ``y`` have different numbers of rows, hold NaN or infinity, ``X``
        has fewer rows than columns (or as many: no degrees of freedom left for the noise), or
        ``X`` is rank-deficient.

    Example:
      >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
      >>> ols_summary(X, [1.0, 3.1, 4.9, 7.0])["coef"].round(2).tolist()
      [1.03, 1.98]
    """
    X_np, y_np, names = _check_design(X, y, names)
    n, p = X_np.shape
    if n == p:
        raise ValueError(
            f"X must have more rows than columns to estimate the noise variance; got shape {(n, p)}, "
            "which leaves n - p = 0 degrees of freedom"
        )
    # QR of X itself: the coefficients and (X^T X)^-1 = R^-1 R^-T without forming X^T X.
    q, r = np.linalg.qr(X_np)
    coef = np.linalg.solve(r, q.T @ y_np)
    residuals = y_np - X_np @ coef
    rss = float(residuals @ residuals)
    df_resid = n - p
    sigma2 = rss / df_resid
    r_inv = np.linalg.solve(r, np.eye(p))
    std_err = np.sqrt(sigma2 * np.sum(r_inv**2, axis=1))
    t_stat = coef / std_err
    p_value = 2.0 * stats.t.sf(np.abs(t_stat), df_resid)
    half_width = stats.t.ppf(0.975, df_resid) * std_err
    table = _table(coef, std_err, t_stat, p_value, half_width, names)
    table.attrs.update(n=n, df_resid=df_resid, rss=rss, sigma=float(np.sqrt(sigma2)))
    return table


def _log_likelihood(X: np.ndarray, y: np.ndarray, b: np.ndarray) -> float:
    logits = X @ b
    # log sigma(z) = -log(1 + exp(-z)), written with logaddexp so that it never overflows
    return float(-np.sum(np.logaddexp(0.0, logits) - y * logits))


def logit_fit(X: Any, y: Any, *, tol: float = 1e-10, max_iter: int = 100) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Maximum-likelihood logistic regression by Newton's method (IRLS), in float64.

    Each step solves :math:`(X^\\top W X)\\, \\delta = X^\\top (y - p)` with ``p = sigmoid(X b)``
    and ``W = diag(p (1 - p))``, halving the step while it would lower the likelihood. It stops
    when the largest step is below ``tol`` (relative to the coefficients' size). Chapter 5.

    Args:
      X: design matrix ``(n, p)`` of full column rank (already validated).
      y: labels ``(n,)`` in {0, 1}.
      tol: convergence tolerance on the Newton step.
      max_iter: largest number of Newton steps.

    Returns:
      ``(coef, covariance, log_likelihood, iterations)`` with ``covariance`` the inverse Fisher
      information ``(X^T W X)^-1`` at the estimate.

    Raises:
      PerfectSeparationError: if the classes are (almost) perfectly separated, so that no finite
        maximum exists.
    """
    X_np = np.asarray(X, dtype=np.float64)
    y_np = np.asarray(y, dtype=np.float64)
    # One BLAS thread: each step is a few small products, which threads only slow down (most when
    # the cores are busy with JAX or another process, as in a notebook).
    with threadpool_limits(limits=1, user_api="blas"):
        return _newton(X_np, y_np, tol, max_iter)


def _newton(X_np: np.ndarray, y_np: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, np.ndarray, float, int]:
    b = np.zeros(X_np.shape[1])
    log_lik = _log_likelihood(X_np, y_np, b)
    for iteration in range(1, max_iter + 1):
        prob = special.expit(X_np @ b)
        if np.max(np.abs(y_np - prob)) < 1e-8:
            break  # every point fitted with certainty: separated (reported below)
        weights = prob * (1.0 - prob)
        information = X_np.T @ (weights[:, None] * X_np)
        score = X_np.T @ (y_np - prob)
        try:
            step = np.linalg.solve(information, score)
        except np.linalg.LinAlgError:
            break
        scale = 1.0
        new_log_lik = _log_likelihood(X_np, y_np, b + step)
        while new_log_lik < log_lik - 1e-12 * abs(log_lik) and scale > 1e-6:
            scale /= 2.0
            new_log_lik = _log_likelihood(X_np, y_np, b + scale * step)
        b = b + scale * step
        log_lik = new_log_lik
        if np.max(np.abs(scale * step)) <= tol * max(1.0, np.max(np.abs(b))):
            prob = special.expit(X_np @ b)
            weights = prob * (1.0 - prob)
            information = X_np.T @ (weights[:, None] * X_np)
            return b, np.linalg.inv(information), log_lik, iteration
    prob = special.expit(X_np @ b)
    certain = int(np.sum(np.minimum(prob, 1.0 - prob) < 1e-8))
    raise PerfectSeparationError(
        "the classes are perfectly (or quasi-perfectly) separated by a hyperplane of the columns of X: "
        f"after {iteration} Newton steps {certain} of {len(y_np)} points are fitted with probability 0 or 1 "
        f"and the largest coefficient is {np.max(np.abs(b)):.3g} and still growing, so the "
        "maximum-likelihood estimate does not exist (it is infinite). Remove the separating "
        "feature, add data, or use a penalised fit."
    )


def logit_summary(X: Any, y: Any, *, names: Sequence[str] | None = None, tol: float = 1e-10) -> pd.DataFrame:
    """Maximum-likelihood logistic regression with Wald standard errors, p-values and 95 % intervals.

    The same numbers as ``statsmodels.api.Logit(y, X).fit()``. The fit is Newton's method (IRLS)
    in float64, converged to ``tol``. The statistic column is called ``t`` so that the table has
    the same columns as :func:`ols_summary`, but it is a **Wald z**, ``coef / std_err``, and its
    p-values and intervals come from the standard normal distribution. Introduced in Chapter 5.

    Args:
      X: design matrix, shape ``(n, p)``, used as given (a column of ones gives an intercept), full
        column rank. A DataFrame's column names become row names.
      y: labels, shape ``(n,)``, each 0 or 1, both classes present.
      names: optional row names; default ``x0, x1, ...``.
      tol: convergence tolerance of the Newton steps.

    Returns:
      A DataFrame with the columns ``coef``, ``std_err``, ``t`` (a Wald z), ``p_value``,
      ``ci_low``, ``ci_high``; ``attrs`` holds ``n``, ``log_likelihood``, ``log_loss`` (the mean
      binary cross-entropy, ``-log_likelihood / n``) and ``iterations``.

    Raises:
      ValueError: on mismatched lengths, NaN/inf, fewer rows than columns, a rank-deficient ``X``,
        labels other than 0 and 1, or a single class.
      PerfectSeparationError: (a ``ValueError``) if the classes are separable, so that the
        maximum-likelihood coefficients are infinite.

    Example:
      >>> X = np.column_stack([np.ones(6), [-2.0, -1.0, 0.5, -0.5, 1.0, 2.0]])
      >>> logit_summary(X, [0, 0, 0, 1, 1, 1])["coef"].round(3).tolist()
      [0.0, 1.351]
    """
    X_np, y_np, names = _check_design(X, y, names)
    labels = np.unique(y_np)
    if not np.all(np.isin(labels, (0.0, 1.0))):
        raise ValueError(f"y must hold labels 0 and 1 only; got the values {labels[:5].tolist()}")
    if len(labels) < 2:
        raise ValueError(
            f"y must contain both classes; every label is {labels[0]:g}, so the intercept's "
            "maximum-likelihood estimate is infinite"
        )
    coef, covariance, log_lik, iterations = logit_fit(X_np, y_np, tol=tol)
    std_err = np.sqrt(np.diag(covariance))
    z = coef / std_err
    p_value = 2.0 * stats.norm.sf(np.abs(z))
    half_width = stats.norm.ppf(0.975) * std_err
    table = _table(coef, std_err, z, p_value, half_width, names)
    n = len(y_np)
    table.attrs.update(n=n, log_likelihood=log_lik, log_loss=-log_lik / n, iterations=iterations)
    return table
