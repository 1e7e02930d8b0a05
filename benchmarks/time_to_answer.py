"""Time to the answer: how long each method takes to reach Chapter 5's maximum-likelihood fit.

Run from the repository root: ``.venv/bin/python benchmarks/time_to_answer.py`` (``make bench``
runs it after ``run.py`` and appends the table to ``_build/bench.md``).

The problem is Chapter 5's unpenalised logistic regression: ``n = 10000`` points in ``d = 100``
dimensions, drawn by ``jaxbook.logistic.hyperplane_data`` with the chapter's keys (5 for the true
slopes, 6 for the training data), with an intercept. The answer is the maximum-likelihood
estimate, and a method has reached it when the gradient of the mean log-loss at its result has a
Euclidean norm at most ``1e-6`` times its norm at the start (all coefficients zero). The criterion
is the same for every method and is checked **afterwards, in float64 with NumPy**, on the
coefficients each method returns; the table also gives each result's largest distance from
statsmodels' coefficients.

The methods:

- **JAX Newton/IRLS**: one jitted ``lax.while_loop`` of Newton steps, each solving
  ``H delta = g`` (``H = X^T W X / n``) with a Cholesky factorisation, until the gradient meets the
  criterion. In float64 (``jax.enable_x64``) and in float32.
- **optax.lbfgs**: one jitted ``lax.while_loop`` of ``optax.lbfgs`` updates (zoom line search),
  recycling the line search's value and gradient with ``optax.value_and_grad_from_state`` as optax's
  documentation shows, until the gradient kept in the optimiser's state meets the criterion. In
  float64 and float32.
- **gradient descent**: Chapter 5's plain gradient descent (learning rate 10, float32), one jitted
  ``lax.while_loop`` run until the gradient meets the criterion, capped at ``GD_MAX_STEPS``. If the
  cap is hit the time is projected (marked ``≈``) from the measured time per step and the number of
  steps the linear rate ``max |1 - lr * eigenvalue of the Hessian at the MLE|`` predicts.
- **scikit-learn** ``LogisticRegression(solver="lbfgs", C=np.inf)`` (``C=np.inf`` is the
  unpenalised model; ``penalty=None`` is deprecated since scikit-learn 1.8). Its ``tol`` is a bound
  on the largest component of the gradient of the mean log-loss, so it starts at
  ``1e-6 * |g_0| / sqrt(d + 1)``, which implies the criterion, and is divided by 10 until the result
  meets it (SciPy's L-BFGS-B can also stop on a relative decrease of the loss). It is timed twice:
  with its libraries' default thread pools (OpenBLAS, OpenMP) and with one thread
  (``threadpoolctl``); the faster of the two is the baseline of the time ratios. On a loaded
  machine the default threads can be ten times slower than one.
- **statsmodels** ``Logit(y, X).fit(method="newton", tol=...)``: ``tol`` bounds the change of the
  coefficients between Newton steps; 1e-8, checked like every other method. It runs with the
  thread setting of the faster scikit-learn run, and its coefficients are the MLE of the table.

The float32 JAX methods stop when their own float32 gradient is below half the target: its
rounding error, about 1e-7 of the starting norm, otherwise decides whether a method that creeps up
on the boundary (gradient descent) passes the float64 check.

Timing (``jaxbook.speed.time_call``): every method receives its data already converted (float64
NumPy arrays for the reference tools, device arrays of its own dtype for JAX). The first call is
timed alone; for the JAX methods it includes tracing and compilation, so the table gives it apart
as "first call", and "time" is the median of later calls. Time ratios are to scikit-learn's time
in the same run. Absolute times depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.tree_utils as otu
import statsmodels.api as sm
from jax import lax
from scipy import special
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from jaxbook import logistic, losses, speed

#: Chapter 5's problem size and keys.
N, DIM = 10_000, 100
WEIGHTS_KEY, DATA_KEY = 5, 6
#: The criterion: |gradient at the result| <= RELATIVE_TOLERANCE * |gradient at zero|.
RELATIVE_TOLERANCE = 1e-6
#: Chapter 5's learning rate for plain gradient descent.
GD_LEARNING_RATE = 10.0
GD_MAX_STEPS = 20_000
NEWTON_MAX_STEPS = 50
LBFGS_MAX_STEPS = 2_000
STATSMODELS_TOL = 1e-8
#: float32 methods stop when their own float32 gradient is below this fraction of the target: its
#: rounding error is about 1e-7 of the starting norm, which decides at the boundary (float64 stops at 1).
FLOAT32_MARGIN = 0.5


@dataclass(frozen=True)
class Problem:
    """A logistic regression with intercept, as float64 NumPy arrays."""

    design: np.ndarray  # (n, p): a column of ones, then the features
    y: np.ndarray  # (n,) labels 0.0 / 1.0
    g0_norm: float  # |gradient of the mean log-loss at zero|

    @property
    def features(self) -> np.ndarray:
        return self.design[:, 1:]

    @property
    def target(self) -> float:
        """The largest gradient norm that meets the criterion."""
        return RELATIVE_TOLERANCE * self.g0_norm


def gradient(design: np.ndarray, y: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The gradient of the mean log-loss ``X^T (sigmoid(X coef) - y) / n``, in float64."""
    design, y, coef = (np.asarray(a, dtype=np.float64) for a in (design, y, coef))
    return design.T @ (special.expit(design @ coef) - y) / len(y)


