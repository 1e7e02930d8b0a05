"""The checking machinery shared by every chapter's checkers.

Everything a checker needs besides the exercise itself lives here, once:

- :class:`Feedback`, the verdict (``Correct: ...`` or ``Not yet: ...``);
- :func:`checker`, the decorator that makes a checker never raise at the student: a ``None`` or
  ``...`` placeholder, a wrong type, or an error inside the checker all become ``Not yet`` and a
  sentence;
- :func:`call_student`, the one way to call the student's function: with a time limit, and with
  ``NotImplementedError``, other exceptions and a missing ``return`` reported, not raised;
- :func:`as_array`, :func:`as_number`, :func:`as_whole_number` and :func:`as_values`, which accept
  what students hand in (JAX or NumPy arrays, tuples, lists, float32 or float64, 0-d arrays, NumPy
  scalars);
- :func:`compare_arrays` and :func:`compare_functions`, which name the usual slips (shape, NaN,
  sign, a constant factor, a transpose, reversed entries), with :func:`sample_size_hints` naming
  the factors ``n``, ``1/n`` and ``n/(n-1)``;
- NumPy references (:func:`sigmoid`, :func:`softplus`, :func:`binary_cross_entropy`) and the
  problem generator :func:`regression_problems`.

Introduced in Chapter 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import math
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Seconds a student's function may run in one call before the check gives up on it.
TIME_LIMIT = 30.0


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


class StudentError(Exception):
    """Raised inside a checker to stop it with a ``Not yet`` verdict; :func:`checker` catches it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.feedback = Feedback(False, message)


def fail(message: str) -> StudentError:
    """A :class:`StudentError` to ``raise`` from deep inside a checker."""
    return StudentError(message)


def _placeholder(answer: Any, name: str) -> Feedback | None:
    if answer is None:
        return Feedback(False, f"{name} is None: replace None with your answer (did the cell compute and assign it?)")
    if answer is Ellipsis:
        return Feedback(False, f"{name} is still the placeholder ...: replace it with your answer")
    return None


def checker(name: str, *, function: bool = False) -> Callable[[Callable[..., Feedback]], Callable[..., Feedback]]:
    """Decorate a checker so that it never raises at the student.

    The first argument is the student's answer, called ``name`` in messages. ``None`` and ``...``
    get a sentence saying so; with ``function=True`` an answer that is not callable does too. A
    :class:`StudentError` becomes its ``Not yet`` verdict, and any other exception inside the
    check becomes ``Not yet`` with what happened.

    Example:
      >>> @checker("x")
      ... def check_x(x):
      ...     return Feedback(float(x) == 2.0, "x is 2")
      >>> check_x(None)
      Not yet: x is None: replace None with your answer (did the cell compute and assign it?)
      >>> check_x("two")
      Not yet: the check could not use x: ValueError: could not convert string to float: 'two'
    """

    def decorate(check: Callable[..., Feedback]) -> Callable[..., Feedback]:
        @functools.wraps(check)
        def wrapped(answer: Any, *args: Any, **kwargs: Any) -> Feedback:
            problem = _placeholder(answer, name)
            if problem is not None:
                return problem
            if function and not callable(answer):
                return Feedback(False, f"{name} should be a function; got {type(answer).__name__}")
            try:
                return check(answer, *args, **kwargs)
            except StudentError as exc:
                return exc.feedback
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:
                return Feedback(False, f"the check could not use {name}: {type(exc).__name__}: {_short(exc)}")

        return wrapped

    return decorate


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- calling the student's function, with a time limit -------------------------------------------


class _TimeLimit(BaseException):
    """Raised in the student's code when it runs too long (a BaseException, so ``except Exception``
    in the student's code does not swallow it)."""


def _run_with_signal(function: Callable[..., Any], args: tuple, kwargs: dict, limit: float) -> Any:
    def on_alarm(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, on_alarm)
    old_delay, _ = signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return function(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:  # someone else's timer was running: give it back what is left of it
            signal.setitimer(signal.ITIMER_REAL, max(old_delay - limit, 1e-3))


def _run_in_thread(function: Callable[..., Any], args: tuple, kwargs: dict, limit: float) -> Any:
    """Where signals are unavailable (not the main thread, or no SIGALRM): run in a thread, and
    stop a pure-Python loop that outlives ``limit`` by raising inside that thread."""
    outcome: dict[str, Any] = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_TimeLimit))
        thread.join(1.0)
        raise _TimeLimit
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def run_with_time_limit(function: Callable[..., Any], *args: Any, limit: float | None = None, **kwargs: Any) -> Any:
    """Call ``function(*args, **kwargs)``, raising :class:`_TimeLimit` after ``limit`` seconds.

    In the main thread a ``SIGALRM`` timer interrupts the call; elsewhere (or on Windows) the call
    runs in a helper thread that is stopped when it outlives the limit.
    """
    limit = TIME_LIMIT if limit is None else limit
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        return _run_with_signal(function, args, kwargs, limit)
    return _run_in_thread(function, args, kwargs, limit)


