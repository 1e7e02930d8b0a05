"""The checkers' core, and the runner of the checker corpus.

Each chapter's test file (``test_checks_chNN.py``) holds its corpus as data: for every checker,
answers written the different valid ways students write them (which must get "Correct") and
the common wrong answers (which must get "Not yet" with a sentence naming the slip). On top,
:func:`robustness` adds to each checker the answers that must never make a checker raise:
``None``, ``...``, NaN, a wrong type, a stub raising ``NotImplementedError``, a function that
raises and one that never returns.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
import pytest

from jaxbook.checks import Feedback, _compare, _core, _references, compare_arrays, compare_functions


@dataclass(frozen=True)
class Case:
    """One answer to one checker, and the verdict it must get."""

    check: Callable[[Any], Feedback]
    answer: Any
    ok: bool
    phrase: str = ""  # a distinctive phrase of the message (required for wrong answers)
    time_limit: float | None = None


@dataclass(frozen=True)
class Computed:
    """An answer computed when its case runs, not when the test module is collected: every test
    worker collects every module, so an answer that takes seconds to build costs that in each."""

    make: Callable[[], Any]


def right(check, answer) -> Case:
    return Case(check, answer, True)


def wrong(check, answer, phrase: str) -> Case:
    return Case(check, answer, False, phrase)


def _stub(*args, **kwargs):
    raise NotImplementedError("write it here")


def _raises(*args, **kwargs):
    raise ZeroDivisionError("division by zero")


def _loops(*args, **kwargs):
    while True:
        pass


def _never_returns(*args, **kwargs):
    """An endless loop that leaves the core to the other tests while it waits to be stopped (the
    busy loop above is tested once, in this file)."""
    while True:
        time.sleep(0.01)


def _returns_nothing(*args, **kwargs):
    pass


def _returns_nan(*args, **kwargs):
    return jnp.nan


def robustness(check, *, function: bool) -> list[Case]:
    """Answers that must get "Not yet" without raising, for any checker."""
    cases = [
        Case(check, None, False, "None"),
        Case(check, ..., False, "..."),
        Case(check, "an answer", False, ""),
        Case(check, {"a": 1}, False, ""),
    ]
    if function:
        cases += [
            Case(check, float("nan"), False, "should be a function"),
            Case(check, _stub, False, "still raises NotImplementedError"),
            Case(check, _raises, False, "raised ZeroDivisionError"),
            Case(check, _returns_nothing, False, "forget the return"),
            Case(check, _returns_nan, False, ""),
            # a short limit: the case waits it out, idle, once for every checker of a function (37); any
            # positive limit takes the same path (the timer stops the call, the check reports it)
            Case(check, _never_returns, False, "was stopped", time_limit=0.02),
        ]
    else:
        cases += [
            Case(check, float("nan"), False, ""),
            Case(check, np.full(3, np.nan), False, ""),
            Case(check, _raises, False, ""),
            Case(check, _loops, False, "", time_limit=0.02),
        ]
    return cases


def run(case: Case) -> None:
    """Assert that ``case`` gets its verdict, without raising."""
    previous = _core.TIME_LIMIT
    if case.time_limit is not None:
        _core.TIME_LIMIT = case.time_limit
    try:
        feedback = case.check(case.answer.make() if isinstance(case.answer, Computed) else case.answer)
    finally:
        _core.TIME_LIMIT = previous
    assert isinstance(feedback, Feedback), feedback
    assert bool(feedback) == case.ok, feedback
    if not case.ok:
        assert case.phrase in feedback.message, feedback
        assert feedback.message, feedback


def params(table: dict[str, list[Case]]) -> list:
    """pytest parameters for a chapter's table {checker name: cases}."""
    out = []
    for name, cases in table.items():
        for i, case in enumerate(cases):
            kind = "right" if case.ok else "wrong"
            out.append(pytest.param(case, id=f"{name}-{kind}-{i}"))
    return out


def assert_corpus_size(table: dict[str, list[Case]]) -> None:
    """Every checker has at least three right and three wrong answers with a phrase."""
    for name, cases in table.items():
        rights = [c for c in cases if c.ok]
        wrongs = [c for c in cases if not c.ok and c.phrase and c.time_limit is None and c.answer is not None]
        assert len(rights) >= 3, f"{name}: {len(rights)} right answers"
        assert len(wrongs) >= 3 + 0, f"{name}: {len(wrongs)} wrong answers"


# --------------------------------------------------------------------------- the core itself


def test_feedback_prints_and_is_truthy():
    assert repr(Feedback(True, "fine")) == "Correct: fine"
    assert str(Feedback(False, "no")) == "Not yet: no"
    assert Feedback(True, "") and not Feedback(False, "")