def make_problem(n: int = N, dim: int = DIM, weights_key: int = WEIGHTS_KEY, data_key: int = DATA_KEY) -> Problem:
    """Chapter 5's data (``jaxbook.logistic.hyperplane_weights`` and ``hyperplane_data``), in float64."""
    w_true = logistic.hyperplane_weights(jax.random.key(weights_key), dim=dim)
    X, y = logistic.hyperplane_data(jax.random.key(data_key), w_true, n=n)
    X64, y64 = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
    design = np.column_stack([np.ones(n), X64])
    g0 = float(np.linalg.norm(gradient(design, y64, np.zeros(design.shape[1]))))
    return Problem(design, y64, g0)


# --- the JAX methods: each a jitted function (design, y, target) -> (coef, iterations) ---------
def _loss(coef, design, y):
    return losses.binary_cross_entropy(design @ coef, y)


def _grad(coef, design, y):
    return design.T @ (jax.nn.sigmoid(design @ coef) - y) / y.shape[0]


@jax.jit
def newton(design, y, target):
    """Newton/IRLS steps with a Cholesky solve until ``|gradient| <= target`` (one ``while_loop``)."""
    n, p = design.shape
    coef = jnp.zeros(p, design.dtype)
    z = design @ coef

    def not_done(carry):
        _, _, g, k = carry
        return (jnp.linalg.norm(g) > target) & (k < NEWTON_MAX_STEPS)

    def step(carry):
        coef, z, g, k = carry
        prob = jax.nn.sigmoid(z)
        hessian = (design * (prob * (1 - prob))[:, None]).T @ design / n
        delta = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(hessian), g)
        coef = coef - delta
        z = design @ coef
        return coef, z, design.T @ (jax.nn.sigmoid(z) - y) / n, k + 1

    g = design.T @ (jax.nn.sigmoid(z) - y) / n
    coef, _, _, k = lax.while_loop(not_done, step, (coef, z, g, jnp.zeros((), jnp.int32)))
    return coef, k


@jax.jit
def lbfgs(design, y, target):
    """``optax.lbfgs`` in one ``while_loop`` until the gradient in its state has ``|g| <= target``."""
    fun = lambda coef: _loss(coef, design, y)
    optimizer = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(fun)

    def step(carry):
        coef, state = carry
        value, grad = value_and_grad(coef, state=state)
        updates, state = optimizer.update(grad, state, coef, value=value, grad=grad, value_fn=fun)
        return optax.apply_updates(coef, updates), state

    def not_done(carry):
        _, state = carry
        count = otu.tree_get(state, "count")
        grad_norm = otu.tree_norm(otu.tree_get(state, "grad"))
        return (count == 0) | ((count < LBFGS_MAX_STEPS) & (grad_norm > target))

    coef = jnp.zeros(design.shape[1], design.dtype)
    coef, state = lax.while_loop(not_done, step, (coef, optimizer.init(coef)))
    return coef, otu.tree_get(state, "count")


@jax.jit
def gradient_descent(design, y, target, lr=GD_LEARNING_RATE, max_steps=GD_MAX_STEPS):
    """Plain gradient descent ``coef - lr * gradient`` until ``|gradient| <= target`` or ``max_steps``."""

    def not_done(carry):
        _, g, k = carry
        return (jnp.linalg.norm(g) > target) & (k < max_steps)

    def step(carry):
        coef, g, k = carry
        coef = coef - lr * g
        return coef, _grad(coef, design, y), k + 1

    coef = jnp.zeros(design.shape[1], design.dtype)
    coef, _, k = lax.while_loop(not_done, step, (coef, _grad(coef, design, y), jnp.zeros((), jnp.int32)))
    return coef, k


@contextlib.contextmanager
def precision(dtype: str) -> Iterator[None]:
    """``jax.enable_x64`` for float64, nothing for float32."""
    if dtype == "float64":
        with jax.enable_x64(True):
            yield
    else:
        yield


