r"""Logistic regression: Chapter 5's data sets, model, loss, metrics and decision-boundary plot.

The model gives each row ``x`` of the design matrix (a column of ones first) a logit
``z = x . b`` and the probability ``sigmoid(z)`` of class 1. As in Chapters 1 and 4, ``b`` is the
coefficient vector: ``b[0]`` the intercept, ``b[1:]`` the slopes; an array, which ``jax.grad`` and
``jaxbook.train.gradient_descent`` handle directly. The loss is the stable mean binary
cross-entropy of ``jaxbook.losses``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax import Array
from matplotlib.axes import Axes

from jaxbook import losses, validation


def hyperplane_weights(key: Array, dim: int = 100) -> Array:
    """True slopes of Chapter 5's hyperplane data: ``1 + N(0, 1)`` in each of ``dim`` dimensions.

    Example:
      >>> hyperplane_weights(jax.random.key(0), 3).shape
      (3,)
    """
    dim = validation.positive_int("dim", dim)
    return 1.0 + jax.random.normal(key, (dim,))


def hyperplane_data(key: Array, weights: Array, n: int = 10_000) -> tuple[Array, Array]:
    """Points on either side of the hyperplane ``x . weights = 0``, blurred by logistic noise.

    ``x ~ N(0, I)`` in ``d = len(weights)`` dimensions and ``y = 1`` when
    ``x . weights + noise > 0`` with ``noise`` standard logistic, which is the same as drawing
    ``y ~ Bernoulli(sigmoid(x . weights))``: exactly the logistic-regression model, so its
    maximum-likelihood fit is the right one. Chapter 5.

    Args:
      key: a ``jax.random.key``, split into one key for ``x`` and one for the noise.
      weights: the true slopes, shape ``(d,)`` (see :func:`hyperplane_weights`).
      n: number of points.

    Returns:
      ``(X, y)`` of shapes ``(n, d)`` and ``(n,)``; ``y`` holds 0.0 and 1.0 (float32).

    Example:
      >>> w = hyperplane_weights(jax.random.key(0), 3)
      >>> X, y = hyperplane_data(jax.random.key(1), w, n=4)
      >>> X.shape, y.shape
      ((4, 3), (4,))
    """
    n = validation.positive_int("n", n)
    validation.as_float_array("weights", weights, ndim=1)
    return _hyperplane_data(key, jnp.asarray(weights, dtype=jnp.float32), n)


@partial(jax.jit, static_argnums=2)
def _hyperplane_data(key: Array, weights: Array, n: int) -> tuple[Array, Array]:
    # one compiled program instead of a dozen eagerly dispatched (and separately compiled) ops
    key_x, key_noise = jax.random.split(key)
    X = jax.random.normal(key_x, (n, weights.shape[0]))
    noise = jax.random.logistic(key_noise, (n,))
    y = (X @ weights + noise > 0).astype(jnp.float32)
    return X, y


def radial_data(key: Array, n: int, dim: int = 2) -> tuple[Array, Array]:
    """Points ``x ~ N(0, I)`` in ``dim`` dimensions, class 1 inside the unit RMS ball.

    ``y = 1`` when ``sqrt(mean(x^2)) < 1``, i.e. ``||x||^2 < dim``: the classes are a ball and
    the shell around it, which no hyperplane separates. Chapter 5.

    Returns:
      ``(X, y)`` of shapes ``(n, dim)`` and ``(n,)``.

    Example:
      >>> X, y = radial_data(jax.random.key(0), 5, dim=2)
      >>> X.shape
      (5, 2)
    """
    n = validation.positive_int("n", n)
    dim = validation.positive_int("dim", dim)
    return _radial_data(key, n, dim)


@partial(jax.jit, static_argnums=(1, 2))
def _radial_data(key: Array, n: int, dim: int) -> tuple[Array, Array]:
    X = jax.random.normal(key, (n, dim))
    y = (jnp.sqrt(jnp.mean(X**2, axis=1)) < 1.0).astype(jnp.float32)
    return X, y


def squared_features(X: Array) -> Array:
    """Append the squares of the features: ``[x_1, ..., x_d, x_1^2, ..., x_d^2]``, shape ``(n, 2d)``.

    A linear model in these features has quadratic decision boundaries (circles, ellipses).
    Chapter 5.

    Example:
      >>> squared_features(jnp.array([[1.0, -2.0]]))
      Array([[ 1., -2.,  1.,  4.]], dtype=float32)
    """
    validation.as_float_array("X", X, ndim=2)
    return _squared_features(jnp.asarray(X))


@jax.jit
def _squared_features(X: Array) -> Array:
    return jnp.concatenate([X, X**2], axis=1)


def with_intercept(X: Array) -> Array:
    """Prepend a column of ones to ``X``: the design matrix ``[1, x_1, ..., x_d]``, shape ``(n, d + 1)``.

    With it the coefficient vector ``b`` holds the intercept ``b[0]`` and the slopes ``b[1:]``,
    as in Chapters 1 and 4. Chapter 5.

    Args:
      X: the points, shape ``(n, d)``; a NumPy or JAX array, also a traced one inside ``jit``.

    Returns:
      ``[ones, X]``, shape ``(n, d + 1)``, in the dtype of ``X``.

    Example:
      >>> with_intercept(jnp.array([[2.0], [3.0]]))
      Array([[1., 2.],
             [1., 3.]], dtype=float32)
    """
    if jnp.ndim(X) != 2:  # a shape check only, so that the function also works under jit and vmap
        raise ValueError(f"X must be a 2-D array of shape (n, d); got shape {jnp.shape(X)}")
    return _with_intercept(jnp.asarray(X))


@jax.jit
def _with_intercept(X: Array) -> Array:
    # one compiled program per shape, instead of three eager ops (ones, broadcast, concatenate)
    return jnp.concatenate([jnp.ones((X.shape[0], 1), X.dtype), X], axis=1)


def logits(b: Array, X: Array) -> Array:
    """The model's logits ``X @ b``, shape ``(n,)``, for a design matrix ``X`` with its column of ones.

    Chapter 5.

    Example:
      >>> logits(jnp.array([0.5, 2.0]), with_intercept(jnp.array([[1.0], [-1.0]])))
      Array([ 2.5, -1.5], dtype=float32)
    """
    return X @ b


@jax.jit
def predict_proba(b: Array, X: Array) -> Array:
    """Probabilities of class 1, ``sigmoid(X @ b)``, shape ``(n,)``. Chapter 5.

    Example:
      >>> predict_proba(jnp.zeros(2), jnp.ones((1, 2)))
      Array([0.5], dtype=float32)
    """
    return jax.nn.sigmoid(logits(b, X))


@jax.jit
def loss(b: Array, X: Array, y: Array) -> Array:
    """Mean binary cross-entropy of the coefficients ``b`` on ``(X, y)``, computed stably from logits.

    ``X`` is the design matrix (column of ones first, see :func:`with_intercept`). Chapter 5.

    Example:
      >>> float(loss(jnp.zeros(2), jnp.ones((3, 2)), jnp.array([0.0, 1.0, 1.0])))  # log 2
      0.6931...
    """
    return losses.binary_cross_entropy(logits(b, X), y)


@jax.jit
def metrics(b: Array, X: Array, y: Array) -> dict[str, Array]:
    """Accuracy, false positives and false negatives of the rule "class 1 when the logit > 0".

    A false positive is a point of class 0 predicted as 1; a false negative the reverse. Counts
    are returned as float32 so that they stack into a history. Used as ``metrics_fn`` of
    ``jaxbook.train.gradient_descent`` in Chapter 5.

    Example:
      >>> m = metrics(jnp.zeros(2), jnp.ones((2, 2)), jnp.array([0.0, 1.0]))
      >>> float(m["accuracy"]), float(m["false_positives"]), float(m["false_negatives"])
      (0.5, 0.0, 1.0)
    """
    predicted = logits(b, X) > 0
    actual = y > 0.5
    return {
        "accuracy": jnp.mean(predicted == actual),
        "false_positives": jnp.sum(predicted & ~actual).astype(jnp.float32),
        "false_negatives": jnp.sum(~predicted & actual).astype(jnp.float32),
    }


def plot_decision_boundary(
    predict: Callable[[Array], Array],
    X: Array,
    y: Array,
    *,
    ax: Axes | None = None,
    resolution: int = 150,
    margin: float = 0.5,
) -> Axes:
    """Shade the predicted probability of class 1 over a 2-D plane, draw the 0.5 contour and the data.

    Args:
      predict: maps points of shape ``(m, 2)`` to probabilities of class 1, shape ``(m,)``.
      X: 2-D points, shape ``(n, 2)``.
      y: labels 0/1, shape ``(n,)``.
      ax: where to draw; a new figure if ``None``.
      resolution: grid points per axis.
      margin: padding around the data range.

    Returns:
      The ``Axes``, with axis labels ``x1`` and ``x2``; the caller sets the title. Chapter 5.
    """
    X_np = validation.as_float_array("X", X, ndim=2)
    y_np = validation.as_float_array("y", y, ndim=1)
    validation.same_length(X=X_np, y=y_np)
    if X_np.shape[1] != 2:
        raise ValueError(f"X must have 2 columns to draw a plane; got shape {X_np.shape}")
    ax = plt.subplots()[1] if ax is None else ax
    lo, hi = X_np.min(axis=0) - margin, X_np.max(axis=0) + margin
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = jnp.asarray(np.column_stack([g1.ravel(), g2.ravel()]), dtype=jnp.float32)
    prob = np.asarray(predict(grid)).reshape(g1.shape)
    shading = ax.contourf(g1, g2, prob, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(g1, g2, prob, levels=[0.5], colors="black", linewidths=1.5)
    for label, colour in ((0, "#0072B2"), (1, "#D55E00")):
        mask = y_np == label
        ax.scatter(X_np[mask, 0], X_np[mask, 1], s=8, color=colour, alpha=0.6, label=f"class {label}")
    ax.figure.colorbar(shading, ax=ax, label="P(class 1)")
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(loc="upper right")
    return ax