@pytest.mark.parametrize(
    "answer, expected_text",
    [
        (np.array([1.0, 2.0]), "Correct"),
        ((1.0, 2.0), "Correct"),
        ([np.float32(1.0), jnp.array(2.0)], "Correct"),
        (jnp.array([1.0, 2.0], dtype=jnp.float32), "Correct"),
        (np.array([[1.0, 2.0]]), "shape (1, 2), expected (2,) (same number of entries"),
        (np.array([-1.0, -2.0]), "wrong sign"),
        (np.array([2.0, 4.0]), "off by a factor of 2"),
        (np.array([2.0, 1.0]), "reverse order"),
        (np.array([np.nan, 2.0]), "NaN or infinity"),
        (None, "is None"),
        (..., "placeholder"),
        ("abc", "should be numeric"),
        (lambda: 1, "should be numeric"),
        ([1.0, [2.0, 3.0]], "should be numeric"),
        (np.array([1.0, 2.5]), "differs from the reference at index 1: got 2.5, expected 2"),
    ],
)
def test_compare_arrays_diagnoses(answer, expected_text):
    feedback = compare_arrays(answer, [1.0, 2.0])
    assert expected_text in repr(feedback)


def test_compare_arrays_takes_scalars_of_every_kind():
    for answer in (2.0, np.float32(2.0), np.float64(2.0), jnp.array(2.0), np.array(2.0), 2):
        assert compare_arrays(answer, 2.0), answer


def test_compare_arrays_names_transpose_and_uses_hints():
    M = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transpose" in repr(compare_arrays(M.T, M))
    assert "bring" in repr(compare_arrays([0.5, 1.0], [1.0, 2.0], hints={0.5: "bring the 2 down"}))
    hints = _compare.sample_size_hints(10)
    assert "n - 1 = 9" in repr(compare_arrays([10 / 9], [1.0], hints=hints))
    assert "sum over the n = 10" in repr(compare_arrays([10.0], [1.0], hints=hints))


def test_compare_functions_reports_exceptions_instead_of_raising():
    def broken(x):
        raise RuntimeError("boom")

    feedback = compare_functions(broken, lambda x: x, [(1.0,)])
    assert not feedback and "raised RuntimeError on test input 1: boom" in repr(feedback)
    assert "should be a function" in repr(compare_functions(3, lambda x: x, [(1.0,)]))
    assert "None" in repr(compare_functions(None, lambda x: x, [(1.0,)]))


def test_readers():
    assert _compare.as_number(np.float32(0.5), "x") == 0.5
    assert _compare.as_whole_number(jnp.array(6), "x") == 6
    assert _compare.as_whole_number(6.0, "x") == 6
    for bad, phrase in [
        (6.5, "whole number"),
        (float("nan"), "finite"),
        (True, "boolean"),
        ([1, 2], "one number"),
        ("6", "number"),
    ]:
        with pytest.raises(_core.StudentError, match=phrase):
            _compare.as_whole_number(bad, "x")
    assert _compare.as_values(jnp.array([1.0, 2.0]), 2, "p", "(a, b)").tolist() == [1.0, 2.0]


def test_numpy_references():
    z = np.array([-800.0, -1.0, 0.0, 2.0, 800.0])
    assert np.allclose(_references.sigmoid(z), [0.0, 1 / (1 + math.e), 0.5, 1 / (1 + math.exp(-2)), 1.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    per_example = _references.binary_cross_entropy(z, y, reduce=False)
    assert np.all(np.isfinite(per_example)) and np.isclose(per_example[0], 800.0) and np.isclose(per_example[4], 800.0)
    p, t = _references.sigmoid(z[1:4]), y[1:4]
    assert np.isclose(_references.binary_cross_entropy(z[1:4], t), -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p)))


def test_time_limit_stops_a_loop_in_the_main_thread_and_in_another():
    def check():
        start = time.perf_counter()
        with pytest.raises(_core.StudentError, match="was stopped"):
            _core.call_student(_loops, name="f")
        return time.perf_counter() - start

    previous = _core.TIME_LIMIT
    _core.TIME_LIMIT = 0.2
    try:
        assert check() < 5.0
        elapsed = []
        thread = threading.Thread(target=lambda: elapsed.append(check()))
        thread.start()
        thread.join(10.0)
        assert elapsed and elapsed[0] < 5.0
        assert _core.call_student(lambda: 3, name="f") == 3  # the timer is gone afterwards
        time.sleep(0.3)
    finally:
        _core.TIME_LIMIT = previous


def test_student_code_that_catches_exceptions_is_still_stopped():
    def stubborn():
        while True:
            try:
                while True:
                    pass
            except Exception:
                pass

    previous = _core.TIME_LIMIT
    _core.TIME_LIMIT = 0.2
    try:
        with pytest.raises(_core.StudentError, match="was stopped"):
            _core.call_student(stubborn, name="f")
    finally:
        _core.TIME_LIMIT = previous


def test_checker_decorator_turns_any_exception_into_not_yet():
    @_core.checker("x")
    def check(x):
        return Feedback(True, str(1 / x))

    assert "ZeroDivisionError" in check(0).message
    assert "None" in check(None).message
