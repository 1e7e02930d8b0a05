"""The book's benchmark (``make bench``): how fast are the chapters' training loops, and how close to the machine?

Run from the repository root: ``.venv/bin/python benchmarks/run.py`` (``make bench`` does). In one
run on the current machine it measures

1. the machine's own limits: the float32 FLOP/s of a 2048 x 2048 matrix product (``2 n^3``
   operations; arithmetic-bound) and the bytes/s of an 8192 x 8192 matrix-vector product
   (``4 (n^2 + 2 n)`` bytes of float32 read and written; memory-bound, 256 MiB, far beyond the
   caches), with ``jaxbook.speed.peak_flops`` and ``jaxbook.speed.memory_bandwidth``;
2. the training loop of each chapter (``problems.py``), on the chapter's own data and number of
   steps, in three styles:
   - **un-jitted**: a Python loop over a step built from ``jax.grad`` without ``jit``, as in many
     tutorials (every operation dispatched from Python one at a time). Only 100 steps are timed
     and the time per step is reported;
   - **jitted step**: a Python loop over the same step under ``jax.jit`` (``nnx.jit`` for
     Chapter 8): one compiled call per step (up to 500 steps timed);
   - **lax.scan**: all the chapter's steps as one ``lax.scan`` in one compiled call;
   Before timing, the three styles are run for 20 steps from the same start and their
   parameters compared (to a relative 1e-4): the table says whether they agree;
3. the reference tools on the same problems (NumPy ``lstsq``, scikit-learn, statsmodels), whole
   fits, in float64 as the chapters call them.

How it times (``jaxbook.speed.time_call``): the first call, which traces and compiles (or, for the
un-jitted loop, compiles each primitive on first use), is timed alone and reported as the
first call; then the call is repeated (5 times, 3 for the slow un-jitted loops and the references)
and the **median** is taken; every call ends with ``jax.block_until_ready``; the clock is
``time.perf_counter``.

How it counts work: the FLOPs and bytes of **one step** are XLA's own estimate for the compiled
step, ``jax.jit(step).lower(state, *data).compile().cost_analysis()`` (``jaxbook.speed.cost``);
the same per-step counts are used for every style (they do the same arithmetic), so the achieved
GFLOP/s and GB/s are ``count / time per step``, and their ratio to the measured limits says how
much of the machine a loop uses. Absolute times depend on the machine and on its load; the
**ratios** (speed-ups, fractions of the limits) are the result.

The table is printed and written to ``_build/bench.md``. The run takes about two minutes on two
cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import jax
import loops
import numpy as np
import problems
from flax import nnx

from jaxbook import speed

UNJITTED_STEPS = 100
MAX_JITTED_STEPS = 500


def _block_objects(objects):
    """The arrays inside live NNX objects (so that block_until_ready can wait for them)."""
    return nnx.state(objects)


def time_styles(problem: problems.Problem) -> list[dict]:
    rows = []
    if problem.step is None:  # a closed form: un-jitted against jitted, no loop
        for name, fn in problem.closed_form.items():
            with jax.disable_jit():  # the same function, operation by operation
                t = speed.time_call(fn, *problem.data, repeats=5)
            rows.append({"method": name.replace("jitted", "un-jitted"), "timing": t, "steps": 1})
            t = speed.time_call(fn, *problem.data, repeats=5)
            rows.append({"method": name, "timing": t, "steps": 1})
        return rows

    fresh = problem.fresh_objects
    n_unjitted = min(UNJITTED_STEPS, problem.num_steps)
    n_jitted = min(MAX_JITTED_STEPS, problem.num_steps)

    # 1. a Python loop over an un-jitted step
    unjitted = problem.unjitted_step or problem.step
    if fresh is None:
        run = lambda: loops.python_loop(unjitted, problem.state, n_unjitted, *problem.data)
    else:
        objects = fresh()
        run = lambda: _block_objects(loops.python_loop(unjitted, objects, n_unjitted, *problem.data))
    rows.append(
        {"method": "Python loop, un-jitted grad", "timing": speed.time_call(run, repeats=3), "steps": n_unjitted}
    )

    # 2. a Python loop over a jitted step
    if fresh is None:
        jitted = jax.jit(problem.step)
        run = lambda: loops.python_loop(jitted, problem.state, n_jitted, *problem.data)
        label = "Python loop, jitted step"
    else:
        objects = fresh()
        run = lambda: _block_objects(loops.python_loop(problem.jitted_step, objects, n_jitted, *problem.data))
        label = "Python loop, nnx.jit step"
    rows.append({"method": label, "timing": speed.time_call(run, repeats=5), "steps": n_jitted})

    # 3. one lax.scan
    run = lambda: loops.scan_loop(problem.step, problem.state, problem.num_steps, *problem.data)
    rows.append(
        {"method": "lax.scan, one compiled call", "timing": speed.time_call(run, repeats=5), "steps": problem.num_steps}
    )
    return rows


def styles_agree(problem: problems.Problem, num_steps: int = 20) -> bool:
    """Check that the three styles compute the same thing: the states after ``num_steps`` steps agree."""
    fresh = problem.fresh_objects
    if fresh is None:
        states = [
            loops.python_loop(problem.unjitted_step or problem.step, problem.state, num_steps, *problem.data),
            loops.python_loop(jax.jit(problem.step), problem.state, num_steps, *problem.data),
        ]
    else:
        states = [
            nnx.state(loops.python_loop(problem.unjitted_step, fresh(), num_steps, *problem.data)),
            nnx.state(loops.python_loop(problem.jitted_step, fresh(), num_steps, *problem.data)),
        ]
    states.append(loops.scan_loop(problem.step, problem.state, num_steps, *problem.data))
    leaves = [[np.asarray(leaf, dtype=np.float64) for leaf in jax.tree.leaves(state)] for state in states]
    return all(
        len(other) == len(leaves[0]) and all(np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(leaves[0], other))
        for other in leaves[1:]
    )


def time_references(problem: problems.Problem) -> list[dict]:
    rows = []
    for name, fit in problem.references.items():
        fit, steps = fit if isinstance(fit, tuple) else (fit, None)  # (fit, steps it runs) for iterative tools
        rows.append({"method": name, "timing": speed.time_call(fit, repeats=3), "steps": steps, "reference": True})
    return rows


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    if value == 0:
        return "0"
    if abs(value) < 1e-3:
        return "< 0.001"
    magnitude = int(np.floor(np.log10(abs(value))))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def _percent(fraction: float | None) -> str:
    if fraction is None or not np.isfinite(fraction):
        return "-"
    if fraction < 1e-4:
        return "< 0.01 %"
    return f"{100 * fraction:.2g} %" if fraction < 0.1 else f"{100 * fraction:.0f} %"


def machine_line() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    backend = jax.devices()[0].platform
    return f"{cpu}, {cores} cores available; jax {jax.__version__} on {backend}, {jax.device_count()} device(s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("_build/bench.md"), help="where to write the Markdown table")
    args = parser.parse_args(argv)
    start = time.perf_counter()

    print("measuring the machine's limits ...", file=sys.stderr)
    peak = speed.peak_flops(2048, repeats=5)
    bandwidth = speed.memory_bandwidth(8192, repeats=10)

    table = []
    agreement = {}
    for make in problems.ALL:
        problem = make()
        print(f"chapter {problem.chapter}: {problem.name} ...", file=sys.stderr)
        if problem.step is not None:
            agreement[problem.chapter] = styles_agree(problem)
        count = speed.cost(problem.step, problem.state, *problem.data) if problem.step is not None else None
        rows = time_styles(problem) + time_references(problem)
        baseline = None
        for row in rows:
            t = row["timing"]
            steps = row["steps"]
            if row.get("reference") and steps is None:
                per_step, whole = None, t.median
            else:
                per_step = t.median / steps
                whole = per_step * problem.num_steps
            if baseline is None:
                baseline = whole
            extrapolated = steps is not None and steps < problem.num_steps
            own_step = per_step is not None and not row.get("reference")
            flops = count.flops if count is not None and own_step else None
            moved = count.bytes_accessed if count is not None and own_step else None
            table.append(
                {
                    "Ch": str(problem.chapter),
                    "Problem": problem.name,
                    "Method": row["method"],
                    "Steps timed": (
                        "whole fit"
                        if steps is None
                        else "closed form"
                        if problem.step is None
                        else f"{steps} of {problem.num_steps}"
                    ),
                    "First call (ms)": _fmt(1e3 * t.first),
                    "Per step (µs)": _fmt(None if per_step is None else 1e6 * per_step),
                    "Whole fit (ms)": ("≈ " if extrapolated else "") + _fmt(1e3 * whole),
                    "Speed-up": _fmt(baseline / whole) + "x",
                    "GFLOP/s": _fmt(None if not flops else flops / per_step / 1e9),
                    "% of peak FLOP/s": _percent(None if not flops else flops / per_step / peak),
                    "GB/s": _fmt(None if not moved else moved / per_step / 1e9),
                    "% of bandwidth": _percent(None if not moved else moved / per_step / bandwidth),
                }
            )

    elapsed = time.perf_counter() - start
    header = list(table[0])
    lines = [
        "# Benchmark: the book's training loops on this machine",
        "",
        f"Machine: {machine_line()}.",
        f"Measured limits in this run: **{peak / 1e9:.1f} GFLOP/s** (float32 2048 x 2048 matrix product) and "
        f"**{bandwidth / 1e9:.1f} GB/s** (8192 x 8192 matrix-vector product).",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" if h in ("Ch", "Problem", "Method", "Steps timed") else "---:" for h in header) + " |",
    ]
    lines += ["| " + " | ".join(row[h] for h in header) + " |" for row in table]
    lines += [
        "",
        "Speed-up: the whole fit of the chapter's first method (the un-jitted loop, extrapolated from the steps timed) "
        "divided by this method's whole fit. First call: the first run of the timed steps, with tracing and "
        "compilation for jitted code (for the un-jitted loop, each operation compiles on first use); it is "
        "excluded from the per-step times, which are medians of later runs. "
        "FLOPs and bytes per step: XLA's cost analysis of one compiled step. "
        "A share of bandwidth above 100 % means the step's data fit in the CPU caches, which are faster than the "
        "main memory that the matrix-vector product streams from. "
        "Iterative reference tools are timed for the steps shown and extrapolated to the chapter's number of steps. "
        "Chapter 3 (Taylor expansions) has no training loop.",
        "",
        "Same computation in the three styles (parameters after 20 steps equal to rtol 1e-4): "
        + ", ".join(f"chapter {chapter} {'yes' if ok else '**NO**'}" for chapter, ok in agreement.items())
        + ".",
        "",
        f"Benchmark run time: {elapsed:.0f} s.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"written to {args.out}", file=sys.stderr)

    import time_to_answer  # time to the maximum-likelihood answer (Chapter 5), appended to the same file

    time_to_answer.main(["--out", str(args.out)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
