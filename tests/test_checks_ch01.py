"""The corpus of Chapter 1's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_checks_core import Computed, assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch01

rng = np.random.default_rng(1)
rng.normal(size=100)  # a draw an earlier corpus used: it keeps the data below as they were
celsius = np.arange(-5.0, 15.0, 0.05).astype(np.float32)
fahrenheit = (1.8 * celsius + 32.0 + 3.0 * rng.normal(size=celsius.size)).astype(np.float32)


def group_design_at(x, group, num_groups):
    rows = jnp.arange(x.shape[0])
    X = jnp.zeros((x.shape[0], 2 * num_groups))
    return X.at[rows, 2 * group].set(1.0).at[rows, 2 * group + 1].set(x)


def group_design_one_hot(x, group, num_groups):
    indicators = jax.nn.one_hot(group, num_groups)
    return jnp.stack([indicators, indicators * x[:, None]], axis=2).reshape(x.shape[0], 2 * num_groups)


def group_design_numpy(x, group, num_groups):
    x, group = np.asarray(x, np.float64), np.asarray(group)
    X = np.zeros((x.size, 2 * num_groups))
    X[np.arange(x.size), 2 * group] = 1.0
    X[np.arange(x.size), 2 * group + 1] = x
    return X


def group_design_loop(x, group, num_groups):  # a loop over the groups, not the rows: fine
    X = jnp.zeros((x.shape[0], 2 * num_groups))
    for g in range(num_groups):
        X = X.at[:, 2 * g].set(jnp.where(group == g, 1.0, 0.0)).at[:, 2 * g + 1].set(jnp.where(group == g, x, 0.0))
    return X


def group_design_by_kind(x, group, num_groups):
    indicators = (group[:, None] == jnp.arange(num_groups)).astype(x.dtype)
    return jnp.concatenate([indicators, indicators * x[:, None]], axis=1)


def group_design_baseline(x, group, num_groups):
    indicators = (group[:, None] == jnp.arange(num_groups)).astype(x.dtype)
    columns = [jnp.ones_like(x), x]
    for g in range(1, num_groups):
        columns += [indicators[:, g], indicators[:, g] * x]
    return jnp.stack(columns, axis=1)


def weighted_qr(X, y, w):
    s = jnp.sqrt(w)
    Q, R = jnp.linalg.qr(s[:, None] * X)
    return jax.scipy.linalg.solve_triangular(R, Q.T @ (s * y), lower=False)


def weighted_lstsq(X, y, w):
    s = jnp.sqrt(w)
    return jnp.linalg.lstsq(X * s[:, None], y * s)[0]


def weighted_normal_equations(X, y, w):  # forms X^T W X: fine on the well-conditioned problems, not on the last
    return jnp.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * y))


def weighted_numpy(X, y, w):
    X, y, s = np.asarray(X, np.float64), np.asarray(y, np.float64), np.sqrt(np.asarray(w, np.float64))
    return tuple(np.linalg.lstsq(np.diag(s) @ X, s * y, rcond=None)[0])


def weighted_qr_complete(X, y, w):  # the complete QR, cut down to the p x p block of R
    s = jnp.sqrt(w)
    Q, R = jnp.linalg.qr(s[:, None] * X, mode="complete")
    p = X.shape[1]
    return jax.scipy.linalg.solve_triangular(R[:p], (Q.T @ (s * y))[:p], lower=False)


def weighted_gram_schmidt(X, y, w):  # modified Gram-Schmidt by hand, then Q^T y: loses digits at cond 5e3
    s = jnp.sqrt(w)
    A = s[:, None] * X
    columns, R = [], jnp.zeros((X.shape[1], X.shape[1]))
    for j in range(X.shape[1]):
        v = A[:, j]
        for i, q in enumerate(columns):
            R = R.at[i, j].set(q @ v)
            v = v - R[i, j] * q
        R = R.at[j, j].set(jnp.linalg.norm(v))
        columns.append(v / R[j, j])
    return jax.scipy.linalg.solve_triangular(R, jnp.stack(columns, axis=1).T @ (s * y), lower=False)


C = np.column_stack([np.ones_like(celsius), celsius]).astype(np.float64)
b_fit = np.linalg.lstsq(C, fahrenheit.astype(np.float64), rcond=None)[0]


def r_squared_fit(r2):
    return ch01.check_r_squared(r2, celsius, fahrenheit)


f64 = fahrenheit.astype(np.float64)
rss = float(np.sum((f64 - C @ b_fit) ** 2))
tss = float(np.sum((f64 - f64.mean()) ** 2))
r2 = 1.0 - rss / tss


def r2_in_float32():
    Cj = jnp.column_stack([jnp.ones_like(celsius), celsius])
    Q, R = jnp.linalg.qr(Cj)
    b = jax.scipy.linalg.solve_triangular(R, Q.T @ fahrenheit, lower=False)
    residual = fahrenheit - Cj @ b
    return 1.0 - (residual @ residual) / jnp.sum((fahrenheit - fahrenheit.mean()) ** 2)


def per_row_gradient(b, X, y):
    per_row = jax.vmap(lambda b, x_i, y_i: 2.0 * (x_i @ b - y_i) * x_i, in_axes=(None, 0, 0))(b, X, y)
    return jnp.sum(per_row, axis=0)


def moments(x, y):
    slope = jnp.cov(x, y, ddof=0)[0, 1] / jnp.var(x)
    return jnp.mean(y) - slope * jnp.mean(x), slope


CORPUS = {
    "check_group_design": [
        right(ch01.check_group_design, group_design_at),
        right(ch01.check_group_design, jax.jit(group_design_at, static_argnums=2)),
        right(ch01.check_group_design, group_design_one_hot),
        right(ch01.check_group_design, group_design_numpy),
        right(ch01.check_group_design, group_design_loop),
        right(ch01.check_group_design, lambda x, g, k: group_design_at(x, g, k).tolist()),
        wrong(ch01.check_group_design, group_design_by_kind, "grouped by kind"),
        wrong(ch01.check_group_design, group_design_baseline, "baseline"),
        wrong(
            ch01.check_group_design,
            lambda x, g, k: group_design_at(x, g, k).reshape(x.shape[0], k, 2)[:, :, ::-1].reshape(x.shape[0], 2 * k),
            "swapped",
        ),
        wrong(ch01.check_group_design, lambda x, g, k: group_design_at(x, g, k).astype(jnp.int32), "differs"),
        wrong(ch01.check_group_design, lambda x, g, k: group_design_at(x, g, k).T, "transpose it"),
        wrong(ch01.check_group_design, lambda x, g, k: group_design_at(x, g, int(g.max()) + 1), "no rows"),
        wrong(
            ch01.check_group_design,
            lambda x, g, k: jnp.column_stack([jnp.ones_like(x), group_design_at(x, g, k)]),
            "extra column of ones",
        ),
        wrong(
            ch01.check_group_design, lambda x, g, k: group_design_at(x, g, k).at[:, 1::2].set(x[:, None]), "every row"
        ),
        wrong(ch01.check_group_design, lambda x, g, k: jnp.column_stack([jnp.ones_like(x), x]), "one line for all"),
        wrong(ch01.check_group_design, lambda x, g, k: jnp.ones((5, 4)), "differs from the reference"),
    ],
    "check_gradient": [
        right(ch01.check_gradient, lambda b, X, y: 2.0 * X.T @ (X @ b - y)),
        right(ch01.check_gradient, lambda b, X, y: 2 * X.T @ X @ b - 2 * X.T @ y),
        right(ch01.check_gradient, jax.jit(jax.grad(lambda b, X, y: jnp.sum((X @ b - y) ** 2)))),
        right(
            ch01.check_gradient, lambda b, X, y: 2.0 * np.asarray(X, np.float64).T @ (np.asarray(X, np.float64) @ b - y)
        ),
        right(ch01.check_gradient, per_row_gradient),
        right(ch01.check_gradient, jax.jit(per_row_gradient)),
        wrong(
            ch01.check_gradient,
            lambda b, X, y: jax.vmap(lambda b, x_i, y_i: 2.0 * (x_i @ b - y_i) * x_i, in_axes=(None, 0, 0))(b, X, y),
            "shape",
        ),
        wrong(ch01.check_gradient, lambda b, X, y: X.T @ (X @ b - y), "brings down a factor of 2"),
        wrong(ch01.check_gradient, lambda b, X, y: 2 * X.T @ (y - X @ b), "wrong sign"),
        wrong(ch01.check_gradient, lambda b, X, y: 2.0 / len(y) * X.T @ (X @ b - y), "mean-gradient slip"),
        wrong(ch01.check_gradient, lambda b, X, y: 1.0 / len(y) * X.T @ (X @ b - y), "dropped the 2"),
        wrong(ch01.check_gradient, lambda b, X, y: (2 * X.T @ (X @ b - y))[:, None], "shape"),
        wrong(ch01.check_gradient, lambda b, X, y: 2 * X @ (X.T @ (X @ b - y)), "shape"),
    ],
    "check_weighted_fit": [
        right(ch01.check_weighted_fit, weighted_qr),
        right(ch01.check_weighted_fit, jax.jit(weighted_qr)),
        right(ch01.check_weighted_fit, weighted_lstsq),
        right(ch01.check_weighted_fit, weighted_numpy),
        right(ch01.check_weighted_fit, lambda X, y, w: jnp.linalg.pinv(jnp.sqrt(w)[:, None] * X) @ (jnp.sqrt(w) * y)),
        right(ch01.check_weighted_fit, lambda X, y, w: weighted_qr(X, y, w / jnp.mean(w))),  # weights up to a factor
        right(ch01.check_weighted_fit, weighted_qr_complete),
        wrong(ch01.check_weighted_fit, weighted_normal_equations, "forming X^T W X"),
        wrong(ch01.check_weighted_fit, weighted_gram_schmidt, "Gram-Schmidt"),
        wrong(ch01.check_weighted_fit, jax.jit(weighted_normal_equations), "forming X^T W X"),
        wrong(
            ch01.check_weighted_fit,
            lambda X, y, w: jnp.linalg.inv(X.T @ (w[:, None] * X)) @ X.T @ (w * y),
            "forming X^T W X",
        ),
        wrong(ch01.check_weighted_fit, lambda X, y, w: jnp.linalg.lstsq(X, y)[0], "weights were left out"),
        wrong(ch01.check_weighted_fit, lambda X, y, w: weighted_qr(X, y, w**2), "scaled by w"),
        wrong(
            ch01.check_weighted_fit,
            lambda X, y, w: jnp.linalg.lstsq(jnp.sqrt(w)[:, None] * X, y)[0],
            "only X was scaled",
        ),
        wrong(ch01.check_weighted_fit, lambda X, y, w: jnp.linalg.lstsq(X, jnp.sqrt(w) * y)[0], "only y was scaled"),
        wrong(ch01.check_weighted_fit, lambda X, y, w: weighted_qr(X, y, 1.0 / w), "divided by sqrt(w)"),
        wrong(ch01.check_weighted_fit, lambda X, y, w: jnp.array([32.0, 1.8]), "differs from the reference"),
        wrong(ch01.check_weighted_fit, lambda X, y, w: weighted_qr(X, y, w)[:, None], "shape"),
    ],
    "check_r_squared": [
        right(r_squared_fit, Computed(r2_in_float32)),  # 17 programs: built when the case runs, not at collection
        right(r_squared_fit, np.float64(r2)),
        right(r_squared_fit, float(np.corrcoef(celsius, fahrenheit)[0, 1] ** 2)),
        right(r_squared_fit, 1.0 - np.var(f64 - C @ b_fit) / np.var(f64)),
        right(r_squared_fit, jnp.array([r2], dtype=jnp.float32)),
        wrong(r_squared_fit, rss / tss, "1 minus it"),
        wrong(r_squared_fit, np.sqrt(r2), "correlation"),
        wrong(r_squared_fit, 1.0 - rss / float(f64 @ f64), "around the mean"),
        wrong(r_squared_fit, 1.0 - (rss / 398) / (tss / 399), "adjusted"),
        wrong(r_squared_fit, 1.0 - np.var(f64 - C @ b_fit) / np.var(f64, ddof=1), "normalised differently"),
        wrong(r_squared_fit, 0.92, "prediction or a rounded value"),
        wrong(r_squared_fit, round(r2, 2), "prediction or a rounded value"),
        wrong(r_squared_fit, 0.5, "differs from the reference"),
        wrong(r_squared_fit, np.array([r2, r2]), "one number"),
    ],
    "check_simple_regression": [
        right(ch01.check_simple_regression, moments),
        right(ch01.check_simple_regression, lambda x, y: jnp.array(moments(x, y))),
        right(ch01.check_simple_regression, lambda x, y: list(np.polyfit(x, y, 1)[::-1])),
        right(ch01.check_simple_regression, jax.jit(lambda x, y: moments(x, y))),
        right(  # n - 1 in both: the factors cancel
            ch01.check_simple_regression,
            lambda x, y: (
                np.mean(y) - np.cov(x, y)[0, 1] / np.var(x, ddof=1) * np.mean(x),
                np.cov(x, y)[0, 1] / np.var(x, ddof=1),
            ),
        ),
        wrong(ch01.check_simple_regression, lambda x, y: (0.0, jnp.cov(x, y)[0, 1] / jnp.var(x)), "n/(n-1)"),
        wrong(ch01.check_simple_regression, lambda x, y: moments(x, y)[::-1], "wrong order"),
        wrong(ch01.check_simple_regression, lambda x, y: (jnp.mean(y), moments(x, y)[1]), "left out - slope * mean(x)"),
        wrong(
            ch01.check_simple_regression,
            lambda x, y: (jnp.mean(y) + moments(x, y)[1] * jnp.mean(x), moments(x, y)[1]),
            "added slope * mean(x)",
        ),
        wrong(ch01.check_simple_regression, lambda x, y: moments(x, y)[1], "pair"),
        wrong(
            ch01.check_simple_regression,
            lambda x, y: (jnp.mean(y), jnp.mean(y) / jnp.mean(x)),
            "differs from the reference",
        ),
    ],
}
CHECKS = {
    "check_group_design": (ch01.check_group_design, True),
    "check_gradient": (ch01.check_gradient, True),
    "check_weighted_fit": (ch01.check_weighted_fit, True),
    "check_simple_regression": (ch01.check_simple_regression, True),
    "check_r_squared": (r_squared_fit, False),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch01) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
