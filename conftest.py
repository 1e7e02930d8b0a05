"""pytest configuration for every run in this repository, however it is started.

Test-only settings (CPU only; any implicit rank promotion is an error) apply to the unit tests, the
docstring examples in ``src/jaxbook`` and everything else pytest collects here.

For the notebook run (``make nbval``): each notebook's execution time, slowest first. With
``--notebook-budget S`` and ``--book-budget S`` the run fails when one notebook takes longer
than S seconds, or the whole notebook run (wall-clock, from start to finish) does. The budgets are
for a machine with two cores, the book's reference machine (``make nbval`` runs two notebooks at a
time there, with pytest-xdist); on fewer cores, e.g. under ``taskset -c 0``, they scale up in
proportion, and they are never loosened on more.

The budgets are for a warm compilation cache (``make nbval`` keeps XLA's compiled programs between
runs). The first run on a machine, or after a JAX upgrade, compiles every program the book uses:
when this run added at least ``COLD_CACHE_PROGRAMS`` programs to the cache (or no cache is in use),
the run is reported as cold and ``--cold-notebook-budget`` and ``--cold-book-budget`` apply instead.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import platform
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax
import pytest

# Catch (n,) against (n, 1) broadcasting slips: any implicit rank promotion is an error in tests.
jax.config.update("jax_numpy_rank_promotion", "raise")

# Python's cyclic garbage collector, tuned for a test process that traces thousands of small JAX
# programs. Each trace and lowering leaves many short-lived objects: with the default first
# threshold (700) the collector ran about 2,500 times in each worker of the unit tests and took
# 5-6 s of its time, each pass walking the modules, test items and caches that live for the whole
# run. Collecting every 50,000 allocations, with what exists after collection frozen (never scanned
# again), it ran about 25 times and took about 1.3 s. No result changes: the same objects are
# freed, later. The notebooks run in kernels, other processes, which this does not touch.
GC_FIRST_THRESHOLD = 50_000
gc.set_threshold(GC_FIRST_THRESHOLD, *gc.get_threshold()[1:])

REFERENCE_CORES = 2
#: A run that adds this many compiled programs to the persistent cache ran with a cold cache (a warm
#: run of the whole book adds none; re-running one edited notebook adds a few dozen at most).
COLD_CACHE_PROGRAMS = 200

_seconds: dict[str, float] = defaultdict(float)
_failed: set[str] = set()
_started = time.perf_counter()
_cached_at_start: int | None = None


def _cached_programs() -> int | None:
    """How many compiled programs the persistent compilation cache holds (None: no cache in use)."""
    folder = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    if not folder:
        return None
    try:
        return sum(1 for entry in os.scandir(folder) if entry.name.endswith("-cache"))
    except OSError:
        return 0


def _scale() -> float:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1.0, REFERENCE_CORES / cores)


def pytest_addoption(parser):
    group = parser.getgroup("notebook timing")
    group.addoption("--notebook-budget", type=float, default=None, help="fail if one notebook takes longer (s)")
    group.addoption(
        "--book-budget", type=float, default=None, help="fail if the notebook run takes longer (s, wall-clock)"
    )
    group.addoption("--cold-notebook-budget", type=float, default=None, help="--notebook-budget for a cold cache (s)")
    group.addoption("--cold-book-budget", type=float, default=None, help="--book-budget for a cold cache (s)")


def pytest_configure(config):
    """Under pytest-xdist, with at least one core per worker, each worker keeps to a core of its own.

    The worker's processes (a notebook's kernel among them) inherit it. XLA otherwise spreads some
    of a program's loops over every core, and two workers side by side then slow each other down
    (Chapter 6's seed study: 10.3 s on one core alone, 11.1 s unpinned alone, about 60 % slower
    unpinned beside another notebook). Results do not change: the XLA flags and the programs are
    the same (``taskset -c 0`` runs check exactly this). The budgets are still those of the whole
    machine: they are evaluated in the controller, which is not pinned.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if not worker.startswith("gw") or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    if 1 < count <= len(cores):
        os.sched_setaffinity(0, {cores[int(worker[2:]) % len(cores)]})


def pytest_collection_finish(session):
    gc.collect()
    gc.freeze()


def pytest_sessionstart(session):
    global _started, _cached_at_start
    _started = time.perf_counter()
    _cached_at_start = _cached_programs()


def _compiled_here() -> int | None:
    """Programs this run added to the persistent cache (None: no cache in use)."""
    now = _cached_programs()
    return None if now is None or _cached_at_start is None else now - _cached_at_start


def _cold() -> bool:
    added = _compiled_here()
    return added is None or added >= COLD_CACHE_PROGRAMS


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _seconds[path] += report.duration  # setup (kernel start), every cell, teardown
        if report.failed:
            _failed.add(path)


def _wall() -> float:
    return time.perf_counter() - _started


def _over_budget(config) -> list[str]:
    notebook, book = config.getoption("notebook_budget"), config.getoption("book_budget")
    if _cold():
        notebook = config.getoption("cold_notebook_budget") or notebook
        book = config.getoption("cold_book_budget") or book
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
    added = _compiled_here()
    cache = "no compilation cache in use" if added is None else f"{added} programs compiled and added to the cache"
    if _cold() and (config.getoption("cold_notebook_budget") or config.getoption("cold_book_budget")):
        cache = f"cold compilation cache ({cache}): the cold-cache budgets apply"
    terminalreporter.write_line(cache)
    if _scale() > 1:
        terminalreporter.write_line(
            f"budgets scaled by {_scale():g} for the {len(os.sched_getaffinity(0))} core(s) available"
        )
    for problem in _over_budget(config):
        terminalreporter.write_line(f"TOO SLOW: {problem}", red=True)


STATUS = Path(__file__).resolve().parent / "_build" / "status"


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    """The environment the notebooks ran in, as the status page shows it."""
    flags = os.environ.get("XLA_FLAGS", "")
    isa = next((f.split("=", 1)[1] for f in flags.split() if f.startswith("--xla_cpu_max_isa=")), None)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    env = {"python": platform.python_version(), "isa": isa, "cores": cores}
    env.update({name: _version(name) for name in ("jax", "jaxlib", "flax", "optax", "numpy")})
    return env


def write_status_record(folder: Path = STATUS) -> Path | None:
    """One self-contained JSON record per environment in ``_build/status`` (read by the status page)."""
    if not _seconds:
        return None
    env = environment()
    key = json.dumps(env, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    name = f"py{env['python']}-jax{env['jax']}-{env['isa'] or 'native'}-{env['cores']}c-{digest}"
    path = folder / f"{name}.json"
    notebooks = {}
    try:
        notebooks = json.loads(path.read_text()).get("notebooks", {})  # a partial run updates its notebooks only
    except (OSError, ValueError):
        pass
    for nb, seconds in _seconds.items():
        notebooks[nb] = {
            "seconds": round(seconds, 2),
            "outcome": "failed" if nb in _failed else "passed (outputs match)",
        }
    record = {
        "id": name,
        "environment": env,
        "platform": f"{platform.system()} {platform.machine()}",
        "executable": sys.executable,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "notebooks": dict(sorted(notebooks.items())),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1))
    return path


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    if _seconds and not hasattr(session.config, "workerinput"):  # the controller only, under xdist
        write_status_record()
    if _seconds and _over_budget(session.config) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
