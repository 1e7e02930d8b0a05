"""The corpus of Chapter 2's checkers: right answers written several ways, common slips named."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch02


def max_lr(value):
    return ch02.check_max_learning_rate(value, a=2.0, b=25.0)


def step(f, t, lr):
    return t - lr * jax.grad(f)(t)


def hand_gradient(b, x, y):
    errors = b[0] + b[1] * x - y
    n = x.shape[0]
    return jnp.array([2.0 / n * jnp.sum(errors), 2.0 / n * jnp.sum(errors * x)])


def mse(b, x, y):
    return jnp.mean((b[0] + b[1] * x - y) ** 2)


def back(b, x_mean, x_sd, y_mean, y_sd):
    slope = b[1] * y_sd / x_sd
    return y_mean + b[0] * y_sd - slope * x_mean, slope


CORPUS = {
    "check_gradient_step": [
        right(ch02.check_gradient_step, step),
        right(ch02.check_gradient_step, jax.jit(step, static_argnums=(0,))),
        right(ch02.check_gradient_step, lambda f, t, lr: t - lr * jax.value_and_grad(f)(t)[1]),
        right(
            ch02.check_gradient_step,
            lambda f, t, lr: np.asarray(t, np.float64) - lr * np.asarray(jax.grad(f)(t), np.float64),
        ),
        wrong(ch02.check_gradient_step, lambda f, t, lr: t + lr * jax.grad(f)(t), "uphill"),
        wrong(ch02.check_gradient_step, lambda f, t, lr: t - jax.grad(f)(t), "ignores the learning rate"),
        wrong(ch02.check_gradient_step, lambda f, t, lr: -lr * jax.grad(f)(t), "not only the change"),
        wrong(ch02.check_gradient_step, lambda f, t, lr: t - lr * t, "uses t instead of the gradient"),
        wrong(ch02.check_gradient_step, lambda f, t, lr: jnp.sum(t - lr * jax.grad(f)(t)), "shape"),
    ],
    "check_max_learning_rate": [
        right(max_lr, 0.04),
        right(max_lr, 2 / (2 * 25)),
        right(max_lr, np.float32(0.04)),
        right(max_lr, jnp.array(0.04)),
        right(max_lr, 0.0399),  # "just below 0.04", as the prompt invites
        wrong(max_lr, 0.5, "shallow direction"),
        wrong(max_lr, 0.08, "drop the 2"),
        wrong(max_lr, 0.02, "lands on 0"),
        wrong(max_lr, 1 / 27, "best fixed learning rate"),
        wrong(max_lr, 0.041, "just above the limit"),
        wrong(max_lr, 0.038, "stable but not the largest"),
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
    "check_back_transform": [
        right(ch02.check_back_transform, back),
        right(ch02.check_back_transform, lambda *args: jnp.array(back(*args))),
        right(ch02.check_back_transform, lambda *args: [float(v) for v in back(*args)]),
        right(ch02.check_back_transform, jax.jit(back)),
        wrong(
            ch02.check_back_transform,
            lambda b, xm, xs, ym, ys: (ym + b[0] * ys - xm * ys / xs, b[1] * ys / xs),
            "drops the fitted slope",
        ),
        wrong(
            ch02.check_back_transform,
            lambda b, xm, xs, ym, ys: (ym + b[0] * ys, b[1] * ys / xs),
            "missing - slope * x_mean",
        ),
        wrong(ch02.check_back_transform, lambda b, xm, xs, ym, ys: (ym, b[1] * xs / ys), "scaled the wrong way"),
        wrong(ch02.check_back_transform, lambda *args: back(*args)[::-1], "wrong order"),
        wrong(ch02.check_back_transform, lambda b, xm, xs, ym, ys: (ym, b[1]), "standardised units"),
    ],
}
CHECKS = {
    "check_gradient_step": (ch02.check_gradient_step, True),
    "check_max_learning_rate": (max_lr, False),
    "check_regression_gradient": (ch02.check_regression_gradient, True),
    "check_back_transform": (ch02.check_back_transform, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch02) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
