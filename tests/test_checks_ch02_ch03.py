"""The Chapter 2 and 3 checkers accept right answers and name the typical slips."""

import math

import jax
import jax.numpy as jnp
import pytest

from jaxbook.checks import ch02, ch03

# --- Chapter 2 ---------------------------------------------------------------------------


def test_gradient_step_accepts_the_right_step():
    result = ch02.check_gradient_step(lambda f, t, lr: t - lr * jax.grad(f)(t))
    assert result.ok and "(1.6, 0.8)" in result.message


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (lambda f, t, lr: t + lr * jax.grad(f)(t), "goes uphill"),
        (lambda f, t, lr: t - jax.grad(f)(t), "ignores the learning rate"),
        (lambda f, t, lr: -lr * jax.grad(f)(t), "not only the change"),
        (lambda f, t, lr: t - lr * t, "uses t instead of the gradient"),
        (lambda f, t, lr: t[:1], "shape"),
        (lambda f, t, lr: 1 / 0, "raised ZeroDivisionError"),
        ("not a function", "should be a function"),
    ],
)
def test_gradient_step_names_the_slip(step, message):
    result = ch02.check_gradient_step(step)
    assert not result.ok and message in result.message


def test_max_learning_rate():
    assert ch02.check_max_learning_rate(0.04, a=2.0, b=25.0).ok
    assert ch02.check_max_learning_rate(0.1, a=1.0, b=10.0).ok


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0.5, "shallow direction"),
        (0.08, "drop the 2"),
        (0.02, "lands on 0 in one step"),
        (1 / 27, "best fixed learning rate"),
        (0.03, "not the largest stable rate"),
        ([0.04, 0.04], "one number"),
    ],
)
def test_max_learning_rate_names_the_slip(value, message):
    result = ch02.check_max_learning_rate(value, a=2.0, b=25.0)
    assert not result.ok and message in result.message


def hand_gradient(b, x, y):
    errors = b[0] + b[1] * x - y
    return 2.0 * jnp.array([jnp.mean(errors), jnp.mean(errors * x)])


def test_regression_gradient_accepts_autodiff_and_hand_formula():
    assert ch02.check_regression_gradient(hand_gradient).ok
    assert ch02.check_regression_gradient(jax.grad(lambda b, x, y: jnp.mean((b[0] + b[1] * x - y) ** 2))).ok


@pytest.mark.parametrize(
    ("gradient", "message"),
    [
        (lambda b, x, y: 3.0 * hand_gradient(b, x, y), "a mean over the n = 3 examples"),
        (lambda b, x, y: 0.5 * hand_gradient(b, x, y), "factor of 2"),
        (lambda b, x, y: 1.5 * hand_gradient(b, x, y), "dropped the 2"),
        (lambda b, x, y: -hand_gradient(b, x, y), "wrong sign"),
        (lambda b, x, y: hand_gradient(b, x, y)[::-1], "swapped"),
    ],
)
def test_regression_gradient_names_the_slip(gradient, message):
    result = ch02.check_regression_gradient(gradient)
    assert not result.ok and message in result.message


def back_transform(b, x_mean, x_sd, y_mean, y_sd):
    slope = b[1] * y_sd / x_sd
    return y_mean + b[0] * y_sd - slope * x_mean, slope


def test_back_transform_accepts_the_right_formula():
    assert ch02.check_back_transform(back_transform).ok


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda b, xm, xs, ym, ys: (ym + b[0] * ys - xm * ys / xs, b[1] * ys / xs), "drops the fitted slope"),
        (lambda b, xm, xs, ym, ys: (ym + b[0] * ys, b[1] * ys / xs), "missing - slope * x_mean"),
        (lambda b, xm, xs, ym, ys: (ym - b[1] * ys / xs * xm, b[1] * ys / xs), "missing b0 * y_sd"),
        (lambda b, xm, xs, ym, ys: back_transform(b, xm, xs, ym, ys)[::-1], "wrong order"),
        (lambda b, xm, xs, ym, ys: (0.0, b[1] * xs / ys), "scaled the wrong way"),
        (lambda b, xm, xs, ym, ys: (0.0, b[1]), "still in standardised units"),
        (lambda b, xm, xs, ym, ys: 1.0, "pair"),
    ],
)
def test_back_transform_names_the_slip(function, message):
    result = ch02.check_back_transform(function)
    assert not result.ok and message in result.message


# --- Chapter 3 ---------------------------------------------------------------------------


def terms(f, a, x, order, divide=math.factorial):
    h, g, out = x - a, f, []
    for n in range(order + 1):
        out.append(g(a) * h**n / divide(n))
        g = jax.grad(g)
    return jnp.array(out)


def test_taylor_terms_accepts_the_right_terms():
    assert ch03.check_taylor_terms(terms).ok


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda f, a, x, n: terms(f, a, x, n, divide=lambda k: math.factorial(max(k - 1, 0))), "(n-1)!"),
        (lambda f, a, x, n: terms(f, a, x, n, divide=lambda k: 1), "missing the division by n!"),
        (lambda f, a, x, n: terms(f, x, a, n) * 0 + terms(f, a, 2 * a - x, n), "h = x - a"),
        (lambda f, a, x, n: terms(f, a, x, n)[1:], "order + 1"),
        (lambda f, a, x, n: "terms", "array"),
    ],
)
def test_taylor_terms_names_the_slip(function, message):
    result = ch03.check_taylor_terms(function)
    assert not result.ok and message in result.message


def test_order_needed():
    assert ch03.check_order_needed(6).ok
    assert "off by one" in ch03.check_order_needed(7).message
    assert "still above 1e-3" in ch03.check_order_needed(5).message
    assert "above 1e-3" in ch03.check_order_needed(2).message
    assert "a smaller order" in ch03.check_order_needed(9).message
    assert "whole number" in ch03.check_order_needed(2.5).message


def newton(f, t):
    return t - jnp.linalg.solve(jax.hessian(f)(t), jax.grad(f)(t))


def test_newton_step_accepts_the_right_step():
    assert ch03.check_newton_step(newton).ok


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda f, t: t - jax.grad(f)(t), "gradient step"),
        (lambda f, t: 2 * t - newton(f, t), "uphill"),
        (lambda f, t: t - jax.hessian(f)(t) @ jax.grad(f)(t), "multiplies by the Hessian"),
        (lambda f, t: newton(f, t) - t, "not only the change"),
        (lambda f, t: newton(f, t)[:1], "shape"),
    ],
)
def test_newton_step_names_the_slip(function, message):
    result = ch03.check_newton_step(function)
    assert not result.ok and message in result.message
