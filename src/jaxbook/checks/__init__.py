"""Checkers for the exercises: call one on your answer and it says what is right or wrong.

Each chapter has a module (``jaxbook.checks.ch01``, ...) whose functions take a student's answer
(an array, a number, or a function) and return a :class:`Feedback`, which prints as one line
starting with ``Correct`` or ``Not yet``. The notebooks run their own solutions through the
checkers, so the website's solutions are proven to pass. ``ch08`` loads Flax, so it is imported
only when asked for (``from jaxbook.checks import ch08``), keeping every other chapter's start fast.
"""

from jaxbook.checks import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch09
from jaxbook.checks._core import Feedback, compare_arrays, compare_functions

__all__ = [
    "Feedback",
    "ch01",
    "ch02",
    "ch03",
    "ch04",
    "ch05",
    "ch06",
    "ch07",
    "ch08",
    "ch09",
    "compare_arrays",
    "compare_functions",
]
