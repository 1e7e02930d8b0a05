"""The corpus of Chapter 2's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch02


def grid_nested(loss_fn, intercepts, slopes, x, y):
    def at(b0, b1):
        return loss_fn(jnp.stack([b0, b1]), x, y)

    return jax.vmap(jax.vmap(at, in_axes=(0, None)), in_axes=(None, 0))(intercepts, slopes)


def grid_flat(loss_fn, intercepts, slopes, x, y):
    B0, B1 = jnp.meshgrid(intercepts, slopes)
    points = jnp.stack([B0.ravel(), B1.ravel()], axis=1)
    return jax.vmap(loss_fn, in_axes=(0, None, None))(points, x, y).reshape(B0.shape)


def grid_in_axes(loss_fn, intercepts, slopes, x, y):
    def at(b0, b1, x, y):
        return loss_fn(jnp.array([b0, b1]), x, y)

    row = jax.vmap(at, in_axes=(0, None, None, None))
    return jax.vmap(row, in_axes=(None, 0, None, None))(intercepts, slopes, x, y)


def grid_loop(loss_fn, intercepts, slopes, x, y):
    return [[float(loss_fn(jnp.array([b0, b1]), x, y)) for b0 in intercepts] for b1 in slopes]


def grid_row_loop(loss_fn, intercepts, slopes, x, y):  # one vmap per row, in a Python loop over the slopes
    return jnp.stack([jax.vmap(lambda b0: loss_fn(jnp.stack([b0, b1]), x, y))(intercepts) for b1 in slopes])


def grid_lax_map(loss_fn, intercepts, slopes, x, y):
    return jax.lax.map(lambda b1: jax.vmap(lambda b0: loss_fn(jnp.stack([b0, b1]), x, y))(intercepts), slopes)


def grid_vectorize(loss_fn, intercepts, slopes, x, y):
    B0, B1 = jnp.meshgrid(intercepts, slopes)
    return jnp.vectorize(lambda b0, b1: loss_fn(jnp.stack([b0, b1]), x, y))(B0, B1)


def grid_ij_transposed(loss_fn, intercepts, slopes, x, y):  # indexing="ij", then transposed back: fine
    return grid_ij(loss_fn, intercepts, slopes, x, y).T


def grid_ij(loss_fn, intercepts, slopes, x, y):
    B0, B1 = jnp.meshgrid(intercepts, slopes, indexing="ij")
    points = jnp.stack([B0.ravel(), B1.ravel()], axis=1)
    return jax.vmap(loss_fn, in_axes=(0, None, None))(points, x, y).reshape(B0.shape)


def grid_no_in_axes(loss_fn, intercepts, slopes, x, y):
    B0, B1 = jnp.meshgrid(intercepts, slopes)
    return jax.vmap(loss_fn)(jnp.stack([B0.ravel(), B1.ravel()], axis=1), x, y).reshape(B0.shape)


def grid_swapped(loss_fn, intercepts, slopes, x, y):
    B0, B1 = jnp.meshgrid(intercepts, slopes)
    points = jnp.stack([B1.ravel(), B0.ravel()], axis=1)
    return jax.vmap(loss_fn, in_axes=(0, None, None))(points, x, y).reshape(B0.shape)


def lr_bisection(loss_fn, params):
    from jaxbook.train import gradient_descent

    def diverges(lr):
        _, history = gradient_descent(loss_fn, params, lr=lr, num_steps=500, check_divergence=False)
        return not bool(history["loss"][-1] <= history["loss"][0])

    low, high = 0.0, 1.0
    while not diverges(high):
        low, high = high, 2 * high
    while high - low > 1e-6 * high:
        middle = (low + high) / 2
        low, high = (low, middle) if diverges(middle) else (middle, high)
    return (low + high) / 2


def lr_scan_geometric(loss_fn, params):
    """Its own scan of 1000 steps, a bracket grown from 1e-3 and bisection at the geometric mean."""

    @jax.jit
    def ratio(lr):
        def step(t, _):
            return t - lr * jax.grad(loss_fn)(t), None

        final, _ = jax.lax.scan(step, params, length=1000)
        return loss_fn(final) / loss_fn(params)

    def diverges(lr):
        value = ratio(lr)
        return bool(~jnp.isfinite(value) | (value > 1.0))

    low, high = 1e-3, 2e-3
    while not diverges(high):
        low, high = high, 2 * high
    while diverges(low):
        low, high = low / 2, low
    while high / low > 1 + 1e-6:
        middle = float(np.sqrt(low * high))
        low, high = (low, middle) if diverges(middle) else (middle, high)
    return jnp.float32(low)


def lr_fixed_bracket(loss_fn, params):
    from jaxbook.train import gradient_descent

    def diverges(lr):
        _, history = gradient_descent(loss_fn, params, lr=lr, num_steps=500, check_divergence=False)
        return not bool(history["loss"][-1] <= history["loss"][0])

    low, high = 0.01, 0.1
    while high - low > 1e-6:
        middle = (low + high) / 2
        low, high = (low, middle) if diverges(middle) else (middle, high)
    return (low + high) / 2


def lr_predicted(loss_fn, params, factor=2.0):
    return factor / jnp.max(jnp.linalg.eigvalsh(jax.hessian(loss_fn)(params)))


def back_quadratic(b, m, s):
    return b[0] - b[1] * m / s + b[2] * m**2 / s**2, b[1] / s - 2 * b[2] * m / s**2, b[2] / s**2


def back_quadratic_polynomial(b, m, s):  # by composing polynomials: b(x_s) with x_s = x / s - m / s
    composed = np.polynomial.Polynomial(np.asarray(b, np.float64))(np.polynomial.Polynomial([-m / s, 1.0 / s]))
    return composed.coef


def step(f, params, lr):
    return jax.tree.map(lambda p, g, rate: p - rate * g, params, jax.grad(f)(params), lr)


def step_flat(f, params, lr):
    flat, unravel = ravel_pytree(params)
    grads, _ = ravel_pytree(jax.grad(f)(params))
    rates, _ = ravel_pytree(jax.tree.map(lambda p, rate: jnp.full(jnp.shape(p), rate), params, lr))
    return unravel(flat - rates * grads)


def step_dict(f, params, lr):
    grads = jax.grad(f)(params)
    if isinstance(params, dict):
        return {name: params[name] - lr[name] * grads[name] for name in params}
    return params - lr * grads


def step_one_rate(f, params, lr):
    return jax.tree.map(lambda p, g: p - lr * g, params, jax.grad(f)(params))


def step_array_only(f, t, lr):
    return t - lr * jax.grad(f)(t)


def step_by_library(f, params, lr):
    from jaxbook.train import gradient_descent

    return gradient_descent(f, params, lr=lr, num_steps=1)[0]


def hand_gradient(b, x, y):
    errors = b[0] + b[1] * x - y
    n = x.shape[0]
    return jnp.array([2.0 / n * jnp.sum(errors), 2.0 / n * jnp.sum(errors * x)])


def mse(b, x, y):
    return jnp.mean((b[0] + b[1] * x - y) ** 2)


CORPUS = {
    "check_loss_grid": [
        right(ch02.check_loss_grid, grid_nested),
        right(ch02.check_loss_grid, grid_flat),
        right(ch02.check_loss_grid, grid_in_axes),
        right(ch02.check_loss_grid, jax.jit(grid_flat, static_argnums=0)),
        right(ch02.check_loss_grid, grid_lax_map),
        right(ch02.check_loss_grid, grid_vectorize),
        right(ch02.check_loss_grid, grid_ij_transposed),
        wrong(ch02.check_loss_grid, grid_loop, "Python loop"),  # right values, but not what the exercise asks
        wrong(ch02.check_loss_grid, grid_row_loop, "Python loop"),
        wrong(ch02.check_loss_grid, grid_ij, "transposed"),
        wrong(ch02.check_loss_grid, lambda *args: grid_nested(*args).T, "transposed"),
        wrong(ch02.check_loss_grid, grid_no_in_axes, "in_axes=None"),
        wrong(ch02.check_loss_grid, grid_swapped, "(slope, intercept)"),
        wrong(ch02.check_loss_grid, lambda *args: grid_flat(*args).ravel(), "reshape"),
        wrong(ch02.check_loss_grid, lambda *args: jnp.zeros((4, 5)), "differs from the reference"),
    ],
    "check_gradient_step": [
        right(ch02.check_gradient_step, step),
        right(ch02.check_gradient_step, jax.jit(step, static_argnums=(0,))),
        right(ch02.check_gradient_step, step_flat),
        right(ch02.check_gradient_step, step_dict),
        right(
            ch02.check_gradient_step,
            lambda f, p, lr: jax.tree_util.tree_map(lambda a, g, r: a - r * g, p, jax.value_and_grad(f)(p)[1], lr),
        ),
        right(
            ch02.check_gradient_step,
            lambda f, p, lr: jax.tree.map(
                lambda a, g, r: np.asarray(a, np.float64) - r * np.asarray(g, np.float64), p, jax.grad(f)(p), lr
            ),
        ),
        wrong(ch02.check_gradient_step, step_array_only, "jax.tree.map"),
        wrong(ch02.check_gradient_step, step_one_rate, "one rate per leaf"),
        # one step of jaxbook.train.gradient_descent takes one learning rate for every leaf
        wrong(ch02.check_gradient_step, step_by_library, "one rate per leaf"),
        wrong(
            ch02.check_gradient_step,
            lambda f, p, lr: jax.tree.map(lambda a, g, r: a + r * g, p, jax.grad(f)(p), lr),
            "uphill",
        ),
        wrong(
            ch02.check_gradient_step,
            lambda f, p, lr: jax.tree.map(lambda a, g: a - g, p, jax.grad(f)(p)),
            "ignores the learning rate",
        ),
        wrong(
            ch02.check_gradient_step,
            lambda f, p, lr: jax.tree.map(lambda g, r: -r * g, jax.grad(f)(p), lr),
            "not only the change",
        ),
        wrong(ch02.check_gradient_step, lambda f, p, lr: jax.grad(f)(p), "that is the gradient"),
        wrong(ch02.check_gradient_step, lambda f, t, lr: t - lr * t, "uses t instead of the gradient"),
        # on the bowl t - (lr / 2) * 2t = t - lr * t: the other inputs tell the two slips apart
        wrong(ch02.check_gradient_step, lambda f, t, lr: t - lr / 2 * jax.grad(f)(t), "0.5 times lr * gradient"),
        wrong(ch02.check_gradient_step, lambda f, t, lr: jnp.sum(t - lr * jax.grad(f)(t)), "shape"),
        wrong(
            ch02.check_gradient_step,
            lambda f, p, lr: list(jax.tree.leaves(step(f, p, lr))) if isinstance(p, dict) else step(f, p, lr),
            "same keys",
        ),
        wrong(
            ch02.check_gradient_step,
            lambda f, p, lr: {**step(f, p, lr), "b": p["b"]} if isinstance(p, dict) else step(f, p, lr),
            "leaf",
        ),
        wrong(
            ch02.check_gradient_step,
            lambda f, p, lr: step(f, p, {"w": lr["b"], "b": lr["w"]}) if isinstance(p, dict) else step(f, p, lr),
            "rate of",
        ),
    ],
    "check_max_stable_lr": [
        right(ch02.check_max_stable_lr, lr_bisection),
        right(ch02.check_max_stable_lr, lr_scan_geometric),
        right(ch02.check_max_stable_lr, lambda loss_fn, params: np.float32(lr_bisection(loss_fn, params))),
        wrong(ch02.check_max_stable_lr, lambda loss_fn, params: 0.04, "on every problem"),
        wrong(ch02.check_max_stable_lr, lr_predicted, "the prediction, computed"),
        wrong(ch02.check_max_stable_lr, lambda f, p: lr_predicted(f, p, factor=1.0), "half the boundary"),
        wrong(ch02.check_max_stable_lr, lr_fixed_bracket, "outside the bracket"),
        wrong(ch02.check_max_stable_lr, lambda f, p: lr_predicted(f, p, factor=1.9), "below the boundary"),
        wrong(ch02.check_max_stable_lr, lambda f, p: lr_predicted(f, p, factor=2.1), "just above"),
        wrong(ch02.check_max_stable_lr, lambda f, p: (0.01, 0.02), "one number"),
    ],
    "check_regression_gradient": [
        right(ch02.check_regression_gradient, hand_gradient),
        right(ch02.check_regression_gradient, jax.grad(mse)),
        right(
            ch02.check_regression_gradient,
            lambda b, x, y: [jnp.mean(2 * (b[0] + b[1] * x - y)), jnp.mean(2 * (b[0] + b[1] * x - y) * x)],
        ),
        right(
            ch02.check_regression_gradient,
            jax.jit(lambda b, x, y: 2 / len(x) * jnp.stack([jnp.ones_like(x), x]) @ (b[0] + b[1] * x - y)),
        ),
        right(ch02.check_regression_gradient, lambda b, x, y: tuple(np.asarray(hand_gradient(b, x, y), np.float64))),
        wrong(ch02.check_regression_gradient, lambda b, x, y: hand_gradient(b, x, y) * x.shape[0], "not 2 (a sum)"),
        wrong(
            ch02.check_regression_gradient,
            lambda b, x, y: hand_gradient(b, x, y) * x.shape[0] / (x.shape[0] - 1),
            "n - 1",
        ),
        wrong(ch02.check_regression_gradient, lambda b, x, y: hand_gradient(b, x, y) / 2, "factor of 2"),
        wrong(ch02.check_regression_gradient, lambda b, x, y: hand_gradient(b, x, y)[::-1], "swapped"),
        wrong(ch02.check_regression_gradient, lambda b, x, y: -hand_gradient(b, x, y), "wrong sign"),
    ],
    "check_back_transform_quadratic": [
        right(ch02.check_back_transform_quadratic, back_quadratic),
        right(ch02.check_back_transform_quadratic, jax.jit(back_quadratic)),
        right(ch02.check_back_transform_quadratic, lambda *args: jnp.array(back_quadratic(*args))),
        right(ch02.check_back_transform_quadratic, lambda *args: [float(c) for c in back_quadratic(*args)]),
        right(ch02.check_back_transform_quadratic, back_quadratic_polynomial),
        wrong(ch02.check_back_transform_quadratic, lambda *args: back_quadratic(*args)[::-1], "polyfit order"),
        wrong(
            ch02.check_back_transform_quadratic,
            lambda b, m, s: (b[0] - b[1] * m / s, b[1] / s, b[2] / s**2),
            "expand the square",
        ),
        wrong(
            ch02.check_back_transform_quadratic,
            lambda b, m, s: (back_quadratic(b, m, s)[0], b[1] / s, b[2] / s**2),
            "cross term",
        ),
        wrong(
            ch02.check_back_transform_quadratic,
            lambda b, m, s: (b[0] - b[1] * m / s, *back_quadratic(b, m, s)[1:]),
            "constant of the square",
        ),
        wrong(
            ch02.check_back_transform_quadratic, lambda b, m, s: (*back_quadratic(b, m, s)[:2], b[2] / s), "b2 / s^2"
        ),
        wrong(ch02.check_back_transform_quadratic, lambda b, m, s: back_quadratic(b, -m, s), "wrong sign"),
        wrong(ch02.check_back_transform_quadratic, lambda b, m, s: back_quadratic(b, m, s)[:2], "three numbers"),
    ],
}
CHECKS = {
    "check_loss_grid": (ch02.check_loss_grid, True),
    "check_gradient_step": (ch02.check_gradient_step, True),
    "check_max_stable_lr": (ch02.check_max_stable_lr, True),
    "check_regression_gradient": (ch02.check_regression_gradient, True),
    "check_back_transform_quadratic": (ch02.check_back_transform_quadratic, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch02) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
