"""Pictures of a hill network: its predicted regions, its decision boundary and its hidden units' lines.

Introduced in Chapter 6 and used by Chapters 7 and 8 (Chapter 8 turns its Flax models back into
the pytree of ``jaxbook.nn`` with ``jaxbook.flax_models.to_params`` to draw them).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from jaxbook import hill, nn, validation
from jaxbook.nn import Params


def grid_probabilities(params: Params, *, num: int = 201) -> tuple[Array, Array, Array]:
    """Predicted ``P(class 1)`` on a ``num x num`` grid over the unit square, for region plots.

    Returns:
      ``(xx, yy, prob)``, each of shape ``(num, num)`` (``xx`` varies along columns). Chapter 6.

    Example:
      >>> xx, yy, prob = grid_probabilities(nn.init_params(jax.random.key(0)), num=5)
      >>> prob.shape
      (5, 5)
    """
    nn.check_arguments(params)
    num = validation.positive_int("num", num)
    return _grid_probabilities(params, num)


@partial(jax.jit, static_argnums=1)
def _grid_probabilities(params, num):
    xs = jnp.linspace(0.0, 1.0, num)
    xx, yy = jnp.meshgrid(xs, xs)
    points = jnp.stack([xx.ravel(), yy.ravel()], axis=1)
    prob = jax.nn.sigmoid(nn.logits(params, points)).reshape(xx.shape)
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

    ax = plt.subplots(figsize=(4.6, 4.2))[1] if ax is None else ax
    xx, yy, prob = grid_probabilities(params, num=num)
    image = ax.contourf(
        np.asarray(xx), np.asarray(yy), np.asarray(prob), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75
    )
    ax.contour(np.asarray(xx), np.asarray(yy), np.asarray(prob), levels=[0.5], colors="black", linewidths=2)
    xs = np.linspace(0.0, 1.0, 200)
    ax.plot(
        xs,
        np.asarray(hill.hill_boundary(xs)),
        color="#009E73",  # bluish green (Okabe and Ito), apart from the red-blue map
        linestyle="--",
        linewidth=2,
        label="true hill",
    )
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
                ax.annotate(
                    f"unit {j + 1}", (xs[k], ys[k]), fontsize=9, color="0.1", xytext=(4, 4), textcoords="offset points"
                )
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
