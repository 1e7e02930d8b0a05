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


def epoch_by_scan(b, X, y, lr, order, batch_size):
    def one_step(b, rows):
        return b - lr * jax.grad(mse)(b, X[rows], y[rows]), None

    return jax.lax.scan(one_step, b, order.reshape(-1, batch_size))[0]


def epoch_loop(b, X, y, lr, order, batch_size):
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        b = b - lr * grad_formula(b, X[rows], y[rows])
    return b


def epoch_numpy(b, X, y, lr, order, batch_size):
    b, X, y, order = (np.asarray(a) for a in (b, X, y, order))
    b = b.astype(np.float64)
    for rows in np.split(order, len(order) // batch_size):
        residual = X[rows] @ b - y[rows]
        b = b - lr * 2 * np.mean(residual[:, None] * X[rows], axis=0)
    return tuple(b)


def epoch_loop_with(*, lr_factor=lambda B: 1, full_data=False, in_row_order=False, one_step=False):
    def sgd_epoch(b, X, y, lr, order, batch_size):
        if in_row_order:
            order = jnp.arange(len(order))
        for start in range(0, len(order), batch_size):
            rows = jnp.arange(len(order)) if full_data else order[start : start + batch_size]
            b = b - lr * lr_factor(batch_size) * grad_formula(b, X[rows], y[rows])
            if one_step:
                break
        return b

    return sgd_epoch


def ridge_loss(b, X, y, lam):
    return mse(b, X, y) + lam * jnp.sum(b**2)


def ridge_formula(b, X, y, lam):
    return grad_formula(b, X, y) + 2 * lam * b


rng = np.random.default_rng(4)


def fit_parts(X, y, x0):
    """(x0, sigma^2, (X^T X)^-1, rss) in float64, sigma^2 = RSS / (n - p)."""
    X, y, x0 = (np.asarray(a, np.float64) for a in (X, y, x0))
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    rss = float(np.sum((y - X @ b) ** 2))
    return x0, rss / (X.shape[0] - X.shape[1]), np.linalg.inv(X.T @ X), rss


def fit_se_formula(X, y, x0):
    x0, sigma2, inv, _ = fit_parts(X, y, x0)
    return np.sqrt(sigma2 * x0 @ inv @ x0)


def fit_se_jax(X, y, x0):
    """float32 JAX throughout, the covariance matrix built first."""
    b = jnp.linalg.lstsq(X, y)[0]
    cov = jnp.sum((y - X @ b) ** 2) / (X.shape[0] - X.shape[1]) * jnp.linalg.inv(X.T @ X)
    return jnp.sqrt(x0 @ cov @ x0)


def fit_se_qr(X, y, x0):
    """x0^T (R^T R)^-1 x0 = |R^-T x0|^2, returned as a one-element list."""
    x0, sigma2, _, _ = fit_parts(X, y, x0)
    R = np.linalg.qr(np.asarray(X, np.float64), mode="r")
    return [float(np.linalg.norm(np.linalg.solve(R.T, x0)) * np.sqrt(sigma2))]


def fit_se_statsmodels(X, y, x0):
    import statsmodels.api as sm

    fit = sm.OLS(np.asarray(y, np.float64), np.asarray(X, np.float64)).fit()
    return fit.get_prediction(np.asarray(x0, np.float64)[None]).se_mean[0]


def fit_se_with(slip):
    def fit_standard_error(X, y, x0):
        x0, sigma2, inv, rss = fit_parts(X, y, x0)
        n, p = np.shape(X)
        return {
            "diagonal": lambda: np.sqrt(sigma2 * x0**2 @ np.diag(inv)),
            "added": lambda: np.sqrt(sigma2 * np.diag(inv)) @ np.abs(x0),
            "n": lambda: np.sqrt(rss / n * x0 @ inv @ x0),
            "n - 1": lambda: np.sqrt(rss / (n - 1) * x0 @ inv @ x0),
            "variance": lambda: sigma2 * x0 @ inv @ x0,
            "new observation": lambda: np.sqrt(sigma2 * (x0 @ inv @ x0 + 1)),
            "true sigma": lambda: 2.0 * np.sqrt(x0 @ inv @ x0),
            "no sigma": lambda: np.sqrt(x0 @ inv @ x0),
            "factor": lambda: 1.1 * np.sqrt(sigma2 * x0 @ inv @ x0),
            "hard-coded": lambda: 1.813,
            "two numbers": lambda: np.sqrt(sigma2 * np.diag(inv)),
        }[slip]()

    return fit_standard_error


def solve_slopes(key, X, num_reps, noise_sd=3.0):
    b_true = jnp.array([3.0, -11.0, 12.0])

    def one(key):
        y = X @ b_true + noise_sd * jax.random.normal(key, (X.shape[0],))
        return jnp.linalg.solve(X.T @ X, X.T @ y)[1]

    return jax.vmap(one)(jax.random.split(key, num_reps))


def lstsq_slopes(key, X, num_reps):
    b_true = jnp.array([3.0, -11.0, 12.0])
    keys = jax.random.split(key, num_reps)
    return jax.vmap(lambda k: jnp.linalg.lstsq(X, X @ b_true + 3 * jax.random.normal(k, (X.shape[0],)))[0][1])(keys)


def numpy_batched_slopes(key, X, num_reps):
    """No vmap: all the noise drawn at once and one float64 least-squares solve for every column."""
    X64 = np.asarray(X, np.float64)
    noise = np.asarray(jax.random.normal(key, (X64.shape[0], num_reps)), np.float64)
    Y = (X64 @ np.array([3.0, -11.0, 12.0]))[:, None] + 3.0 * noise
    return list(np.linalg.lstsq(X64, Y, rcond=None)[0][1])


jitted_slopes = jax.jit(solve_slopes, static_argnames="num_reps")


def reused_key_slopes(key, X, num_reps):
    b_true = jnp.array([3.0, -11.0, 12.0])
    one = lambda k: jnp.linalg.solve(X.T @ X, X.T @ (X @ b_true + 3 * jax.random.normal(k, (X.shape[0],))))[1]
    return jax.vmap(one)(jnp.stack([key] * num_reps))


def own_design_slopes(key, X, num_reps):
    """Ignores the X it is given and draws standard-normal features, as plane_data does."""
    key_x, key_noise = jax.random.split(key)
    x = jax.random.normal(key_x, (X.shape[0], 2))
    return solve_slopes(key_noise, jnp.column_stack([jnp.ones(X.shape[0]), x]), num_reps)


def formula_slopes(key, X, num_reps):
    """Reads the answer off the textbook formula 3 / sqrt(n) instead of refitting."""
    return -11.0 + 3.0 / np.sqrt(X.shape[0]) * jax.random.normal(key, (num_reps,))


def se_slopes(key, X, num_reps):
    """The standard errors of the refits, not the estimates."""
    b_true = jnp.array([3.0, -11.0, 12.0])
    XtX_inv = jnp.linalg.inv(X.T @ X)

    def one(k):
        y = X @ b_true + 3 * jax.random.normal(k, (X.shape[0],))
        b = XtX_inv @ X.T @ y
        return jnp.sqrt(jnp.sum((y - X @ b) ** 2) / (X.shape[0] - 3) * XtX_inv[1, 1])

    return jax.vmap(one)(jax.random.split(key, num_reps))


def all_coefficients(key, X, num_reps):
    b_true = jnp.array([3.0, -11.0, 12.0])
    one = lambda k: jnp.linalg.solve(X.T @ X, X.T @ (X @ b_true + 3 * jax.random.normal(k, (X.shape[0],))))
    return jax.vmap(one)(jax.random.split(key, num_reps))


def fixed_seed_slopes(key, X, num_reps):
    """Ignores the key: a NumPy generator with a fixed seed."""
    X64 = np.asarray(X, np.float64)
    noise = np.random.default_rng(0).normal(size=(X64.shape[0], num_reps))
    Y = (X64 @ np.array([3.0, -11.0, 12.0]))[:, None] + 3.0 * noise
    return np.linalg.lstsq(X64, Y, rcond=None)[0][1]


def epoch_fori(b, X, y, lr, order, batch_size):
    """A lax.fori_loop over batch numbers, each batch cut out with dynamic_slice."""

    def body(i, b):
        rows = jax.lax.dynamic_slice(order, (i * batch_size,), (batch_size,))
        return b - lr * grad_formula(b, X[rows], y[rows])

    return jax.lax.fori_loop(0, len(order) // batch_size, body, b)


def one_draw_slopes(key, X, num_reps):
    """No split: one (num_reps, n) draw of noise and one solve for all its rows."""
    noise = jax.random.normal(key, (num_reps, X.shape[0]))
    Y = X @ jnp.array([3.0, -11.0, 12.0]) + 3.0 * noise
    return jnp.linalg.solve(X.T @ X, X.T @ Y.T)[1]


def scan_pair_epoch(b, X, y, lr, order, batch_size):
    """Returns what lax.scan returns, the pair (carry, stacked outputs), instead of the carry."""

    def one_step(b, rows):
        return b - lr * jax.grad(mse)(b, X[rows], y[rows]), None

    return jax.lax.scan(one_step, b, order.reshape(-1, batch_size))


def column_slopes(column, noise_sd=3.0):
    def slopes(key, X, num_reps):
        b_true = jnp.array([3.0, -11.0, 12.0])
        one = lambda k: jnp.linalg.solve(X.T @ X, X.T @ (X @ b_true + noise_sd * jax.random.normal(k, (X.shape[0],))))
        return jax.vmap(one)(jax.random.split(key, num_reps))[:, column]

    return slopes


def steps_with(
    *, criterion="max", never=lambda num_steps: -1, gradient_factor=lambda n: 1.0, after=False, result="counts"
):
    """steps_to_tolerance as a scan over steps vmapped over learning rates, with one thing changed."""

    def steps_to_tolerance(X, y, lrs, tol, num_steps):
        b_closed = jnp.linalg.lstsq(X, y)[0]
        n = X.shape[0]

        def steps_for(lr):
            def one_step(b, _):
                gradient = grad_formula(b, X, y)
                new = b - lr * gradient_factor(n) * gradient
                at = new if after else b
                distance = {
                    "max": lambda: jnp.max(jnp.abs(at - b_closed)),
                    "gradient": lambda: jnp.linalg.norm(gradient),
                    "norm": lambda: jnp.linalg.norm(at - b_closed),
                    "loss": lambda: mse(at, X, y) - mse(b_closed, X, y),
                }[criterion]()
                return new, distance

            b, distances = jax.lax.scan(one_step, jnp.zeros(X.shape[1]), length=num_steps)
            if result == "coefficients":
                return b
            close = distances < tol
            first = jnp.argmax(close) + (1 if after else 0)
            return first if never is None else jnp.where(close.any(), first, never(num_steps))

        return jax.vmap(steps_for)(lrs)

    return steps_to_tolerance


def steps_distance(distance, start=jnp.zeros):
    """The right scan and vmap with another distance to the closed form, or another starting point."""

    def steps_to_tolerance(X, y, lrs, tol, num_steps):
        b_closed = jnp.linalg.lstsq(X, y)[0]

        def steps_for(lr):
            def one_step(b, _):
                return b - lr * grad_formula(b, X, y), distance(b, b_closed)

            close = jax.lax.scan(one_step, start(X.shape[1]), length=num_steps)[1] < tol
            return jnp.where(close.any(), jnp.argmax(close), -1)

        return jax.vmap(steps_for)(lrs)

    return steps_to_tolerance


steps_relative = steps_distance(lambda b, b_closed: jnp.max(jnp.abs(b - b_closed) / jnp.abs(b_closed)))  # relative
steps_from_ones = steps_distance(lambda b, b_closed: jnp.max(jnp.abs(b - b_closed)), start=jnp.ones)  # not from 0


def steps_numpy(X, y, lrs, tol, num_steps):
    """float64 NumPy, a Python loop over the learning rates, the normal equations, a list returned."""
    X, y = np.asarray(X, np.float64), np.asarray(y, np.float64)
    b_closed = np.linalg.solve(X.T @ X, X.T @ y)
    counts = []
    for lr in np.asarray(lrs, np.float64):
        b, found = np.zeros(X.shape[1]), -1
        with np.errstate(all="ignore"):  # the diverging runs overflow
            for step in range(num_steps):
                if np.all(np.abs(b - b_closed) < tol):
                    found = step
                    break
                b = b - lr * 2 * X.T @ (X @ b - y) / len(y)
        counts.append(found)
    return counts


def steps_while_loop(X, y, lrs, tol, num_steps):
    """One lax.while_loop per learning rate, stopping when close (or after num_steps), vmapped."""
    b_closed = jnp.linalg.solve(X.T @ X, X.T @ y)

    def steps_for(lr):
        def far(state):
            b, step = state
            return (jnp.max(jnp.abs(b - b_closed)) >= tol) & (step < num_steps)

        def body(state):
            b, step = state
            return b - lr * grad_formula(b, X, y), step + 1

        b, step = jax.lax.while_loop(far, body, (jnp.zeros(X.shape[1]), 0))
        return jnp.where(jnp.max(jnp.abs(b - b_closed)) < tol, step, -1)

    return jax.vmap(steps_for)(lrs)


def steps_python_loop(X, y, lrs, tol, num_steps):
    """No vmap: the chapter's kind of scan called once per learning rate, a tuple of ints returned."""
    one = steps_with()
    return tuple(int(one(X, y, jnp.array([lr]), tol, num_steps)[0]) for lr in lrs)


CORPUS = {
    "check_ridge_gradient": [
        right(ch04.check_ridge_gradient, ridge_formula),
        right(ch04.check_ridge_gradient, jax.grad(ridge_loss)),
        right(
            ch04.check_ridge_gradient, lambda b, X, y, lam: jnp.mean(2 * (X @ b - y)[:, None] * X, axis=0) + 2 * lam * b
        ),
        right(
            ch04.check_ridge_gradient,
            jax.jit(lambda b, X, y, lam: 2 * X.T @ X @ b / len(y) - 2 * X.T @ y / len(y) + lam * (b + b)),
        ),
        right(
            ch04.check_ridge_gradient,
            lambda b, X, y, lam: tuple(np.asarray(ridge_formula(b, X, y, lam), np.float64).tolist()),
        ),
        wrong(
            ch04.check_ridge_gradient,
            lambda b, X, y, lam: 2.0 * X.T @ (X @ b - y) + 2 * lam * b,
            "the MSE is a mean, so divide by n",
        ),
        wrong(
            ch04.check_ridge_gradient,
            lambda b, X, y, lam: grad_formula(b, X, y) / X.shape[0] + 2 * lam * b,
            "once too often",
        ),
        wrong(
            ch04.check_ridge_gradient,
            lambda b, X, y, lam: 2.0 / (X.shape[0] - 1) * X.T @ (X @ b - y) + 2 * lam * b,
            "n - 1",
        ),
        wrong(ch04.check_ridge_gradient, lambda b, X, y, lam: grad_formula(b, X, y) + lam * b, "has gradient 2 lam b"),
        wrong(
            ch04.check_ridge_gradient, lambda b, X, y, lam: X.T @ (X @ b - y) / X.shape[0] + 2 * lam * b, "factor of 2"
        ),
        wrong(ch04.check_ridge_gradient, lambda b, X, y, lam: grad_formula(b, X, y), "the MSE alone"),
        wrong(
            ch04.check_ridge_gradient,
            lambda b, X, y, lam: grad_formula(b, X, y) - 2 * lam * b,
            "pulls the coefficients",
        ),
        wrong(ch04.check_ridge_gradient, lambda b, X, y, lam: -ridge_formula(b, X, y, lam), "wrong sign"),
        wrong(
            ch04.check_ridge_gradient,
            lambda b, X, y, lam: grad_formula(b, X, y) + 2 * lam * jnp.concatenate([jnp.zeros(1), b[1:]]),
            "b0 included",
        ),
    ],
    "check_sgd_epoch": [
        right(ch04.check_sgd_epoch, epoch_by_scan),
        right(ch04.check_sgd_epoch, jax.jit(epoch_by_scan, static_argnames="batch_size")),
        right(ch04.check_sgd_epoch, epoch_loop),
        right(ch04.check_sgd_epoch, epoch_numpy),
        right(ch04.check_sgd_epoch, epoch_fori),
        wrong(ch04.check_sgd_epoch, epoch_loop_with(lr_factor=lambda B: 1 / B), "don't divide by the batch size again"),
        wrong(ch04.check_sgd_epoch, epoch_loop_with(lr_factor=lambda B: B), "sum of squares"),
        wrong(ch04.check_sgd_epoch, epoch_loop_with(full_data=True), "every step used all the rows"),
        wrong(ch04.check_sgd_epoch, epoch_loop_with(in_row_order=True), "in the order given by `order`"),
        wrong(ch04.check_sgd_epoch, epoch_loop_with(one_step=True), "that is one step"),
        wrong(ch04.check_sgd_epoch, lambda b, X, y, lr, order, batch_size: b, "differs from the reference"),
        wrong(ch04.check_sgd_epoch, scan_pair_epoch, "return only the carry"),
    ],
    "check_fit_standard_error": [
        right(ch04.check_fit_standard_error, fit_se_formula),
        right(ch04.check_fit_standard_error, fit_se_jax),
        right(ch04.check_fit_standard_error, jax.jit(fit_se_jax)),
        right(ch04.check_fit_standard_error, fit_se_qr),
        right(ch04.check_fit_standard_error, fit_se_statsmodels),
        wrong(ch04.check_fit_standard_error, fit_se_with("diagonal"), "only the diagonal"),
        wrong(ch04.check_fit_standard_error, fit_se_with("added"), "standard errors do not add"),
        wrong(ch04.check_fit_standard_error, fit_se_with("n"), "not by n = 40"),
        wrong(ch04.check_fit_standard_error, fit_se_with("n - 1"), "not by n - 1 = 39"),
        wrong(ch04.check_fit_standard_error, fit_se_with("variance"), "that is a variance"),
        wrong(ch04.check_fit_standard_error, fit_se_with("new observation"), "new observation"),
        wrong(ch04.check_fit_standard_error, fit_se_with("true sigma"), "true noise level sigma = 2"),
        wrong(ch04.check_fit_standard_error, fit_se_with("no sigma"), "multiply x0^T (X^T X)^-1 x0 by sigma^2"),
        wrong(ch04.check_fit_standard_error, fit_se_with("factor"), "off by a factor of 1.1"),
        wrong(ch04.check_fit_standard_error, fit_se_with("hard-coded"), "from the X, y and x0 it is given"),
        wrong(ch04.check_fit_standard_error, fit_se_with("two numbers"), "one number"),
    ],
    "check_steps_to_tolerance": [
        right(ch04.check_steps_to_tolerance, steps_with()),
        right(ch04.check_steps_to_tolerance, jax.jit(steps_with(), static_argnames="num_steps")),
        right(ch04.check_steps_to_tolerance, steps_with(after=True)),
        right(ch04.check_steps_to_tolerance, steps_numpy),
        right(ch04.check_steps_to_tolerance, steps_while_loop),
        right(ch04.check_steps_to_tolerance, steps_python_loop),
        wrong(ch04.check_steps_to_tolerance, steps_with(never=None), "argmax returns for an all-False array"),
        wrong(ch04.check_steps_to_tolerance, steps_with(never=lambda k: k), "not num_steps"),
        wrong(ch04.check_steps_to_tolerance, steps_with(gradient_factor=lambda n: n), "sum of squares"),
        wrong(ch04.check_steps_to_tolerance, steps_with(criterion="gradient"), "gradient's norm"),
        wrong(ch04.check_steps_to_tolerance, steps_with(criterion="norm"), "Euclidean distance"),
        wrong(ch04.check_steps_to_tolerance, steps_with(criterion="loss"), "the loss is within tol"),
        wrong(ch04.check_steps_to_tolerance, steps_with(result="coefficients"), "coefficients for each learning rate"),
        wrong(
            ch04.check_steps_to_tolerance,
            lambda X, y, lrs, tol, num_steps: steps_with()(X, y, lrs / 2, tol, num_steps),  # the gradient without its 2
            "every coefficient is first within",
        ),
        wrong(ch04.check_steps_to_tolerance, steps_relative, "every coefficient is first within"),
        wrong(ch04.check_steps_to_tolerance, steps_from_ones, "every coefficient is first within"),
        wrong(
            ch04.check_steps_to_tolerance,
            lambda X, y, lrs, tol, num_steps: jnp.array([-1, 1556, 516, -1, -1]),  # the chapter's counts
            "one count per learning rate",
        ),
        wrong(
            ch04.check_steps_to_tolerance,
            lambda X, y, lrs, tol, num_steps: steps_with()(X, y, lrs, tol, num_steps) + 0.5,
            "whole numbers",
        ),
    ],
    "check_slope_estimates": [
        right(ch04.check_slope_estimates, solve_slopes),
        right(ch04.check_slope_estimates, lstsq_slopes),
        right(ch04.check_slope_estimates, numpy_batched_slopes),
        right(ch04.check_slope_estimates, jitted_slopes),
        right(ch04.check_slope_estimates, one_draw_slopes),
        wrong(ch04.check_slope_estimates, reused_key_slopes, "split the key"),
        wrong(
            ch04.check_slope_estimates,
            lambda key, X, num_reps: solve_slopes(key, X, num_reps, noise_sd=1.0),
            "times too little",
        ),
        wrong(ch04.check_slope_estimates, own_design_slopes, "refit with that X"),
        wrong(ch04.check_slope_estimates, formula_slopes, "refit with that X"),
        wrong(ch04.check_slope_estimates, se_slopes, "standard errors"),
        wrong(ch04.check_slope_estimates, all_coefficients, "only the slope b1"),
        wrong(ch04.check_slope_estimates, fixed_seed_slopes, "two different keys"),
        wrong(ch04.check_slope_estimates, column_slopes(0), "that is column 0"),
        wrong(ch04.check_slope_estimates, column_slopes(2), "that is column 2"),
        wrong(ch04.check_slope_estimates, column_slopes(1, noise_sd=9.0), "its variance 9"),
    ],
}
CHECKS = {
    "check_ridge_gradient": (ch04.check_ridge_gradient, True),
    "check_sgd_epoch": (ch04.check_sgd_epoch, True),
    "check_fit_standard_error": (ch04.check_fit_standard_error, True),
    "check_steps_to_tolerance": (ch04.check_steps_to_tolerance, True),
    "check_slope_estimates": (ch04.check_slope_estimates, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch04) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