# --- the reference tools: each (problem, tol) -> (coef, iterations) ----------------------------
def sklearn_fit(problem: Problem, tol: float, max_iter: int = 10_000) -> tuple[np.ndarray, int]:
    model = LogisticRegression(solver="lbfgs", C=np.inf, tol=tol, max_iter=max_iter).fit(problem.features, problem.y)
    return np.concatenate([model.intercept_, model.coef_[0]]), int(model.n_iter_[0])


def statsmodels_fit(problem: Problem, tol: float = STATSMODELS_TOL) -> tuple[np.ndarray, int]:
    result = sm.Logit(problem.y, problem.design).fit(method="newton", tol=tol, maxiter=100, disp=0)
    return np.asarray(result.params), int(result.mle_retvals["iterations"])


def sklearn_tolerance(problem: Problem, max_tries: int = 6) -> float:
    """The loosest ``tol`` (starting at ``target / sqrt(p)``, then / 10) whose result meets the criterion."""
    tol = problem.target / math.sqrt(problem.design.shape[1])
    for _ in range(max_tries):
        coef, _ = sklearn_fit(problem, tol)
        if np.linalg.norm(gradient(problem.design, problem.y, coef)) <= problem.target:
            return tol
        tol /= 10
    return tol


# --- measuring -------------------------------------------------------------------------------
@dataclass
class Result:
    method: str
    coef: np.ndarray
    iterations: int
    timing: speed.Timing | None
    jax: bool = False
    projected_seconds: float | None = None  # gradient descent stopped by its cap: projected time
    projected_iterations: int | None = None
    note: str = ""
    baseline: bool = False  # the scikit-learn run the time ratios divide by
    mle: bool = False  # the statsmodels run whose coefficients are the MLE


def _run_jax(solver: Callable, problem: Problem, dtype: str, repeats: int) -> tuple[np.ndarray, int, speed.Timing]:
    with precision(dtype):
        design = jnp.asarray(problem.design, dtype=dtype)
        y = jnp.asarray(problem.y, dtype=dtype)
        target = jnp.asarray(problem.target * (FLOAT32_MARGIN if dtype == "float32" else 1.0), dtype=dtype)
        timing = speed.time_call(solver, design, y, target, repeats=repeats)
        coef, k = solver(design, y, target)
        return np.asarray(coef, dtype=np.float64), int(k), timing


def gd_projection(problem: Problem, coef: np.ndarray, steps: int, mle: np.ndarray, lr: float = GD_LEARNING_RATE) -> int:
    """Steps gradient descent needs in all: ``steps`` so far plus those the linear rate predicts.

    Near the MLE the gradient shrinks by ``rate = max |1 - lr * lambda|`` per step, over the
    eigenvalues ``lambda`` of the Hessian at the MLE.
    """
    prob = special.expit(problem.design @ mle)
    hessian = (problem.design * (prob * (1 - prob))[:, None]).T @ problem.design / len(problem.y)
    eigenvalues = np.linalg.eigvalsh(hessian)
    rate = float(np.max(np.abs(1 - lr * eigenvalues)))
    now = float(np.linalg.norm(gradient(problem.design, problem.y, coef)))
    if now <= problem.target:
        return steps
    if rate >= 1:
        raise ValueError(f"gradient descent with lr={lr} does not converge near the MLE (rate {rate:.4f})")
    return steps + math.ceil(math.log(problem.target / now) / math.log(rate))


