"""pytest hooks for the notebook run (`make nbval`): each notebook's execution time, slowest first.

With ``--notebook-budget S`` and ``--book-budget S`` the run fails when one notebook, or all of them
together, take longer than that many seconds: the book must stay quick to re-run.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

_seconds: dict[str, float] = defaultdict(float)


def pytest_addoption(parser):
    group = parser.getgroup("notebook timing")
    group.addoption("--notebook-budget", type=float, default=None, help="fail if one notebook takes longer (s)")
    group.addoption("--book-budget", type=float, default=None, help="fail if all notebooks together take longer (s)")


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration  # setup (kernel start), every cell, teardown


def _over_budget(config) -> list[str]:
    notebook, book = config.getoption("notebook_budget"), config.getoption("book_budget")
    problems = []
    if notebook is not None:
        problems += [f"{path} took {s:.1f} s, over the {notebook:g} s budget" for path, s in _seconds.items() if s > notebook]
    if book is not None and sum(_seconds.values()) > book:
        problems.append(f"the notebooks took {sum(_seconds.values()):.1f} s together, over the {book:g} s budget")
    return problems


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not _seconds:
        return
    terminalreporter.section("notebook execution times, slowest first")
    for path, seconds in sorted(_seconds.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_seconds.values()):7.1f} s  all {len(_seconds)} notebooks")
    for problem in _over_budget(config):
        terminalreporter.write_line(f"TOO SLOW: {problem}", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _seconds and _over_budget(session.config) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
