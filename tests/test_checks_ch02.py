"""The corpus of Chapter 2's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch02


def max_lr(value):
    return ch02.check_max_learning_rate(value, a=2.0, b=25.0)


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


def back_x(b, x_mean, x_sd):
    slope = b[1] / x_sd
    return b[0] - slope * x_mean, slope


CORPUS = {
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
    "check_max_learning_rate": [
        right(max_lr, 0.04),
        right(max_lr, 2 / (2 * 25)),
        right(max_lr, np.float32(0.04)),
        right(max_lr, jnp.array(0.04)),
        right(max_lr, 0.0400013),  # where the bisection of the exercise ends: 500 steps there end below the start
        right(max_lr, 0.04001),  # within 0.1 % of the limit
        right(max_lr, 0.1 * 0.4),
        wrong(max_lr, 0.5, "shallow direction"),
        wrong(max_lr, 0.08, "drop the 2"),
        wrong(max_lr, 0.02, "lands on 0"),
        wrong(max_lr, 1 / 27, "best fixed learning rate"),
        wrong(max_lr, 0.041, "just above the limit"),
        wrong(max_lr, 0.038, "stable but not the largest"),
        wrong(max_lr, 0.0399, "not a rate safely below it"),
        wrong(max_lr, [0.04, 0.5], "one number"),
        wrong(max_lr, True, "boolean"),
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
    "check_back_transform_x": [
        right(ch02.check_back_transform_x, back_x),
        right(ch02.check_back_transform_x, lambda *args: jnp.array(back_x(*args))),
        right(ch02.check_back_transform_x, lambda *args: [float(v) for v in back_x(*args)]),
        right(ch02.check_back_transform_x, jax.jit(back_x)),
        # the line evaluated at x = 0
        right(ch02.check_back_transform_x, lambda b, m, s: (b[0] + b[1] * (0.0 - m) / s, b[1] / s)),
        wrong(ch02.check_back_transform_x, lambda b, m, s: (b[0], b[1] / s), "missing - slope * x_mean"),
        wrong(ch02.check_back_transform_x, lambda b, m, s: (b[0] + b[1] / s * m, b[1] / s), "adds slope * x_mean"),
        wrong(ch02.check_back_transform_x, lambda b, m, s: (b[0] - b[1] * m, b[1] / s), "standardised units"),
        wrong(ch02.check_back_transform_x, lambda b, m, s: (b[0] - b[1] * s * m, b[1] * s), "scaled the wrong way"),
        wrong(ch02.check_back_transform_x, lambda b, m, s: (b[0] - b[1] * m, b[1]), "per standard deviation"),
        wrong(ch02.check_back_transform_x, lambda *args: back_x(*args)[::-1], "wrong order"),
    ],
}
CHECKS = {
    "check_gradient_step": (ch02.check_gradient_step, True),
    "check_max_learning_rate": (max_lr, False),
    "check_regression_gradient": (ch02.check_regression_gradient, True),
    "check_back_transform_x": (ch02.check_back_transform_x, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch02) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
