"""The training problems of Chapters 1 to 8, as the benchmark runs them.

Each :class:`Problem` holds a pure step ``state = step(state, *data)``, its initial state, the
data and the number of steps the chapter runs, plus the reference tools that solve the same
problem. The data, losses and models are the chapters' own, each from its chapter's module
(``jaxbook.regression``, ``jaxbook.logistic``, ``jaxbook.hill``, ``jaxbook.nn``,
``jaxbook.flax_models``), drawn with the chapters' keys.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import statsmodels.api as sm
from flax import nnx
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier

from jaxbook import data, flax_models, hill, least_squares, logistic, nn, regression


@dataclass
class Problem:
    chapter: int
    name: str
    step: Callable[..., Any] | None  # state = step(state, *data); None: no training loop
    state: Any
    data: tuple
    num_steps: int
    unjitted_step: Callable[..., Any] | None = None  # if the un-jitted style needs another function
    jitted_step: Callable[..., Any] | None = None  # if the jitted style needs another function
    references: dict[str, Any] = field(default_factory=dict)  # name: fit() or (fit, steps it runs)
    closed_form: dict[str, Callable[..., Any]] = field(default_factory=dict)  # JAX closed forms
    fresh_objects: Callable[[], Any] | None = None  # live NNX objects for the eager and nnx.jit styles


def _float64(*arrays):
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def gd_step(loss_fn: Callable[..., Any], lr: float) -> Callable[..., Any]:
    """``params - lr * grad(loss_fn)(params, *data)`` as a step function (Chapters 2 to 6)."""
    grad = jax.grad(loss_fn)

    def step(params, *data):
        return jax.tree.map(lambda p, g: p - lr * g, params, grad(params, *data))

    return step


# --- Chapter 1: closed form -------------------------------------------------------------------
def chapter1() -> Problem:
    x, y = data.linear_data(jax.random.key(42), n=100, slope=3.0, intercept=2.0, noise_sd=1.0)
    X = least_squares.design_matrix(x)
    X64, y64 = _float64(X, y)
    return Problem(
        1,
        "y = 3x + 2 + noise, n = 100: closed form",
        None,
        None,
        (X, y),
        1,
        references={
            "numpy lstsq (float64)": lambda: np.linalg.lstsq(X64, y64, rcond=None)[0],
            "scikit-learn LinearRegression": lambda: LinearRegression().fit(X64[:, 1:], y64).coef_,
            "statsmodels OLS": lambda: sm.OLS(y64, X64).fit().params,
        },
        closed_form={"jnp.linalg.lstsq, jitted": jax.jit(lambda X, y: jnp.linalg.lstsq(X, y)[0])},
    )


# --- Chapter 2: the quadratic bowl ------------------------------------------------------------
def bowl(t):
    return jnp.sum(t**2)


def chapter2() -> Problem:
    return Problem(2, "f(t) = t0^2 + t1^2, 2 parameters", gd_step(bowl, 0.1), jnp.array([2.0, 1.0]), (), 100)


# --- Chapter 4: the plane, by gradient descent ------------------------------------------------
def chapter4() -> Problem:
    x, y = regression.plane_data(jax.random.key(4), n=1000)
    X = least_squares.design_matrix(x)
    X64, y64 = _float64(X, y)
    return Problem(
        4,
        "plane, n = 1000, 3 coefficients: MSE",
        gd_step(regression.mse_loss, 0.1),
        jnp.zeros(3),
        (X, y),
        200,
        references={
            "numpy lstsq (float64)": lambda: np.linalg.lstsq(X64, y64, rcond=None)[0],
            "scikit-learn LinearRegression": lambda: LinearRegression().fit(X64[:, 1:], y64).coef_,
            "statsmodels OLS": lambda: sm.OLS(y64, X64).fit().params,
        },
    )


# --- Chapter 5: logistic regression in 100 dimensions -----------------------------------------
def chapter5() -> Problem:
    X, y = logistic.hyperplane_data(jax.random.key(6), logistic.hyperplane_weights(jax.random.key(5)), n=10_000)
    X64, y64 = _float64(X, y)
    params = jnp.zeros(101)  # the coefficient vector b: intercept first, as in the chapter

    def statsmodels_logit():
        return sm.Logit(y64, sm.add_constant(X64)).fit(disp=0).params

    return Problem(
        5,
        "logistic regression, n = 10000, d = 100",
        gd_step(logistic.loss, 10.0),
        params,
        (logistic.with_intercept(X), y),
        1000,
        references={
            "scikit-learn LogisticRegression (lbfgs)": lambda: (
                LogisticRegression(C=np.inf, max_iter=1000).fit(X64, y64).coef_
            ),
            "statsmodels Logit (Newton)": statsmodels_logit,
        },
    )


# --- Chapters 6 and 7: the two-layer network on the hill --------------------------------------
def _mlp_reference(X64, y64, num_steps):
    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # full-batch gradient descent, the same algorithm as the chapter: one step per epoch
            return MLPClassifier(
                hidden_layer_sizes=(2,),
                activation="logistic",
                solver="sgd",
                batch_size=len(y64),
                learning_rate_init=3.0,
                momentum=0.0,
                alpha=0.0,
                max_iter=num_steps,
                tol=0.0,
                n_iter_no_change=num_steps + 1,
                shuffle=False,
                random_state=0,
            ).fit(X64, y64)

    return fit


def chapter6() -> Problem:
    points = hill.hill_data(jax.random.key(0))
    X64, y64 = _float64(points.X_train, points.y_train)
    return Problem(
        6,
        "2-2-1 network, hill data n = 10000: plain descent",
        gd_step(nn.loss, 3.0),
        nn.init_params(jax.random.key(4)),
        (points.X_train, points.y_train),
        2000,
        references={"scikit-learn MLPClassifier (full-batch descent)": (_mlp_reference(X64, y64, 200), 200)},
    )


def chapter7() -> Problem:
    points = hill.hill_data(jax.random.key(0))
    tx = optax.adam(0.05)
    grad = jax.grad(nn.loss)

    def step(state, X, y):
        params, opt_state = state
        updates, opt_state = tx.update(grad(params, X, y), opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    params = nn.init_params(jax.random.key(4))
    return Problem(
        7, "the same network with optax.adam", step, (params, tx.init(params)), (points.X_train, points.y_train), 2000
    )


# --- Chapter 8: the Flax NNX classifier -------------------------------------------------------
def chapter8() -> Problem:
    points = hill.hill_data(jax.random.key(0))
    model = flax_models.MLP(2, [8], 2, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(0.05), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))

    loss = flax_models.softmax_loss

    def eager_step(model_and_optimizer, X, y):  # the Chapter 8 step without nnx.jit
        model, optimizer = model_and_optimizer
        with jax.disable_jit():
            flax_models.train_step(loss, model, optimizer, X, y)
        return model, optimizer

    def jitted_step(model_and_optimizer, X, y):  # the Chapter 8 step, nnx.jit
        model, optimizer = model_and_optimizer
        flax_models.train_step(loss, model, optimizer, X, y)
        return model, optimizer

    def functional_step(state, X, y):  # the same step on the split state, for lax.scan and cost analysis
        model, optimizer = nnx.merge(graphdef, state)
        flax_models.train_step(loss, model, optimizer, X, y)
        return nnx.state((model, optimizer))

    def fresh():
        model = flax_models.MLP(2, [8], 2, rngs=nnx.Rngs(0))
        return model, nnx.Optimizer(model, optax.adam(0.05), wrt=nnx.Param)

    problem = Problem(
        8,
        "Flax NNX classifier (2-8-2), nnx.Optimizer(adam)",
        functional_step,
        state,
        (points.X_train, points.y_train),
        2000,
        unjitted_step=eager_step,
        jitted_step=jitted_step,
        fresh_objects=fresh,
    )
    return problem


ALL = (chapter1, chapter2, chapter4, chapter5, chapter6, chapter7, chapter8)
