"""Reading what students hand in, and comparing it with a reference: the half of the checkers'
machinery that looks at answers (:mod:`jaxbook.checks._core` runs them).

- :func:`as_array`, :func:`as_number`, :func:`as_whole_number` and :func:`as_values` accept what
  students hand in (JAX or NumPy arrays, tuples, lists, float32 or float64, 0-d arrays, NumPy
  scalars);
- :func:`compare_arrays` and :func:`compare_functions` name the usual slips (shape, NaN, sign, a
  constant factor, a transpose, reversed entries), with :func:`sample_size_hints` naming the
  factors ``n``, ``1/n`` and ``n/(n-1)``.

Introduced in Chapter 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from jaxbook.checks._core import Feedback, StudentError, call_student, fail, placeholder, short_message


def as_array(answer: Any) -> np.ndarray | None:
    """``answer`` as a float64 NumPy array, or ``None`` if it is not numeric.

    Accepts JAX and NumPy arrays, Python and NumPy scalars, and (nested) tuples or lists of them.

    Example:
      >>> as_array((np.float32(1.5), 2))
      array([1.5, 2. ])
      >>> as_array("abc") is None
      True
    """
    if answer is None or answer is Ellipsis or isinstance(answer, (str, bytes, dict)) or callable(answer):
        return None
    try:
        array = np.asarray(answer)
        if array.dtype == object and isinstance(answer, (tuple, list)):
            array = np.asarray([np.asarray(a, dtype=np.float64) for a in answer])
        if array.dtype.kind not in "biuf":
            return None
        return array.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        return None


_as_array = as_array  # the name used before the checkers shared one core


def as_number(answer: Any, name: str) -> float:
    """``answer`` as one finite float; raise a :class:`StudentError` naming what is wrong.

    Example:
      >>> as_number(np.float32(0.25), "lr")
      0.25
    """
    problem = placeholder(answer, name)
    if problem is not None:
        raise StudentError(problem.message)
    if isinstance(answer, bool):
        raise fail(f"{name} should be a number; got the boolean {answer}")
    array = as_array(answer)
    if array is None:
        raise fail(f"{name} should be a number; got {type(answer).__name__}")
    if array.size != 1:
        raise fail(f"{name} should be one number; got an array of shape {array.shape}")
    value = float(array.reshape(()))
    if not math.isfinite(value):
        raise fail(f"{name} is {value}: it should be a finite number")
    return value


def as_whole_number(answer: Any, name: str) -> int:
    """``answer`` as an ``int``; a float is accepted only if it is whole (``6.0``, not ``6.5``).

    Example:
      >>> as_whole_number(np.int64(6), "order")
      6
    """
    value = as_number(answer, name)
    if not float(value).is_integer():
        raise fail(f"{name} should be a whole number; got {value:g}")
    return int(value)


def as_values(answer: Any, count: int, name: str, what: str) -> np.ndarray:
    """``answer`` as ``count`` numbers: a tuple, a list or an array of shape ``(count,)``.

    ``what`` describes them in messages, e.g. ``"(intercept, slope)"``.

    Example:
      >>> as_values((np.float32(1.0), np.array(2.0)), 2, "fit", "(intercept, slope)")
      array([1., 2.])
    """
    array = as_array(answer)
    if array is None:
        raise fail(f"{name} should be {count} numbers {what}; got {type(answer).__name__}")
    if array.shape != (count,):
        raise fail(f"{name} should be {count} numbers {what}; got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise fail(f"{name} contains NaN or infinity: {_fmt(array)}")
    return array


def _fmt(values: np.ndarray) -> str:
    return np.array2string(np.asarray(values), precision=3, suppress_small=True, separator=", ")


# --- comparing -------------------------------------------------------------------------------------


def sample_size_hints(n: int, *, mean: bool = True) -> dict[float, str]:
    """Hints for the factors that normalisation slips produce on ``n`` examples.

    With ``mean=True`` the expected value is a mean (``1/n``); otherwise it is a sum.

    Example:
      >>> sorted(sample_size_hints(10))
      [0.1, 1.1111111111111112, 10.0]
    """
    if mean:
        return {
            float(n): f"that is a sum over the n = {n} examples; this is a mean, so divide by n",
            1.0 / n: f"you divided by n = {n} once too often: the value is already a mean",
            n / (n - 1): f"you divided by n - 1 = {n - 1} instead of n = {n}",
        }
    return {
        1.0 / n: f"you divided by n = {n}: this is a sum, not a mean (the mean-gradient slip)",
        1.0 / (n - 1): f"you divided by n - 1 = {n - 1}: this is a sum, not a mean",
        float(n): f"you multiplied by n = {n}",
    }


def compare_arrays(
    answer: Any,
    expected: Any,
    *,
    name: str = "your answer",
    rtol: float = 1e-4,
    atol: float = 1e-4,
    hints: dict[float, str] | None = None,
) -> Feedback:
    """Compare a numeric answer with the expected value and name the slip if there is one.

    Args:
      answer: the student's number or array (JAX, NumPy, tuple or list; any float dtype).
      expected: the reference value.
      name: how to call the answer in the message.
      rtol, atol: tolerances as in ``np.allclose``.
      hints: optional explanations for particular factors, e.g. ``{0.5: "did you drop the 2?"}``.

    Returns:
      A :class:`Feedback`; it never raises.

    Example:
      >>> compare_arrays([2.0, 4.0], [1.0, 2.0])
      Not yet: your answer is off by a factor of 2: it is 2 times the expected value
    """
    try:
        return _compare_arrays(answer, expected, name, rtol, atol, hints)
    except Exception as exc:
        return Feedback(
            False, f"{name} could not be compared with the reference: {type(exc).__name__}: {short_message(exc)}"
        )


def _compare_arrays(answer, expected, name, rtol, atol, hints) -> Feedback:
    expected = np.asarray(expected, dtype=np.float64)
    problem = placeholder(answer, name)
    if problem is not None:
        return problem
    got = as_array(answer)
    if got is None:
        return Feedback(False, f"{name} should be numeric; got {type(answer).__name__}")
    if got.shape != expected.shape:
        hint = ""
        if got.size == expected.size:
            hint = f" (same number of entries: reshape it, e.g. with .reshape{expected.shape} or .ravel())"
        return Feedback(False, f"{name} has shape {got.shape}, expected {expected.shape}{hint}")
    if not np.all(np.isfinite(got)):
        return Feedback(False, f"{name} contains NaN or infinity: {_fmt(got)}")
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        shown = f" = {_fmt(got)}" if got.size <= 6 else ""
        return Feedback(True, f"{name}{shown} agrees with the reference")
    if np.allclose(-got, expected, rtol=rtol, atol=atol):
        return Feedback(False, f"{name} has the wrong sign: it is minus the expected value")
    if got.ndim == 2 and got.shape[0] == got.shape[1] and np.allclose(got.T, expected, rtol=rtol, atol=atol):
        return Feedback(False, f"{name} is the transpose of the expected matrix")
    if got.ndim == 1 and got.size > 1 and np.allclose(got[::-1], expected, rtol=rtol, atol=atol):
        return Feedback(False, f"{name} has its entries in reverse order: {_fmt(got)} vs {_fmt(expected)}")
    scale = np.abs(expected).max() if expected.size else 0.0
    mask = np.abs(expected) > 1e-6 * max(scale, 1e-300)
    if mask.any():
        ratios = got[mask] / expected[mask]
        factor = float(np.median(ratios))
        if factor != 0 and np.allclose(got, factor * expected, rtol=rtol, atol=atol):
            hint = ""
            for known, text in (hints or {}).items():
                if np.isclose(factor, known, rtol=1e-3):
                    hint = f": {text}"
            return Feedback(
                False,
                f"{name} is off by a factor of {factor:.4g}: it is {factor:.4g} times the expected value{hint}",
            )
    error = np.abs(got - expected)
    worst = np.unravel_index(int(np.argmax(error)), error.shape) if error.ndim else ()
    where = f" at index {worst if len(worst) > 1 else worst[0]}" if worst else ""
    return Feedback(
        False,
        f"{name} differs from the reference{where}: got {float(got[worst]):.6g}, expected {float(expected[worst]):.6g}",
    )


def compare_functions(
    function: Callable[..., Any],
    reference: Callable[..., Any],
    test_inputs: Sequence[tuple[Any, ...]],
    *,
    name: str = "your function",
    rtol: float = 1e-4,
    atol: float = 1e-4,
    hints: dict[float, str] | Callable[..., dict[float, str]] | None = None,
) -> Feedback:
    """Call ``function`` and ``reference`` on each tuple of arguments and compare the results.

    The first disagreement is diagnosed by :func:`compare_arrays`; the student's function is
    called by :func:`call_student`, so its errors, stubs and endless loops are reported rather
    than raised. ``hints`` may be a function of the test input's arguments.

    Example:
      >>> compare_functions(lambda x: 2 * x, lambda x: x, [(1.0,)])
      Not yet: your function(...) on test input 1 is off by a factor of 2: it is 2 times the expected value
    """
    if placeholder(function, name) is not None:
        return placeholder(function, name)
    if not callable(function):
        return Feedback(False, f"{name} should be a function; got {type(function).__name__}")
    try:
        for i, args in enumerate(test_inputs, start=1):
            got = call_student(function, *args, name=name, where=f"on test input {i}")
            expected = reference(*args)
            these_hints = hints(*args) if callable(hints) else hints
            result = _compare_outputs(got, expected, f"{name}(...) on test input {i}", rtol, atol, these_hints)
            if not result.ok:
                return result
    except StudentError as exc:
        return exc.feedback
    return Feedback(True, f"{name} agrees with the reference on {len(test_inputs)} test inputs")


def _compare_outputs(got: Any, expected: Any, name: str, rtol: float, atol: float, hints) -> Feedback:
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            flat = as_array(got)
            if flat is not None and flat.shape == (len(expected),) and all(np.ndim(e) == 0 for e in expected):
                got = tuple(flat)
            else:
                return Feedback(
                    False, f"{name} should return a tuple of {len(expected)} values; got {type(got).__name__}"
                )
        if all(np.ndim(g) == 0 for g in got) and all(np.ndim(e) == 0 for e in expected):
            return compare_arrays(
                as_array(list(got)),
                np.array([float(e) for e in expected]),
                name=name,
                rtol=rtol,
                atol=atol,
                hints=hints,
            )
        for j, (g, e) in enumerate(zip(got, expected)):
            result = compare_arrays(g, e, name=f"{name}[{j}]", rtol=rtol, atol=atol, hints=hints)
            if not result.ok:
                return result
        return Feedback(True, f"{name} matches")
    return compare_arrays(got, expected, name=name, rtol=rtol, atol=atol, hints=hints)


# --- NumPy references and problem generators -------------------------------------------------------


def require(result: Feedback) -> None:
    """Stop the check with ``result`` if it is a ``Not yet`` (:func:`jaxbook.checks._core.checker`
    turns the :class:`StudentError` into that verdict); go on if it is ``Correct``.

    Example:
      >>> require(Feedback(True, "fine"))
      >>> require(Feedback(False, "the slope is off"))
      Traceback (most recent call last):
      ...
      jaxbook.checks._core.StudentError: the slope is off
    """
    if not result.ok:
        raise StudentError(result.message)
