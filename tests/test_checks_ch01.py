"""The corpus of Chapter 1's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch01

rng = np.random.default_rng(1)
x = rng.normal(size=100).astype(np.float32)
celsius = np.arange(-5.0, 15.0, 0.05).astype(np.float32)
fahrenheit = (1.8 * celsius + 32.0 + 3.0 * rng.normal(size=celsius.size)).astype(np.float32)


def design(X):
    return ch01.check_design_matrix(X, x)


def celsius_fit(b):
    return ch01.check_celsius_fit(b, celsius, fahrenheit)


C = np.column_stack([np.ones_like(celsius), celsius]).astype(np.float64)
b_fit = np.linalg.lstsq(C, fahrenheit.astype(np.float64), rcond=None)[0]
C32 = jnp.asarray(C, jnp.float32)


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
    "check_design_matrix": [
        right(design, jnp.ones((len(x), 2)).at[:, 1].set(x)),
        right(design, np.column_stack([np.ones_like(x), x]).astype(np.float64)),
        right(design, jnp.stack([jnp.ones_like(x), x], axis=1)),
        right(design, [[1.0, float(v)] for v in x]),
        wrong(design, jnp.stack([x, jnp.ones_like(x)], axis=1), "columns swapped"),
        wrong(design, jnp.stack([jnp.ones_like(x), x]), "transpose it"),
        wrong(design, jnp.stack([jnp.zeros_like(x), x], axis=1), "all ones"),
        wrong(design, x, "one column"),
        wrong(design, jnp.ones((len(x), 2)).at[:, 1].set(x**2), "differs from the reference"),
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
    "check_celsius_fit": [
        right(celsius_fit, b_fit),
        right(celsius_fit, jnp.linalg.lstsq(jnp.asarray(C, jnp.float32), fahrenheit)[0]),
        right(celsius_fit, np.linalg.solve(C.T @ C, C.T @ fahrenheit)),
        right(celsius_fit, tuple(np.polyfit(celsius, fahrenheit, 1)[::-1])),
        right(celsius_fit, [float(b_fit[0]), float(b_fit[1])]),
        right(celsius_fit, jnp.linalg.inv(C32.T @ C32) @ (C32.T @ fahrenheit)),  # float32, even through inv
        right(celsius_fit, jnp.linalg.solve(C32.T @ C32, C32.T @ fahrenheit)),
        wrong(celsius_fit, b_fit[::-1], "wrong order"),
        wrong(celsius_fit, jnp.array([32.0, 1.8]), "physical constants"),
        wrong(celsius_fit, np.array([0.0, celsius @ fahrenheit / (celsius @ celsius)]), "through the origin"),
        wrong(celsius_fit, b_fit[:1], "shape"),
        wrong(celsius_fit, np.round(b_fit, 2), "rounded or copied"),
        wrong(celsius_fit, np.round(b_fit, 3), "rounded or copied"),
    ],
    "check_r_squared": [
        right(r_squared_fit, r2_in_float32()),
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
    "check_design_matrix": (design, False),
    "check_gradient": (ch01.check_gradient, True),
    "check_celsius_fit": (celsius_fit, False),
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