def measure(problem: Problem, *, repeats: int = 5, gd_max_steps: int = GD_MAX_STEPS) -> list[Result]:
    """Run and time every method on ``problem``: scikit-learn twice, statsmodels, then the JAX methods."""
    tol = sklearn_tolerance(problem)
    sklearn_runs = []
    for threads in (None, 1):  # the libraries' default thread pools, then one BLAS / OpenMP thread
        with threadpool_limits(limits=threads):
            timing = speed.time_call(lambda: sklearn_fit(problem, tol), repeats=repeats)
            coef, k = sklearn_fit(problem, tol)
        label = "default threads" if threads is None else "1 thread"
        result = Result(f"scikit-learn LogisticRegression (lbfgs), {label}", coef, k, timing, note=f"tol={tol:.1e}")
        sklearn_runs.append((threads, result))
    threads, fastest = min(sklearn_runs, key=lambda run: run[1].timing.median)  # used for statsmodels too
    fastest.baseline = True
    fastest.note += "; the baseline (faster)"
    results = [run[1] for run in sklearn_runs]

    with threadpool_limits(limits=threads):
        timing = speed.time_call(lambda: statsmodels_fit(problem), repeats=max(1, repeats // 2))
        coef, k = statsmodels_fit(problem)
    label = "default threads" if threads is None else "1 thread"
    note = f"tol={STATSMODELS_TOL:g}; the MLE"
    results.append(Result(f"statsmodels Logit (newton), {label}", coef, k, timing, note=note, mle=True))
    mle = coef

    for dtype in ("float64", "float32"):
        coef, k, timing = _run_jax(newton, problem, dtype, repeats)
        results.append(Result(f"JAX Newton/IRLS, Cholesky, {dtype}", coef, k, timing, jax=True))
    for dtype in ("float64", "float32"):
        coef, k, timing = _run_jax(lbfgs, problem, dtype, repeats)
        results.append(Result(f"optax.lbfgs, {dtype}", coef, k, timing, jax=True))

    solver = jax.jit(lambda d, y, t: gradient_descent(d, y, t, max_steps=gd_max_steps))
    coef, k, timing = _run_jax(solver, problem, "float32", max(1, repeats // 2))
    result = Result(f"gradient descent, lr {GD_LEARNING_RATE:g}, float32", coef, k, timing, jax=True)
    if np.linalg.norm(gradient(problem.design, problem.y, coef)) > problem.target:
        result.projected_iterations = gd_projection(problem, coef, k, mle)
        result.projected_seconds = timing.median / k * result.projected_iterations
        result.note = f"stopped at {k} steps; projected"
    results.append(result)
    return results


def gradient_ratio(problem: Problem, coef: np.ndarray) -> float:
    return float(np.linalg.norm(gradient(problem.design, problem.y, coef))) / problem.g0_norm


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    ms = 1e3 * seconds
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 1 else f"{ms:.2f}"


def table(problem: Problem, results: list[Result]) -> str:
    """The Markdown table of ``results``, with times relative to the baseline and coefficients to the MLE."""
    baseline = next(r.timing.median for r in results if r.baseline)
    mle = next(r.coef for r in results if r.mle)
    lines = [
        (
            "| Method | Iterations | Time (ms) | Time / scikit-learn | First call (ms) | Final gradient norm ratio"
            " | Meets 1e-6 | max abs(coef − MLE) | Note |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: | ---: | --- |",
    ]
    for r in results:
        ratio = gradient_ratio(problem, r.coef)
        if r.projected_seconds is not None:
            iterations, seconds, prefix = f"≈ {r.projected_iterations:,}", r.projected_seconds, "≈ "
            ok = "projected"
        else:
            iterations, seconds, prefix = f"{r.iterations:,}", r.timing.median, ""
            ok = "yes" if ratio <= RELATIVE_TOLERANCE else "**no**"
        first = _ms(r.timing.first) if r.jax else "-"
        lines.append(
            f"| {r.method} | {iterations} | {prefix}{_ms(seconds)} | {prefix}{seconds / baseline:.2f} | {first} | "
            f"{ratio:.1e} | {ok} | {np.max(np.abs(r.coef - mle)):.1e} | {r.note} |"
        )
    return "\n".join(lines)


def report(problem: Problem, results: list[Result], elapsed: float, load: tuple[float, float] | None = None) -> str:
    n, p = problem.design.shape
    lines = [
        "## Time to the answer: Chapter 5's logistic regression",
        "",
        (
            f"n = {n}, d = {p - 1} (plus an intercept), unpenalised. Each method runs until the gradient of the mean "
            f"log-loss has norm at most {RELATIVE_TOLERANCE:g} of its norm at zero ({problem.g0_norm:.4f}); the ratio "
            "is checked afterwards in float64 on the returned coefficients. MLE: statsmodels' coefficients."
        ),
        "",
        table(problem, results),
        "",
        (
            "Time: median of repeated calls after the first; for the JAX methods the first call (tracing, compilation "
            "and one run) is given apart. Every method gets its data already in its dtype. Time / scikit-learn: "
            "against "
            "the faster of scikit-learn's two runs in this run. ≈: gradient descent stopped at its step cap; the "
            "time is "
            "the measured time per step times the steps the linear rate near the MLE predicts."
        ),
        "",
    ]
    if load is not None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        lines.append(
            f"Load average (1 min) at the start and the end: {load[0]:.1f} and {load[1]:.1f}, on {cores} cores; "
            f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}."
        )
    lines += [f"Time-to-answer run time: {elapsed:.0f} s.", ""]
    return "\n".join(lines)


def _load() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="append the Markdown table to this file")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    print("time to the answer, chapter 5 ...", file=sys.stderr)
    load_start = _load()
    problem = make_problem()
    results = measure(problem, repeats=args.repeats)
    text = report(problem, results, time.perf_counter() - start, (load_start, _load()))
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as f:
            f.write("\n" + text)
        print(f"appended to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
