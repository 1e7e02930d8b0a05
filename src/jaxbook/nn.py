r"""A two-layer network written by hand: parameters as a pytree, the forward pass, the loss, training.

Introduced in Chapter 6 and reused by Chapter 7 (the same network trained with optax) and
Chapter 8 (the same network as a Flax NNX module). The network is

.. math:: h = \sigma(X W_1 + b_1), \qquad z = h\, w_2 + b_2, \qquad P(y = 1 \mid x) = \sigma(z),

with ``X`` of shape ``(n, 2)`` (the hill data of ``jaxbook.hill``), ``W1`` ``(2, width)``, ``b1``
``(width,)``, ``w2`` ``(width,)`` and a scalar ``b2``. Parameters are a dict (a pytree), so
``jax.grad``, ``jax.tree.map`` and optax work on them unchanged. Studies over many seeds are in
``jaxbook.studies``, pictures in ``jaxbook.regions``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from jaxbook import losses, train, validation

Params = dict[str, Array]

#: The keys of a parameter pytree, in the order of the forward pass.
PARAM_NAMES = ("W1", "b1", "w2", "b2")


def init_params(key: Array, *, width: int = 2, init_scale: float = 1.0) -> Params:
    """Draw the parameters of the two-layer network, every entry ``N(0, init_scale^2)``.

    All ``4 * width + 1`` numbers come from one draw of ``jax.random.normal(key, ...)``, sliced in
    the order ``W1`` (row by row), ``b1``, ``w2``, ``b2``.

    Introduced in Chapter 6, where the effect of ``width`` and ``init_scale`` is studied.

    Args:
      key: a ``jax.random.key``.
      width: number of hidden units.
      init_scale: standard deviation of every initial weight and bias.

    Returns:
      ``{"W1": (2, width), "b1": (width,), "w2": (width,), "b2": ()}``, float32.

    Example:
      >>> params = init_params(jax.random.key(0))
      >>> {name: p.shape for name, p in params.items()} == {"W1": (2, 2), "b1": (2,), "w2": (2,), "b2": ()}
      True
    """
    width = validation.positive_int("width", width)
    init_scale = validation.positive("init_scale", init_scale)
    return _init_jit(key, width, init_scale)


def _check_params(params: Any) -> None:
    if not isinstance(params, dict) or set(params) != set(PARAM_NAMES):
        got = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"params must be a dict with keys {list(PARAM_NAMES)}; got {got}")
    width = np.shape(params["W1"])[-1]
    expected = {"W1": (2, width), "b1": (width,), "w2": (width,), "b2": ()}
    for name, shape in expected.items():
        if np.shape(params[name]) != shape:
            raise ValueError(f"params[{name!r}] must have shape {shape}; got {np.shape(params[name])}")


def check_inputs(X: Any) -> None:
    """Raise a ``ValueError`` unless ``X`` has shape ``(n, 2)``, the hill's inputs. Chapter 6."""
    if np.ndim(X) != 2 or np.shape(X)[1] != 2:
        raise ValueError(f"X must have shape (n, 2); got {np.shape(X)}")


def _hidden_t(params: Params, X: Array) -> Array:
    # hidden activations as (width, n): with the examples along the last (contiguous) axis and only
    # two inputs, XLA fuses this into vectorised elementwise loops, several times faster on a CPU
    # than X @ W1 with its (n, 2) layout
    W1 = params["W1"]
    return jax.nn.sigmoid(W1[0][:, None] * X[:, 0][None, :] + W1[1][:, None] * X[:, 1][None, :] + params["b1"][:, None])


@jax.jit
def hidden(params: Params, X: Array) -> Array:
    """Hidden activations ``sigmoid(X @ W1 + b1)``: ``X`` (n, 2) to ``(n, width)``. Chapter 6."""
    return _hidden_t(params, X).T


@jax.jit
def logits(params: Params, X: Array) -> Array:
    """Output logits ``hidden(params, X) @ w2 + b2``: ``X`` (n, 2) to ``(n,)``. Chapter 6.

    Example:
      >>> logits(init_params(jax.random.key(0)), jnp.zeros((3, 2))).shape
      (3,)
    """
    return jnp.sum(params["w2"][:, None] * _hidden_t(params, X), axis=0) + params["b2"]


