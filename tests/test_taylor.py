"""Tests for jaxbook.taylor (Chapter 3): nested-grad derivatives against closed forms."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbook import taylor


def sqrt(x):
    return x**0.5


def sqrt_derivative(n, x):
    return math.prod(0.5 - k for k in range(n)) * x ** (0.5 - n)


def test_derivatives_of_sqrt_match_closed_form():
    got = taylor.derivatives(sqrt, 49.0, 8)
    expected = [sqrt_derivative(n, 49.0) for n in range(9)]
    np.testing.assert_allclose(got, expected, rtol=2e-5)


@pytest.mark.parametrize(
    ("f", "a", "derivative"),
    [
        (jnp.exp, 0.7, lambda n, a: math.exp(a)),
        (jnp.sin, 0.3, lambda n, a: math.sin(a + n * math.pi / 2)),
        (jnp.log, 2.0, lambda n, a: math.log(a) if n == 0 else (-1) ** (n + 1) * math.factorial(n - 1) / a**n),
        (lambda x: x**3 - 2 * x, 1.5, lambda n, a: [a**3 - 2 * a, 3 * a**2 - 2, 6 * a, 6.0, 0.0, 0.0][n]),
    ],
)
def test_coefficients_match_analytic_derivatives_over_factorials(f, a, derivative):
    order = 5
    expected = [derivative(n, a) / math.factorial(n) for n in range(order + 1)]
    np.testing.assert_allclose(taylor.taylor_coefficients(f, a, order), expected, rtol=1e-4, atol=1e-6)


def test_sqrt43_reference_numbers():
    approximations = taylor.taylor_approximations(sqrt, 49.0, 43.0, 5)
    np.testing.assert_allclose(approximations[:3], [7.0, 7 - 6 / 14, 7 - 6 / 14 - 36 / (8 * 343)], rtol=1e-6)
    assert abs(float(approximations[-1]) - math.sqrt(43)) < 1e-6


def test_error_shrinks_like_6_over_49_in_float64_and_the_slip_stalls():
    with jax.enable_x64(True):
        approx = np.asarray(taylor.taylor_approximations(sqrt, 49.0, 43.0, 10))
        terms = np.asarray(taylor.taylor_terms(sqrt, 49.0, 43.0, 10))
        assert approx.dtype == np.float64
    assert jnp.asarray(1.0).dtype == jnp.float32  # x64 was switched on only inside the context
    errors = np.abs(approx - math.sqrt(43))
    ratios = errors[1:] / errors[:-1]
    assert np.all(ratios < 6 / 49) and ratios[-1] > 0.1
    assert errors[10] < 1e-11
    slip = np.cumsum(terms * np.maximum(np.arange(11), 1))  # divided by (n-1)! instead of n!
    assert abs(slip[10] - math.sqrt(43)) == pytest.approx(0.01494, abs=1e-4)
    assert abs(slip[10] - (7 - 3 / math.sqrt(43))) < 1e-8


def test_float32_stalls_at_its_rounding_level():
    errors = np.abs(np.asarray(taylor.taylor_approximations(sqrt, 49.0, 43.0, 10), np.float64) - math.sqrt(43))
    assert np.all(errors[6:] < 2e-6) and np.all(errors[6:] > 1e-7)


def test_taylor_terms_and_polynomial_agree_with_a_known_polynomial():
    # f(x) = x^3 about 2: 8 + 12 h + 6 h^2 + h^3
    f = lambda x: x**3
    np.testing.assert_allclose(taylor.taylor_terms(f, 2.0, 3.0, 3), [8.0, 12.0, 6.0, 1.0], rtol=1e-6)
    p = taylor.taylor_polynomial(f, 2.0, 3)
    xs = jnp.linspace(-1.0, 4.0, 11)
    np.testing.assert_allclose(p(xs), xs**3, rtol=1e-5, atol=1e-5)
    assert p(jnp.ones((2, 3))).shape == (2, 3)


def test_factorials():
    np.testing.assert_array_equal(taylor.factorials(5), [1, 1, 2, 6, 24, 120])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: taylor.derivatives("sqrt", 1.0, 2), r"f must be a scalar function of one variable; got str"),
        (
            lambda: taylor.derivatives(sqrt, jnp.ones(2), 2),
            r"a must be a scalar \(one expansion point\); got shape \(2,\)",
        ),
        (lambda: taylor.derivatives(sqrt, float("nan"), 2), r"a must be finite"),
        (lambda: taylor.derivatives(sqrt, 1.0, -1), r"order must be an integer between 0 and 16; got -1"),
        (lambda: taylor.derivatives(sqrt, 1.0, 2.0), r"order must be an integer between 0 and 16; got 2.0 \(float\)"),
        (lambda: taylor.taylor_terms(sqrt, 49.0, [43.0, 44.0], 2), r"x must be a scalar"),
    ],
)
def test_bad_input_is_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()
