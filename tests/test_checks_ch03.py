"""The corpus of Chapter 3's checkers: right answers written several ways, common slips named."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_checks_core import Computed, assert_corpus_size, params, right, robustness, run, wrong

from jaxbook.checks import ch03


def terms(f, a, x, order, divide=math.factorial, h=None, powers=True):
    h = x - a if h is None else h(a, x)
    out, g = [], f
    for n in range(order + 1):
        out.append(g(a) * (h**n if powers else 1.0) / divide(n))
        g = jax.grad(g)
    return jnp.array(out)


def terms_at_x(f, a, x, order):
    out, g = [], f
    for n in range(order + 1):
        out.append(g(x) * (x - a) ** n / math.factorial(n))  # the slip: derivatives at x, not at a
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
        "no max": margin - smallest,
        "largest": jnp.maximum(0.0, margin - jnp.linalg.eigvalsh(H)[-1]),
    }[rule]
    damped_H = H + lam if rule == "every entry" else H + lam * jnp.eye(t.shape[0])
    return t - jnp.linalg.solve(damped_H, g)


def damped_python(f, t, margin):
    H = np.asarray(jax.hessian(f)(t), np.float64)
    g = np.asarray(jax.grad(f)(t), np.float64)
    lam = max(0.0, margin - np.linalg.eigvalsh(H).min())
    return np.asarray(t, np.float64) - np.linalg.solve(H + lam * np.eye(len(g)), g)


@functools.cache
def log_measurement():
    """The measurement of the ch03-ex-order solution: float32 terms of log about 1 at 1.5, summed in
    float64 (the approximations and their errors). Computed when a case needs it, not at collection."""
    approximations = np.cumsum(np.asarray(terms(jnp.log, 1.0, 1.5, 8), np.float64))
    return approximations, np.abs(approximations - math.log(1.5))


def order_and_log_errors(order, change=lambda errors: errors):
    """The answer (order, errors) with the measured errors, changed by ``change``, when the case runs."""
    return Computed(lambda: (order, change(log_measurement()[1])))


LOG_TERMS_64 = np.array([0.0] + [(-1) ** (n + 1) * 0.5**n / n for n in range(1, 13)])


def order_and_errors(answer):
    order_needed, log_errors = answer
    return ch03.check_order_needed(order_needed, log_errors)


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
        wrong(ch03.check_taylor_terms, lambda f, a, x, order: jnp.cumsum(terms(f, a, x, order)), "running sums"),
        wrong(ch03.check_taylor_terms, lambda f, a, x, order: terms_at_x(f, a, x, order), "taken at x"),
    ],
    "check_order_needed": [
        right(order_and_errors, order_and_log_errors(6)),
        right(order_and_errors, order_and_log_errors(np.int64(6), lambda e: tuple(float(x) for x in e))),
        right(
            order_and_errors,
            Computed(lambda: (jnp.argmax(jnp.asarray(log_measurement()[1]) < 1e-3), jnp.asarray(log_measurement()[1]))),
        ),
        right(order_and_errors, Computed(lambda: (6.0, log_measurement()[0] - math.log(1.5)))),  # signed errors
        right(order_and_errors, (6, np.abs(np.cumsum(LOG_TERMS_64) - math.log(1.5)))),  # float64, to order 12
        wrong(order_and_errors, (6, None), "an order typed in is a guess"),
        wrong(ch03.check_order_needed, 6, "missing"),  # the order alone
        wrong(order_and_errors, order_and_log_errors(7), "off by one"),
        wrong(order_and_errors, order_and_log_errors(5), "still above 1e-3"),
        wrong(order_and_errors, order_and_log_errors(2), "above 1e-3"),
        wrong(order_and_errors, order_and_log_errors(20), "a smaller order already is"),
        wrong(order_and_errors, order_and_log_errors(6.5), "whole number"),
        wrong(order_and_errors, order_and_log_errors(-1), "0 or more"),
        wrong(order_and_errors, order_and_log_errors(5, lambda e: e[1:]), "starts at order 1"),
        wrong(order_and_errors, Computed(lambda: (6, log_measurement()[0])), "approximations"),
        wrong(order_and_errors, order_and_log_errors(6, lambda e: e / math.log(1.5)), "relative errors"),
        wrong(order_and_errors, order_and_log_errors(4, lambda e: e[:5]), "measure to a higher order"),
        wrong(order_and_errors, order_and_log_errors(6, lambda e: e * 2), "log_errors"),
    ],
    "check_jacobian": [
        right(ch03.check_jacobian, jacobian_by_vjp),
        right(ch03.check_jacobian, jax.jit(jacobian_by_vjp, static_argnums=0)),
        right(ch03.check_jacobian, jacobian_by_rows_loop),
        right(ch03.check_jacobian, lambda F, t: np.asarray(jacobian_by_vjp(F, t), np.float64).tolist()),
        wrong(ch03.check_jacobian, lambda F, t: jacobian_by_vjp(F, t).T, "transposed"),
        wrong(ch03.check_jacobian, jacobian_by_jvp_columns, "forward mode"),  # the exercise asks for vjp
        wrong(ch03.check_jacobian, lambda F, t: jax.jacfwd(F)(t), "forward mode"),
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
        wrong(ch03.check_damped_newton_step, lambda f, t, margin: damped(f, t, margin, rule="no max"), "negative"),
        wrong(ch03.check_damped_newton_step, lambda f, t, margin: damped(f, t, margin, rule="largest"), "ascending"),
        wrong(ch03.check_damped_newton_step, lambda f, t, margin: 2 * t - damped(f, t, margin), "uphill"),
    ],
}
CHECKS = {
    "check_taylor_terms": (ch03.check_taylor_terms, True),
    "check_order_needed": (lambda order_needed: ch03.check_order_needed(order_needed, log_measurement()[1]), False),
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