@jax.jit
def loss(params: Params, X: Array, y: Array) -> Array:
    """Mean binary cross-entropy of the network on ``(X, y)``, via the stable
    ``jaxbook.losses.binary_cross_entropy``. Chapter 6.

    Example:
      >>> params = init_params(jax.random.key(0))
      >>> float(loss(params, jnp.zeros((1, 2)), jnp.ones(1))) > 0
      True
    """
    return losses.binary_cross_entropy(logits(params, X), y)


@jax.jit
def accuracy(params: Params, X: Array, y: Array) -> Array:
    """Fraction of points whose predicted class (logit >= 0) equals the label. Chapter 6."""
    return jnp.mean((logits(params, X) >= 0.0) == (y == 1.0))


def metrics(params: Params, X: Array, y: Array) -> dict[str, Array]:
    """The per-step metrics recorded while training: ``{"accuracy": ...}``. Chapter 6."""
    return {"accuracy": accuracy(params, X, y)}


def check_arguments(params: Params, X: Array | None = None, y: Array | None = None) -> None:
    """Raise a ``ValueError`` naming the argument if ``params``, ``X`` or ``y`` has a wrong shape.
    Chapter 6."""
    _check_params(params)
    if X is not None:
        check_inputs(X)
    if y is not None and np.shape(y) != (np.shape(X)[0],):
        raise ValueError(f"y must have shape ({np.shape(X)[0]},) to match X; got {np.shape(y)}")


def fit(
    params: Params,
    *,
    lr: float,
    num_steps: int,
    data: tuple[Array, Array],
) -> tuple[Params, train.History]:
    """Train by plain full-batch gradient descent with ``jaxbook.train.gradient_descent``.

    Records the loss and the training accuracy at every step; raises
    ``jaxbook.train.DivergenceError`` (with a suggested smaller learning rate) if the loss blows up.
    Chapter 6.

    Args:
      params: initial parameters, e.g. from :func:`init_params`.
      lr: learning rate, > 0.
      num_steps: number of updates.
      data: the training data ``(X, y)``, ``X`` of shape ``(n, 2)`` and 0/1 labels ``y`` ``(n,)``.

    Returns:
      ``(params, history)`` as from ``gradient_descent``.

    Example:
      >>> X, y = jnp.array([[0.5, 0.9], [0.5, 0.1]]), jnp.array([1.0, 0.0])
      >>> params, history = fit(init_params(jax.random.key(0)), lr=1.0, num_steps=3, data=(X, y))
      >>> history["loss"].shape, history["accuracy"].shape
      ((4,), (3,))
    """
    X, y = data
    check_arguments(params, X, y)
    return train.gradient_descent(loss, params, lr=lr, num_steps=num_steps, data=(X, y), metrics_fn=metrics)


def _init_traced(key, width, init_scale):
    # init_params without the Python-level checks, so that init_scale may be traced. One draw of
    # all 4 * width + 1 numbers, then slices: a single call of the generator compiles much faster
    # than one call per parameter array.
    z = init_scale * jax.random.normal(key, (4 * width + 1,))
    return {
        "W1": z[: 2 * width].reshape(2, width),
        "b1": z[2 * width : 3 * width],
        "w2": z[3 * width : 4 * width],
        "b2": z[4 * width],
    }


_init_jit = jax.jit(_init_traced, static_argnums=1)


def init_batch(keys: Array, *, width: int = 2, init_scale: float = 1.0) -> Params:
    """One network per key, each drawn exactly as ``init_params(key, width=width,
    init_scale=init_scale)``, stacked along a leading axis: the starting points of a study over
    seeds (``jaxbook.studies``). Chapter 6.

    Example:
      >>> init_batch(jax.random.split(jax.random.key(0), 3))["W1"].shape
      (3, 2, 2)
    """
    if np.ndim(keys) != 1:
        raise ValueError(
            f"keys must be a 1-D batch of keys, e.g. jax.random.split(key, 20); got shape {np.shape(keys)}"
        )
    width = validation.positive_int("width", width)
    init_scale = validation.positive("init_scale", init_scale)
    return _init_batch(keys, jnp.float32(init_scale), width)


@partial(jax.jit, static_argnames=("width",))
def _init_batch(keys, init_scale, width):
    return jax.vmap(lambda key: _init_traced(key, width, init_scale))(keys)
