"""pytest configuration for every run in this repository, however it is started.

Test-only settings (CPU only; any implicit rank promotion is an error) apply to the unit tests, the
docstring examples in ``src/jaxbook`` and everything else pytest collects here.

For the notebook run (``make nbval``): each notebook's execution time, slowest first. With
``--notebook-budget S`` and ``--book-budget S`` the run fails when one notebook takes longer
than S seconds, or the whole notebook run (wall-clock, from start to finish) does. The budgets are
for a machine with two cores, the book's reference machine (``make nbval`` runs two notebooks at a
time there, with pytest-xdist); on fewer cores, e.g. under ``taskset -c 0``, they scale up in
proportion, and they are never loosened on more.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import pytest  # noqa: E402

# Catch (n,) against (n, 1) broadcasting slips: any implicit rank promotion is an error in tests.
jax.config.update("jax_numpy_rank_promotion", "raise")

REFERENCE_CORES = 2

_seconds: dict[str, float] = defaultdict(float)
_started = time.perf_counter()


def _scale() -> float:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1.0, REFERENCE_CORES / cores)


def pytest_addoption(parser):
    group = parser.getgroup("notebook timing")
    group.addoption("--notebook-budget", type=float, default=None, help="fail if one notebook takes longer (s)")
    group.addoption("--book-budget", type=float, default=None, help="fail if the notebook run takes longer (s, wall-clock)")


def pytest_sessionstart(session):
    global _started
    _started = time.perf_counter()


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration  # setup (kernel start), every cell, teardown


def _wall() -> float:
    return time.perf_counter() - _started


def _over_budget(config) -> list[str]:
    notebook, book = config.getoption("notebook_budget"), config.getoption("book_budget")
    problems = []
    if notebook is not None:
        limit = notebook * _scale()
        problems += [f"{path} took {s:.1f} s, over the {limit:g} s budget" for path, s in _seconds.items() if s > limit]
    if book is not None and _wall() > book * _scale():
        problems.append(f"the notebooks took {_wall():.1f} s, over the {book * _scale():g} s budget")
    return problems


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _seconds:
        return
    workers = getattr(config.option, "numprocesses", None)
    terminalreporter.section("notebook execution times, slowest first")
    for path, seconds in sorted(_seconds.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(
        f"{_wall():7.1f} s  wall-clock for all {len(_seconds)} notebooks"
        + (f", {workers} at a time" if workers else "")
        + f" (the notebooks' own times add up to {sum(_seconds.values()):.1f} s)"
    )
    if _scale() > 1:
        terminalreporter.write_line(f"budgets scaled by {_scale():g} for the {len(os.sched_getaffinity(0))} core(s) available")
    for problem in _over_budget(config):
        terminalreporter.write_line(f"TOO SLOW: {problem}", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _seconds and _over_budget(session.config) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
