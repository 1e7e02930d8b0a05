r"""A two-layer network written by hand: the hill data set, parameters as a pytree, training over
many seeds at once.

Introduced in Chapter 6 and reused by Chapter 7 (the same network trained with optax) and
Chapter 8 (the same network as a Flax NNX module). The network is

.. math:: h = \sigma(X W_1 + b_1), \qquad z = h\, w_2 + b_2, \qquad P(y = 1 \mid x) = \sigma(z),

with ``X`` of shape ``(n, 2)``, ``W1`` ``(2, width)``, ``b1`` ``(width,)``, ``w2`` ``(width,)``
and a scalar ``b2``. Parameters are a dict (a pytree), so ``jax.grad``, ``jax.tree.map`` and
optax work on them unchanged.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from jaxbook import losses, train, validation

Params = dict[str, Array]

#: The keys of a parameter pytree, in the order of the forward pass.
PARAM_NAMES = ("W1", "b1", "w2", "b2")


class HillData(NamedTuple):
    """The hill data set: training and validation inputs ``(n, 2)`` and 0/1 labels ``(n,)``."""

    X_train: Array
    y_train: Array
    X_val: Array
    y_val: Array


def hill_boundary(x: Array) -> Array:
    """The hill's crest ``2.5 x (1 - x)``: points on or above it are class 1. Chapter 6.

    Example:
      >>> float(hill_boundary(0.5))
      0.625
    """
    return 2.5 * x * (1.0 - x)


def hill_labels(X: Array) -> Array:
    """Labels of points ``X`` (n, 2): 1.0 where ``y >= 2.5 x (1 - x)``, else 0.0. Chapter 6."""
    return (X[:, 1] >= hill_boundary(X[:, 0])).astype(jnp.float32)


def hill_data(key: Array, *, n_train: int = 10_000, n_val: int = 1_000) -> HillData:
    """Draw the hill data set: points uniform in the unit square, class 1 when ``y >= 2.5 x (1 - x)``.

    The labels are exact (no noise): the best possible accuracy is 100 %, and what a model misses
    is what its shape cannot draw. Introduced in Chapter 6.

    Args:
      key: a ``jax.random.key``; split here into one key per set.
      n_train, n_val: numbers of training and validation points.

    Returns:
      A :class:`HillData` ``(X_train (n_train, 2), y_train (n_train,), X_val, y_val)``, float32.

    Example:
      >>> data = hill_data(jax.random.key(0), n_train=100, n_val=10)
      >>> data.X_train.shape, data.y_val.shape
      ((100, 2), (10,))
    """
    n_train = validation.positive_int("n_train", n_train)
    n_val = validation.positive_int("n_val", n_val)
    return HillData(*_hill_data(key, n_train, n_val))


@partial(jax.jit, static_argnums=(1, 2))
def _hill_data(key, n_train, n_val):
    key_train, key_val = jax.random.split(key)
    X_train = jax.random.uniform(key_train, (n_train, 2))
    X_val = jax.random.uniform(key_val, (n_val, 2))
    return X_train, hill_labels(X_train), X_val, hill_labels(X_val)


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


def _check_inputs(X: Any) -> None:
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


def check_arguments(params: Params, X: Array, y: Array | None = None) -> None:
    """Raise a ``ValueError`` naming the argument if ``params``, ``X`` or ``y`` has a wrong shape."""
    _check_params(params)
    _check_inputs(X)
    if y is not None and np.shape(y) != (np.shape(X)[0],):
        raise ValueError(f"y must have shape ({np.shape(X)[0]},) to match X; got {np.shape(y)}")


def fit(
    params: Params,
    X: Array,
    y: Array,
    *,
    lr: float,
    num_steps: int,
) -> tuple[Params, dict[str, Array]]:
    """Train by plain full-batch gradient descent with ``jaxbook.train.gradient_descent``.

    Records the loss and the training accuracy at every step; raises
    ``jaxbook.train.DivergenceError`` (with a suggested smaller learning rate) if the loss blows up.
    Chapter 6.

    Returns:
      ``(final_params, history)`` as from ``gradient_descent``.
    """
    check_arguments(params, X, y)
    return train.gradient_descent(loss, params, lr=lr, num_steps=num_steps, data=(X, y), metrics_fn=metrics)


@partial(jax.jit, static_argnames=("num_steps", "width", "record_every"))
def _fit_seeds(keys, X, y, X_val, y_val, lr, init_scale, num_steps, width, record_every):
    value_and_grad = jax.value_and_grad(loss)

    def one_seed(key):
        params = _init_traced(key, width, init_scale)

        def step(params, _):
            value, grads = value_and_grad(params, X, y)
            return jax.tree.map(lambda p, g: p - lr * g, params, grads), value

        params, values = jax.lax.scan(step, params, length=num_steps)
        curve = jnp.append(values[::record_every], loss(params, X, y))
        return params, curve, accuracy(params, X, y), accuracy(params, X_val, y_val)

    return jax.vmap(one_seed)(keys)


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


class SeedStudy(NamedTuple):
    """Results of :func:`fit_seeds`, one entry per seed along the leading axis."""

    params: Params
    loss_curves: Array  # (num_seeds, num_steps // record_every + 1)
    train_accuracy: Array  # (num_seeds,)
    val_accuracy: Array  # (num_seeds,)


def fit_seeds(
    keys: Array,
    data: HillData,
    *,
    lr: float,
    num_steps: int,
    width: int = 2,
    init_scale: float = 1.0,
    record_every: int = 100,
) -> SeedStudy:
    """Train one network per key by plain gradient descent, all at once with ``jax.vmap``.

    Each key initialises its own network with :func:`init_params` (same ``width`` and
    ``init_scale``); every network then takes ``num_steps`` full-batch steps on the same data.
    One compiled call trains them all, which makes success-rate studies over many seeds fast.
    Chapter 6.

    Args:
      keys: a batch of keys, e.g. ``jax.random.split(jax.random.key(0), 20)``, shape ``(num_seeds,)``.
      data: a :class:`HillData`.
      lr: learning rate, > 0.
      num_steps: steps per network, a multiple of ``record_every``.
      width, init_scale: as in :func:`init_params`.
      record_every: the loss curve keeps one value every this many steps.

    Returns:
      A :class:`SeedStudy` with final parameters, loss curves, and training and validation accuracy.

    Raises:
      ValueError: for bad hyperparameters; ``jaxbook.train.DivergenceError`` if any seed's loss
      becomes NaN or explodes.

    Example:
      >>> data = hill_data(jax.random.key(0), n_train=200, n_val=50)
      >>> study = fit_seeds(jax.random.split(jax.random.key(1), 3), data, lr=1.0, num_steps=20, record_every=10)
      >>> study.val_accuracy.shape, study.loss_curves.shape
      ((3,), (3, 3))
    """
    lr = validation.positive("lr", lr)
    init_scale = validation.positive("init_scale", init_scale)
    num_steps = validation.positive_int("num_steps", num_steps)
    width = validation.positive_int("width", width)
    record_every = validation.positive_int("record_every", record_every)
    if num_steps % record_every:
        raise ValueError(f"num_steps must be a multiple of record_every={record_every}; got {num_steps}")
    if np.ndim(keys) != 1:
        raise ValueError(f"keys must be a 1-D batch of keys, e.g. jax.random.split(key, 20); got shape {np.shape(keys)}")
    _check_inputs(data.X_train)
    _check_inputs(data.X_val)
    params, curves, train_acc, val_acc = _fit_seeds(
        keys, data.X_train, data.y_train, data.X_val, data.y_val,
        jnp.float32(lr), jnp.float32(init_scale), num_steps, width, record_every,
    )
    for curve in np.asarray(curves):
        train.check_losses(curve, lr=lr)
    return SeedStudy(params, curves, train_acc, val_acc)


def unstack(params: Params, index: int) -> Params:
    """The ``index``-th network of a batch of parameters (as returned by :func:`fit_seeds`)."""
    return jax.tree.map(lambda p: p[index], params)


def grid_probabilities(params: Params, *, num: int = 201) -> tuple[Array, Array, Array]:
    """Predicted ``P(class 1)`` on a ``num x num`` grid over the unit square, for region plots.

    Returns:
      ``(xx, yy, prob)``, each of shape ``(num, num)`` (``xx`` varies along columns). Chapter 6.

    Example:
      >>> xx, yy, prob = grid_probabilities(init_params(jax.random.key(0)), num=5)
      >>> prob.shape
      (5, 5)
    """
    _check_params(params)
    num = validation.positive_int("num", num)
    return _grid_probabilities(params, num)


@partial(jax.jit, static_argnums=1)
def _grid_probabilities(params, num):
    xs = jnp.linspace(0.0, 1.0, num)
    xx, yy = jnp.meshgrid(xs, xs)
    points = jnp.stack([xx.ravel(), yy.ravel()], axis=1)
    prob = jax.nn.sigmoid(logits(params, points)).reshape(xx.shape)
    return xx, yy, prob


def hidden_unit_line(params: Params, unit: int, x: Any) -> np.ndarray:
    """The line where hidden unit ``unit`` is exactly 1/2: ``W1[0, j] x + W1[1, j] y + b1[j] = 0``,
    solved for ``y`` at the given ``x``. Chapter 6.

    Example:
      >>> p = {"W1": jnp.array([[1.0], [1.0]]), "b1": jnp.array([-1.0]), "w2": jnp.ones(1), "b2": jnp.array(0.0)}
      >>> hidden_unit_line(p, 0, np.array([0.0, 0.5]))
      array([1. , 0.5])
    """
    W1, b1 = np.asarray(params["W1"]), np.asarray(params["b1"])  # plain NumPy: this is for plots
    return -(W1[0, unit] * np.asarray(x) + b1[unit]) / W1[1, unit]


def plot_regions(
    params: Params,
    *,
    ax: Any = None,
    data: tuple[Array, Array] | None = None,
    show_units: bool = True,
    num: int = 201,
    title: str | None = None,
) -> Any:
    """Draw the predicted ``P(class 1)`` over the unit square, the 0.5 contour (the decision
    boundary), the true hill and, optionally, each hidden unit's line ``h_j = 1/2``. Chapter 6.

    Args:
      params: one network's parameters.
      ax: a Matplotlib ``Axes``; a new figure if ``None``.
      data: optional ``(X, y)`` to scatter (a few hundred points read best).
      show_units: draw each hidden unit's line, dashed, with its number.
      num: grid points per side.
      title: the axes title.

    Returns:
      The ``Axes``.
    """
    import matplotlib.pyplot as plt

    from jaxbook import plotting

    ax = plt.subplots(figsize=(4.6, 4.2))[1] if ax is None else ax
    xx, yy, prob = grid_probabilities(params, num=num)
    image = ax.contourf(np.asarray(xx), np.asarray(yy), np.asarray(prob), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
    ax.contour(np.asarray(xx), np.asarray(yy), np.asarray(prob), levels=[0.5], colors="black", linewidths=2)
    xs = np.linspace(0.0, 1.0, 200)
    ax.plot(xs, np.asarray(hill_boundary(xs)), color=plotting.TRUE_COLOR, linestyle="--", linewidth=2, label="true hill")
    if data is not None:
        X, y = (np.asarray(a) for a in data)
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", s=6, edgecolors="none", alpha=0.8)
    if show_units:
        for j in range(np.shape(params["W1"])[1]):
            ys = np.asarray(hidden_unit_line(params, j, xs))
            ax.plot(xs, ys, color="0.2", linestyle=":", linewidth=1.5)
            inside = np.flatnonzero((ys > 0.03) & (ys < 0.97))
            if inside.size:
                k = inside[len(inside) // 3]
                ax.annotate(f"unit {j + 1}", (xs[k], ys[k]), fontsize=9, color="0.1", xytext=(4, 4), textcoords="offset points")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(False)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="P(class 1)", shrink=0.85)
    return ax
