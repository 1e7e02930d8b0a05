"""The corpus of Chapter 4's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch04


def mse(b, X, y):
    return jnp.mean((X @ b - y) ** 2)


def grad_formula(b, X, y):
    return 2.0 / X.shape[0] * X.T @ (X @ b - y)


rng = np.random.default_rng(4)
x_ex = rng.normal(size=40)
X_ex = np.column_stack([np.ones(40), x_ex]).astype(np.float32)
y_ex = (-0.5 + 1.5 * x_ex + 2.0 * rng.normal(size=40)).astype(np.float32)
X64, y64 = X_ex.astype(np.float64), y_ex.astype(np.float64)
b_ex = np.linalg.lstsq(X64, y64, rcond=None)[0]
rss = float(np.sum((y64 - X64 @ b_ex) ** 2))
inv_diag = np.diag(np.linalg.inv(X64.T @ X64))
se = np.sqrt(rss / 38 * inv_diag)
R = np.linalg.qr(X64, mode="r")
se_qr = np.sqrt(rss / 38 * np.sum(np.linalg.inv(R) ** 2, axis=1))

X_plane = np.column_stack([np.ones(200), rng.normal(size=(200, 2))]).astype(np.float32)
y_plane = (X_plane @ np.array([3.0, -1.0, 2.0]) + rng.normal(size=200)).astype(np.float32)


def sweep(tol=1e-3, dtype=np.float32):
    X, y = X_plane.astype(dtype), y_plane.astype(dtype)
    b_closed = np.linalg.lstsq(X.astype(np.float64), y.astype(np.float64), rcond=None)[0]
    counts = {}
    for lr in ch04.LEARNING_RATES:
        b = np.zeros(3, dtype)
        for step in range(301):  # noqa: B007 (the count of steps taken is read after the loop)
            if np.max(np.abs(b - b_closed)) < tol:
                break
            b = b - dtype(lr) * dtype(2.0 / len(y)) * X.T @ (X @ b - y)
        counts[lr] = step
    return counts


counts = sweep()


def std_errors(answer):
    return ch04.check_standard_errors(answer, X_ex, y_ex)


def steps(answer):
    return ch04.check_steps_needed(answer, X_plane, y_plane)


CORPUS = {
    "check_mse_gradient": [
        right(ch04.check_mse_gradient, grad_formula),
        right(ch04.check_mse_gradient, jax.grad(mse)),
        right(ch04.check_mse_gradient, lambda b, X, y: jnp.mean(2 * (X @ b - y)[:, None] * X, axis=0)),
        right(ch04.check_mse_gradient, jax.jit(lambda b, X, y: 2 * X.T @ X @ b / len(y) - 2 * X.T @ y / len(y))),
        wrong(ch04.check_mse_gradient, lambda b, X, y: 2.0 * X.T @ (X @ b - y), "the MSE is a mean, so divide by n"),
        wrong(ch04.check_mse_gradient, lambda b, X, y: grad_formula(b, X, y) / X.shape[0], "once too often"),
        wrong(ch04.check_mse_gradient, lambda b, X, y: 2.0 / (X.shape[0] - 1) * X.T @ (X @ b - y), "n - 1"),
        wrong(ch04.check_mse_gradient, lambda b, X, y: X.T @ (X @ b - y) / X.shape[0], "factor of 2"),
        wrong(ch04.check_mse_gradient, lambda b, X, y: 2.0 / X.shape[0] * X.T @ (y - X @ b), "wrong sign"),
    ],
    "check_sgd_step": [
        right(ch04.check_sgd_step, lambda b, X, y, lr: b - lr * jax.grad(mse)(b, X, y)),
        right(ch04.check_sgd_step, lambda b, X, y, lr: b - lr * grad_formula(b, X, y)),
        right(ch04.check_sgd_step, jax.jit(lambda b, X, y, lr: b - lr * grad_formula(b, X, y))),
        right(
            ch04.check_sgd_step,
            lambda b, X, y, lr: np.asarray(b, np.float64) - lr * 2 * np.mean((X @ b - y)[:, None] * X, axis=0),
        ),
        wrong(
            ch04.check_sgd_step,
            lambda b, X, y, lr: b - lr * grad_formula(b, X, y) / len(y),
            "don't divide by the batch size again",
        ),
        wrong(ch04.check_sgd_step, lambda b, X, y, lr: b - lr * 2 * X.T @ (X @ b - y), "sum of squares"),
        wrong(ch04.check_sgd_step, lambda b, X, y, lr: b + lr * grad_formula(b, X, y), "uphill"),
        wrong(ch04.check_sgd_step, lambda b, X, y, lr: b - grad_formula(b, X, y), "forget to multiply by lr"),
        wrong(ch04.check_sgd_step, lambda b, X, y, lr: -lr * grad_formula(b, X, y), "only the change"),
    ],
    "check_standard_errors": [
        right(std_errors, se),
        right(std_errors, jnp.asarray(se, jnp.float32)),
        right(std_errors, se_qr),
        right(std_errors, list(np.sqrt(rss / 38 * np.diag(np.linalg.pinv(X64.T @ X64))))),
        wrong(std_errors, se**2, "variances"),
        wrong(std_errors, np.sqrt(rss / 40 * inv_diag), "not by n = 40"),
        wrong(std_errors, np.sqrt(rss / 39 * inv_diag), "not by n - 1 = 39"),
        wrong(std_errors, np.sqrt(inv_diag), "multiply diag((X^T X)^-1) by sigma^2"),
        wrong(std_errors, se[:1], "shape"),
        wrong(std_errors, se / np.sqrt(40), "sqrt(n)"),
    ],
    "check_steps_needed": [
        right(steps, counts),
        right(steps, sweep(dtype=np.float64)),
        right(steps, {np.float32(lr): np.int64(n) for lr, n in counts.items()}),
        right(steps, {0.05: counts[0.05], 0.1: counts[0.1], 0.1 * 3: counts[0.3], 0.5: jnp.array(counts[0.5])}),
        right(steps, {**{lr: float(n) for lr, n in counts.items()}, 0.9: 1000}),
        wrong(steps, {**counts, 0.1: counts[0.1] + 10}, "steps_needed[0.1]"),
        wrong(steps, {0.05: 1}, "no entry for the learning rate(s) [0.1, 0.3, 0.5]"),
        wrong(steps, list(counts.values()), "should be a dict"),
        wrong(steps, sweep(tol=1e-1), "first within"),
        wrong(steps, {**counts, 0.3: counts[0.3] + 0.5}, "whole number"),
    ],
}
CHECKS = {
    "check_mse_gradient": (ch04.check_mse_gradient, True),
    "check_sgd_step": (ch04.check_sgd_step, True),
    "check_standard_errors": (std_errors, False),
    "check_steps_needed": (steps, False),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}
ROBUSTNESS["check_steps_needed"].append(wrong(steps, {lr: float("nan") for lr in ch04.LEARNING_RATES}, "finite"))


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch04) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
