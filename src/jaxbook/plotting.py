"""Figures with one consistent look. Each helper draws on an ``Axes`` (a new one if none is
given) and returns it; the notebook decides titles and what to show.

Introduced in Chapter 1. The style itself is :data:`jaxbook.notebook.STYLE`.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from jax import Array
from matplotlib.axes import Axes

from jaxbook import validation

#: Colours with a fixed meaning across the book.
DATA_COLOR = "0.45"
TRUE_COLOR = "#0072B2"  # blue and vermillion (Okabe and Ito): apart for colour-blind readers too
FIT_COLOR = "#D55E00"


def _axes(ax: Axes | None) -> Axes:
    return plt.subplots()[1] if ax is None else ax


def plot_fit(
    x: Array,
    y: Array,
    lines: Mapping[str, tuple[float, float]],
    *,
    ax: Axes | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
) -> Axes:
    """Scatter the data and draw straight lines given as ``{label: (intercept, slope)}``.

    The first line is drawn in the book's "truth" colour and dashed, the next in the "fit" colour;
    any further ones follow the colour cycle. Chapter 1.

    Args:
      x, y: data, shape ``(n,)`` each.
      lines: labels mapped to ``(intercept, slope)`` pairs.
      ax: where to draw; a new figure if ``None``.
      xlabel, ylabel: axis labels, with units where there are any.

    Example:
      >>> ax = plot_fit([0, 1, 2], [1, 3, 5], {"fit": (1.0, 2.0)})
    """
    x_np = validation.as_float_array("x", x, ndim=1)
    y_np = validation.as_float_array("y", y, ndim=1)
    validation.same_length(x=x_np, y=y_np)
    ax = _axes(ax)
    ax.scatter(x_np, y_np, s=12, color=DATA_COLOR, alpha=0.6, label="data", zorder=1)
    grid = np.linspace(x_np.min(), x_np.max(), 2)
    styles = [dict(color=TRUE_COLOR, linestyle="--"), dict(color=FIT_COLOR)]
    for i, (label, (intercept, slope)) in enumerate(lines.items()):
        style = styles[i] if i < len(styles) else {}
        ax.plot(grid, float(intercept) + float(slope) * grid, label=label, zorder=2, **style)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def plot_residuals(
    x: Array,
    residuals: Array,
    *,
    ax: Axes | None = None,
    xlabel: str = "x",
    ylabel: str = "residual",
) -> Axes:
    """Residuals against ``x`` with the zero line, to see whether anything is left to explain.

    Args:
      x, residuals: shape ``(n,)`` each.

    Example:
      >>> ax = plot_residuals([0, 1, 2], [0.1, -0.2, 0.1])
    """
    x_np = validation.as_float_array("x", x, ndim=1)
    r_np = validation.as_float_array("residuals", residuals, ndim=1)
    validation.same_length(x=x_np, residuals=r_np)
    ax = _axes(ax)
    ax.axhline(0.0, color="black", linewidth=1)
    ax.scatter(x_np, r_np, s=12, color=FIT_COLOR, alpha=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax
