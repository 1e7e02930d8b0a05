"""The Chapter 1 checkers accept the right answers and name the usual slips."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxbook import data, least_squares
from jaxbook.checks import Feedback, ch01, compare_arrays, compare_functions


def test_feedback_prints_and_is_truthy():
    assert repr(Feedback(True, "fine")) == "Correct: fine"
    assert str(Feedback(False, "no")) == "Not yet: no"
    assert Feedback(True, "") and not Feedback(False, "")


@pytest.mark.parametrize(
    "answer, expected_text",
    [
        (np.array([1.0, 2.0]), "Correct"),
        (np.array([[1.0, 2.0]]), r"shape \(1, 2\), expected \(2,\) \(same number of entries"),
        (np.array([-1.0, -2.0]), "wrong sign"),
        (np.array([2.0, 4.0]), "off by a factor of 2"),
        (np.array([2.0, 1.0]), "reverse order"),
        (np.array([np.nan, 2.0]), "NaN or infinity"),
        (None, "is None"),
        ("abc", "should be numeric"),
        (np.array([1.0, 2.5]), "differs from the reference at index 1: got 2.5, expected 2"),
    ],
)
def test_compare_arrays_diagnoses(answer, expected_text):
    import re

    assert re.search(expected_text, repr(compare_arrays(answer, [1.0, 2.0])))


def test_compare_arrays_names_transpose_and_uses_hints():
    M = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transpose" in repr(compare_arrays(M.T, M))
    assert "bring" in repr(compare_arrays([0.5, 1.0], [1.0, 2.0], hints={0.5: "bring the 2 down"}))


def test_compare_functions_reports_exceptions_instead_of_raising():
    def broken(x):
        raise RuntimeError("boom")

    feedback = compare_functions(broken, lambda x: x, [(1.0,)])
    assert not feedback and "raised RuntimeError on test input 1: boom" in repr(feedback)
    assert "should be a function" in repr(compare_functions(3, lambda x: x, [(1.0,)]))


def test_check_design_matrix():
    x = jnp.array([0.5, -1.0, 2.0])
    assert ch01.check_design_matrix(least_squares.design_matrix(x), x)
    assert "columns swapped" in repr(ch01.check_design_matrix(jnp.stack([x, jnp.ones(3)], axis=1), x))
    assert "transpose it" in repr(ch01.check_design_matrix(least_squares.design_matrix(x).T, x))
    assert "all ones" in repr(ch01.check_design_matrix(jnp.stack([jnp.zeros(3), x], axis=1), x))


def test_check_gradient():
    assert ch01.check_gradient(least_squares.loss_gradient)
    assert "factor of 0.5" in repr(ch01.check_gradient(lambda b, X, y: X.T @ (X @ b - y)))
    assert "wrong sign" in repr(ch01.check_gradient(lambda b, X, y: 2 * X.T @ (y - X @ b)))
    assert "shape" in repr(ch01.check_gradient(lambda b, X, y: (2 * X.T @ (X @ b - y))[:, None]))


def test_check_celsius_fit():
    c, f = data.celsius_fahrenheit(jax.random.key(7))
    b = least_squares.lstsq(least_squares.design_matrix(c), f)
    assert ch01.check_celsius_fit(b, c, f)
    assert "wrong order" in repr(ch01.check_celsius_fit(b[::-1], c, f))
    assert "physical constants" in repr(ch01.check_celsius_fit(jnp.array([32.0, 1.8]), c, f))


def test_check_simple_regression():
    assert ch01.check_simple_regression(least_squares.simple_regression)
    mixed = lambda x, y: (0.0, jnp.cov(x, y)[0, 1] / jnp.var(x))  # noqa: E731
    assert "n/(n-1)" in repr(ch01.check_simple_regression(mixed))
    swapped = lambda x, y: least_squares.simple_regression(x, y)[::-1]  # noqa: E731
    assert "wrong order" in repr(ch01.check_simple_regression(swapped))
    assert "should return a pair" in repr(ch01.check_simple_regression(lambda x, y: 1.0))


def test_check_design_matrix_with_two_points_is_not_mistaken_for_a_transpose():
    x = jnp.array([5.0, 6.0])
    assert ch01.check_design_matrix(jnp.array([[1.0, 5.0], [1.0, 6.0]]), x)
