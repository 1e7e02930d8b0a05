"""The checking machinery shared by every chapter's checkers: running the student's code.

Everything a checker needs besides the exercise itself lives in three modules, once. This one has:

- :class:`Feedback`, the verdict (``Correct: ...`` or ``Not yet: ...``);
- :func:`checker`, the decorator that makes a checker never raise at the student: a ``None`` or
  ``...`` placeholder, a wrong type, or an error inside the checker all become ``Not yet`` and a
  sentence;
- :func:`call_student`, the one way to call the student's function (:func:`call_on_jax_arrays` and
  :func:`call_jitted` go through it): with a time limit, and with ``NotImplementedError``, other
  exceptions and a missing ``return`` reported, not raised.

:mod:`jaxbook.checks._compare` reads answers and compares them with a reference;
:mod:`jaxbook.checks._references` has the NumPy references and test problems.

Introduced in Chapter 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
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


def placeholder(answer: Any, name: str) -> Feedback | None:
    """The verdict for an answer left as ``None`` or ``...``, or ``None`` for a real answer."""
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
            problem = placeholder(answer, name)
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
                return Feedback(False, f"the check could not use {name}: {type(exc).__name__}: {short_message(exc)}")

        return wrapped

    return decorate


def short_message(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, at most ``limit`` characters."""
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
        raise fail(f"{name} raised {type(exc).__name__}{at}: {short_message(exc)}") from None
    if result is Ellipsis or (result is None and not allow_none):
        raise fail(f"{name} returned {result!r}{at}: did you forget the return statement?")
    return result


# --- reading answers -------------------------------------------------------------------------------


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


def call_on_jax_arrays(
    function: Any, *args: Any, name: str = "your function", where: str = "", jit: bool = False
) -> Any:
    """Call the student's function as the chapter does: every NumPy array argument becomes a JAX
    array; other arguments (numbers, keys, functions) pass unchanged.

    With ``jit=True`` the call goes through :func:`call_jitted`, otherwise through
    :func:`call_student`; errors are reported as there.

    Example:
      >>> call_on_jax_arrays(lambda x, k: (k * x).sum(), np.arange(3.0), 2, name="double_sum")
      Array(6., dtype=float32)
    """
    import jax.numpy as jnp

    converted = [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
    call = call_jitted if jit else call_student
    return call(function, *converted, name=name, where=where)
