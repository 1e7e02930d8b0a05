"""Checkers for the exercises: call one on your answer and it says what is right or wrong.

Each chapter has a module (``jaxbook.checks.ch01``, ...) whose functions take a student's answer
(an array, a number, or a function) and return a :class:`Feedback`, which prints as one line
starting with ``Correct`` or ``Not yet``. The notebooks run their own solutions through the
checkers, so the website's solutions are proven to pass. A chapter's module is imported on first
use (``from jaxbook.checks import ch05``), so no chapter pays for another's imports.
"""

import importlib
from typing import Any

from jaxbook.checks._compare import compare_arrays, compare_functions
from jaxbook.checks._core import Feedback

CHAPTERS = ("ch01", "ch02", "ch03", "ch04", "ch05", "ch06", "ch07", "ch08", "ch09")

__all__ = ["Feedback", *CHAPTERS, "compare_arrays", "compare_functions"]


def __getattr__(name: str) -> Any:
    if name in CHAPTERS:
        return importlib.import_module(f"jaxbook.checks.{name}")
    raise AttributeError(f"module 'jaxbook.checks' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
