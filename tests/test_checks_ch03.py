"""The corpus of Chapter 3's checkers: right answers written several ways, common slips named."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_checks_core import assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch03


def terms(f, a, x, order, divide=math.factorial, h=None, powers=True):
    h = x - a if h is None else h(a, x)
    out, g = [], f
    for n in range(order + 1):
        out.append(g(a) * (h**n if powers else 1.0) / divide(n))
        g = jax.grad(g)
    return jnp.array(out)


def newton(f, t):
    return t - jnp.linalg.solve(jax.hessian(f)(t), jax.grad(f)(t))


CORPUS = {
    "check_taylor_terms": [
        right(ch03.check_taylor_terms, terms),
        right(ch03.check_taylor_terms, lambda f, a, x, order: list(terms(f, a, x, order))),
        right(
            ch03.check_taylor_terms, lambda f, a, x, order: terms(f, a, x, order, divide=lambda n: math.gamma(n + 1))
        ),
        right(ch03.check_taylor_terms, lambda f, a, x, order: np.asarray(terms(f, a, x, order), np.float64)),
        wrong(
            ch03.check_taylor_terms,
            lambda f, a, x, order: terms(f, a, x, order, divide=lambda n: math.factorial(max(n - 1, 0))),
            "(n-1)!",
        ),
        wrong(
            ch03.check_taylor_terms,
            lambda f, a, x, order: terms(f, a, x, order, divide=lambda n: 1),
            "missing the division by n!",
        ),
        wrong(ch03.check_taylor_terms, lambda f, a, x, order: terms(f, a, x, order, h=lambda a, x: a - x), "h = x - a"),
        wrong(ch03.check_taylor_terms, lambda f, a, x, order: terms(f, a, x, order)[1:], "order + 1"),
        wrong(ch03.check_taylor_terms, lambda f, a, x, order: terms(f, a, x, order, powers=False), "powers h^n"),
    ],
    "check_order_needed": [
        right(ch03.check_order_needed, 6),
        right(ch03.check_order_needed, np.int64(6)),
        right(ch03.check_order_needed, jnp.argmax(jnp.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]) < 0.5)),
        right(ch03.check_order_needed, 6.0),
        wrong(ch03.check_order_needed, 7, "off by one"),
        wrong(ch03.check_order_needed, 5, "still above 1e-3"),
        wrong(ch03.check_order_needed, 2, "above 1e-3"),
        wrong(ch03.check_order_needed, 20, "a smaller order already is"),
        wrong(ch03.check_order_needed, 6.5, "whole number"),
        wrong(ch03.check_order_needed, -1, "0 or more"),
    ],
    "check_newton_step": [
        right(ch03.check_newton_step, newton),
        right(ch03.check_newton_step, lambda f, t: t - jnp.linalg.inv(jax.hessian(f)(t)) @ jax.grad(f)(t)),
        right(
            ch03.check_newton_step, lambda f, t: t - jnp.linalg.lstsq(jax.jacfwd(jax.jacrev(f))(t), jax.grad(f)(t))[0]
        ),
        right(ch03.check_newton_step, jax.jit(newton, static_argnums=0)),
        wrong(ch03.check_newton_step, lambda f, t: t - jax.grad(f)(t), "gradient step with lr = 1"),
        wrong(ch03.check_newton_step, lambda f, t: t + jnp.linalg.solve(jax.hessian(f)(t), jax.grad(f)(t)), "uphill"),
        wrong(ch03.check_newton_step, lambda f, t: t - jax.hessian(f)(t) @ jax.grad(f)(t), "multiplies by the Hessian"),
        wrong(
            ch03.check_newton_step,
            lambda f, t: -jnp.linalg.solve(jax.hessian(f)(t), jax.grad(f)(t)),
            "not only the change",
        ),
        wrong(ch03.check_newton_step, lambda f, t: t - jax.grad(f)(t) / jnp.diag(jax.hessian(f)(t)), "diagonal"),
    ],
}
CHECKS = {
    "check_taylor_terms": (ch03.check_taylor_terms, True),
    "check_order_needed": (ch03.check_order_needed, False),
    "check_newton_step": (ch03.check_newton_step, True),
}
ROBUSTNESS = {name: robustness(check, function=function) for name, (check, function) in CHECKS.items()}


def test_corpus_covers_every_checker():
    assert set(CORPUS) == {name for name in dir(ch03) if name.startswith("check_")}
    assert_corpus_size(CORPUS)


def test_the_student_copy_stub_gets_not_yet():
    """The stub of the student copy (``order_needed = None``) once crashed the check."""
    assert "replace None" in ch03.check_order_needed(None).message


@pytest.mark.parametrize("case", params(CORPUS) + params(ROBUSTNESS))
def test_verdict(case):
    run(case)
