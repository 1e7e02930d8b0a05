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


def jacobian_by_vjp(F, t):
    y, pullback = jax.vjp(F, t)
    return jax.vmap(lambda u: pullback(u)[0])(jnp.eye(y.size))


def jacobian_by_rows_loop(F, t):
    y, pullback = jax.vjp(F, t)
    rows = []
    for i in range(y.shape[0]):
        u = jnp.zeros(y.shape[0]).at[i].set(1.0)
        rows.append(pullback(u)[0])
    return jnp.stack(rows)


def jacobian_by_jvp_columns(F, t):
    columns = [jax.jvp(F, (t,), (e,))[1] for e in jnp.eye(t.size)]
    return jnp.stack(columns, axis=1)


def damped(f, t, margin, rule="right"):
    g, H = jax.grad(f)(t), jax.hessian(f)(t)
    smallest = jnp.linalg.eigvalsh(H)[0]
    lam = {
        "right": jnp.maximum(0.0, margin - smallest),
        "always": margin,
        "no margin": jnp.maximum(0.0, -smallest),
        "every entry": jnp.maximum(0.0, margin - smallest),
    }[rule]
    damped_H = H + lam if rule == "every entry" else H + lam * jnp.eye(t.shape[0])
    return t - jnp.linalg.solve(damped_H, g)


def damped_python(f, t, margin):
    H = np.asarray(jax.hessian(f)(t), np.float64)
    g = np.asarray(jax.grad(f)(t), np.float64)
    lam = max(0.0, margin - np.linalg.eigvalsh(H).min())
    return np.asarray(t, np.float64) - np.linalg.solve(H + lam * np.eye(len(g)), g)


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
    "check_jacobian": [
        right(ch03.check_jacobian, jacobian_by_vjp),
        right(ch03.check_jacobian, jax.jit(jacobian_by_vjp, static_argnums=0)),
        right(ch03.check_jacobian, jacobian_by_rows_loop),
        right(ch03.check_jacobian, jacobian_by_jvp_columns),
        right(ch03.check_jacobian, lambda F, t: np.asarray(jacobian_by_vjp(F, t), np.float64).tolist()),
        wrong(ch03.check_jacobian, lambda F, t: jacobian_by_vjp(F, t).T, "transposed"),
        wrong(ch03.check_jacobian, lambda F, t: jax.grad(lambda s: jnp.sum(F(s)))(t), "sum of the outputs"),
        wrong(ch03.check_jacobian, lambda F, t: jax.vjp(F, t)[1](jnp.eye(F(t).size)[0])[0], "first row"),
        wrong(ch03.check_jacobian, lambda F, t: jacobian_by_vjp(F, t) * 2.0, "the Jacobian on test input 1"),
    ],
    "check_damped_newton_step": [
        right(ch03.check_damped_newton_step, damped),
        right(ch03.check_damped_newton_step, jax.jit(damped, static_argnums=0)),
        right(ch03.check_damped_newton_step, damped_python),
        right(ch03.check_damped_newton_step, lambda f, t, margin: tuple(damped(f, t, jnp.float64(margin)).tolist())),
        wrong(ch03.check_damped_newton_step, lambda f, t, margin: damped(f, t, margin, rule="always"), "lam = 0"),
        wrong(ch03.check_damped_newton_step, lambda f, t, margin: damped(f, t, margin, rule="no margin"), "singular"),
        wrong(
            ch03.check_damped_newton_step,
            lambda f, t, margin: damped(f, t, margin, rule="every entry"),
            "diagonal only",
        ),
        wrong(ch03.check_damped_newton_step, lambda f, t, margin: newton(f, t), "plain Newton step"),
        wrong(ch03.check_damped_newton_step, lambda f, t, margin: 2 * t - damped(f, t, margin), "uphill"),
    ],
}
CHECKS = {
    "check_taylor_terms": (ch03.check_taylor_terms, True),
    "check_order_needed": (ch03.check_order_needed, False),
    "check_jacobian": (ch03.check_jacobian, True),
    "check_damped_newton_step": (ch03.check_damped_newton_step, True),
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