def _as_in_a_notebook():
    """JAX's default settings for the student's code, whatever the caller set (a test suite may
    make implicit rank promotion an error; a notebook allows it)."""
    import sys

    jax = sys.modules.get("jax")
    if jax is None:
        return contextlib.nullcontext()
    return jax.numpy_rank_promotion("allow")


def call_student(
    function: Any, *args: Any, name: str = "your function", where: str = "", allow_none: bool = False, **kwargs: Any
) -> Any:
    """Call the student's ``function``; on any problem raise a :class:`StudentError` naming it.

    ``where`` says on which input (e.g. ``"on test input 2"``). Reported: not a function, still
    the stub raising ``NotImplementedError``, any other exception, running longer than
    :data:`TIME_LIMIT`, and returning ``None`` or ``...`` (a missing ``return``).

    Example:
      >>> call_student(lambda x: 2 * x, 3.0, name="double")
      6.0
      >>> def stub(x):
      ...     raise NotImplementedError("write double here")
      >>> check = checker("double", function=True)(lambda f: call_student(f, 3.0, name="double"))
      >>> check(stub)
      Not yet: double still raises NotImplementedError: write its body, then run the check again
    """
    at = f" {where}" if where else ""
    if not callable(function):
        raise fail(f"{name} should be a function; got {type(function).__name__}")

    def in_notebook_settings():
        with _as_in_a_notebook():  # inside the call: JAX's settings are per thread
            return function(*args, **kwargs)

    try:
        result = run_with_time_limit(in_notebook_settings)
    except _TimeLimit:
        raise fail(
            f"{name} ran for more than {TIME_LIMIT:g} s{at} and was stopped: is there a loop that never ends "
            "(a while loop whose condition stays true, or a range that is far too long)?"
        ) from None
    except NotImplementedError:
        raise fail(f"{name} still raises NotImplementedError: write its body, then run the check again") from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # the student's code failed: report it, don't crash the check
        raise fail(f"{name} raised {type(exc).__name__}{at}: {_short(exc)}") from None
    if result is Ellipsis or (result is None and not allow_none):
        raise fail(f"{name} returned {result!r}{at}: did you forget the return statement?")
    return result


# --- reading answers -------------------------------------------------------------------------------


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
    problem = _placeholder(answer, name)
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
        return Feedback(False, f"{name} could not be compared with the reference: {type(exc).__name__}: {_short(exc)}")


def _compare_arrays(answer, expected, name, rtol, atol, hints) -> Feedback:
    expected = np.asarray(expected, dtype=np.float64)
    problem = _placeholder(answer, name)
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
    if _placeholder(function, name) is not None:
        return _placeholder(function, name)
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


def sigmoid(z: Any) -> np.ndarray:
    """The logistic function in float64, without overflow warnings.

    Example:
      >>> float(sigmoid(0.0))
      0.5
    """
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def softplus(z: Any) -> np.ndarray:
    """``log(1 + exp(z))`` in float64, finite for every finite ``z``."""
    return np.logaddexp(0.0, np.asarray(z, dtype=np.float64))


def binary_cross_entropy(logits: Any, y: Any, *, reduce: bool = True) -> Any:
    """The binary cross-entropy of ``logits`` and 0/1 labels ``y``, ``softplus(z) - y z``, in float64.

    Returns the mean (a float), or with ``reduce=False`` one loss per example.

    Example:
      >>> round(binary_cross_entropy([0.0, 0.0], [0.0, 1.0]), 6)
      0.693147
    """
    z = np.asarray(logits, dtype=np.float64)
    per_example = softplus(z) - np.asarray(y, dtype=np.float64) * z
    return float(np.mean(per_example)) if reduce else per_example


def regression_problems(sizes: Sequence[tuple[int, int]], seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Random float32 problems ``(b, X, y)`` with ``X`` of shape ``(n, p)``, one per ``(n, p)`` in ``sizes``.

    Example:
      >>> [X.shape for _, X, _ in regression_problems([(5, 2), (8, 3)], seed=0)]
      [(5, 2), (8, 3)]
    """
    rng = np.random.default_rng(seed)
    problems = []
    for n, p in sizes:
        X = rng.normal(size=(n, p)).astype(np.float32)
        y = rng.normal(size=n).astype(np.float32)
        b = rng.normal(size=p).astype(np.float32)
        problems.append((b, X, y))
    return problems


def call_jitted(
    function: Any, *args: Any, static_argnums: int | Sequence[int] = (), name: str = "your function", where: str = ""
) -> Any:
    """Call ``jax.jit(function)`` (one compile instead of many small dispatches), and the function
    as written if it cannot be traced (NumPy inside, Python control flow on values).

    Errors, stubs and endless loops are reported as by :func:`call_student`.
    """
    import jax  # only the checkers that run students' JAX code pay for it

    if not callable(function):
        raise fail(f"{name} should be a function; got {type(function).__name__}")
    try:
        jitted = jax.jit(function, static_argnums=static_argnums)
    except Exception:
        return call_student(function, *args, name=name, where=where)
    try:
        return call_student(jitted, *args, name=name, where=where)
    except StudentError as exc:
        if "ran for more than" in exc.feedback.message or "NotImplementedError" in exc.feedback.message:
            raise
    return call_student(function, *args, name=name, where=where)
