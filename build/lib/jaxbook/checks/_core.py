"""The checking machinery shared by every chapter's checkers.

:func:`compare_arrays` diagnoses the usual slips in a numeric answer (wrong shape, NaN, flipped
sign, off by a constant factor, transposed, two entries swapped) and :func:`compare_functions`
does the same for a function by calling it on test inputs. Introduced in Chapter 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The result of a check: ``ok`` and a one-line message for the student.

    It is truthy when the answer is right, and prints as ``Correct: ...`` or ``Not yet: ...``.

    Example:
      >>> Feedback(True, "the slope is 2")
      Correct: the slope is 2
    """

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return f"{'Correct' if self.ok else 'Not yet'}: {self.message}"

    __str__ = __repr__


def _as_array(answer: Any) -> np.ndarray | None:
    try:
        return np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _fmt(values: np.ndarray) -> str:
    return np.array2string(np.asarray(values), precision=4, suppress_small=True, separator=", ")


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
      answer: the student's number or array.
      expected: the reference value.
      name: how to call the answer in the message.
      rtol, atol: tolerances as in ``np.allclose``.
      hints: optional explanations for particular factors, e.g. ``{0.5: "did you drop the 2?"}``.

    Returns:
      A :class:`Feedback`.

    Example:
      >>> compare_arrays([2.0, 4.0], [1.0, 2.0])
      Not yet: your answer is off by a factor of 2: it is 2 times the expected value
    """
    expected = np.asarray(expected, dtype=np.float64)
    if answer is None:
        return Feedback(False, f"{name} is None: did the cell compute it and return or assign it?")
    got = _as_array(answer)
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
    scale = np.abs(expected).max()
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
        f"{name} differs from the reference{where}: got {float(got[worst]):.6g}, "
        f"expected {float(expected[worst]):.6g}",
    )


def compare_functions(
    function: Callable[..., Any],
    reference: Callable[..., Any],
    test_inputs: Sequence[tuple[Any, ...]],
    *,
    name: str = "your function",
    rtol: float = 1e-4,
    atol: float = 1e-4,
    hints: dict[float, str] | None = None,
) -> Feedback:
    """Call ``function`` and ``reference`` on each tuple of arguments and compare the results.

    The first disagreement is diagnosed by :func:`compare_arrays`; an exception inside the
    student's function is reported rather than raised.

    Example:
      >>> compare_functions(lambda x: 2 * x, lambda x: x, [(1.0,)])
      Not yet: your function(...) on test input 1 is off by a factor of 2: it is 2 times the expected value
    """
    if not callable(function):
        return Feedback(False, f"{name} should be a function; got {type(function).__name__}")
    for i, args in enumerate(test_inputs, start=1):
        try:
            got = function(*args)
        except Exception as exc:  # the student's code failed: report it, don't crash the check
            return Feedback(False, f"{name} raised {type(exc).__name__} on test input {i}: {exc}")
        expected = reference(*args)
        result = _compare_outputs(got, expected, f"{name}(...) on test input {i}", rtol, atol, hints)
        if not result.ok:
            return result
    return Feedback(True, f"{name} agrees with the reference on {len(test_inputs)} test inputs")


def _compare_outputs(got: Any, expected: Any, name: str, rtol: float, atol: float, hints) -> Feedback:
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return Feedback(False, f"{name} should return a tuple of {len(expected)} values; got {type(got).__name__}")
        flat_got = np.array([float(np.asarray(g)) for g in got]) if all(np.ndim(g) == 0 for g in got) else None
        if flat_got is not None:
            return compare_arrays(flat_got, np.array([float(e) for e in expected]), name=name, rtol=rtol, atol=atol, hints=hints)
        for j, (g, e) in enumerate(zip(got, expected)):
            result = compare_arrays(g, e, name=f"{name}[{j}]", rtol=rtol, atol=atol, hints=hints)
            if not result.ok:
                return result
        return Feedback(True, f"{name} matches")
    return compare_arrays(got, expected, name=name, rtol=rtol, atol=atol, hints=hints)
