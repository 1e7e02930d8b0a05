"""Functions of two parameters as pictures: a 3-D surface beside labelled contours, and descent
paths drawn on the contours.

Introduced in Chapter 2 (gradient descent on quadratics and cost surfaces) and reused for the
optimiser paths of Chapter 7. A function of two parameters is written for **one** point,
``f(t) -> scalar`` with ``t`` of shape ``(2,)`` (the same form ``jax.grad`` and
``jaxbook.train.gradient_descent`` take), and :func:`evaluate_on_grid` batches it over a grid with
``jax.vmap``: no hand-written broadcasting.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax import Array
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from jaxbook import validation

ScalarFn = Callable[[Array], Array]
Range = tuple[float, float]

#: Colours for descent paths, in order: Okabe and Ito's colour-blind-safe palette, without the greens of the
#: contours.
PATH_COLORS = ("#D55E00", "#56B4E9", "#E69F00", "#CC79A7", "#0072B2", "#000000")


def _check_callable(name: str, f: object) -> None:
    if not callable(f):
        raise ValueError(
            f"{name} must be a function f(t) of a parameter vector t of shape (2,); got {type(f).__name__}"
        )


def _check_range(name: str, value: object) -> Range:
    try:
        low, high = (float(v) for v in value)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers; got {value!r}") from None
    if not (np.isfinite(low) and np.isfinite(high)) or low >= high:
        raise ValueError(f"{name} must be a finite pair (low, high) with low < high; got ({low}, {high})")
    return low, high


def _check_num(num: object) -> int:
    num = validation.positive_int("num", num)
    if num < 2:
        raise ValueError(f"num must be at least 2 grid points per axis; got {num}")
    return num


def _grid_values(f: ScalarFn, t0_range: Range, t1_range: Range, num: int) -> tuple[Array, Array, Array]:
    T0, T1 = jnp.meshgrid(jnp.linspace(*t0_range, num), jnp.linspace(*t1_range, num))
    points = jnp.stack([T0.ravel(), T1.ravel()], axis=1)
    return T0, T1, jax.vmap(f)(points)


def evaluate_on_grid(
    f: ScalarFn,
    t0_range: Range,
    t1_range: Range,
    *,
    num: int = 101,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate ``f(t)`` at every point of a ``num x num`` grid, batched with ``jax.vmap``.

    Args:
      f: ``f(t) -> scalar`` for one point ``t = (t0, t1)`` of shape ``(2,)``.
      t0_range, t1_range: ``(low, high)`` of each axis.
      num: grid points per axis, >= 2.

    Returns:
      ``(T0, T1, Z)``, NumPy arrays of shape ``(num, num)`` as for ``plt.contour``: ``T0[i, j]``
      varies along ``j``, ``T1[i, j]`` along ``i``, and ``Z[i, j] = f([T0[i, j], T1[i, j]])``.

    Raises:
      ValueError: if ``f`` is not callable or does not return one number per point, a range is
        not an increasing finite pair, or ``num`` < 2.

    Example:
      >>> T0, T1, Z = evaluate_on_grid(lambda t: t[0] ** 2 + t[1] ** 2, (-1, 1), (-1, 1), num=3)
      >>> Z
      array([[2., 1., 2.],
             [1., 0., 1.],
             [2., 1., 2.]], dtype=float32)
    """
    _check_callable("f", f)
    t0_range = _check_range("t0_range", t0_range)
    t1_range = _check_range("t1_range", t1_range)
    num = _check_num(num)
    # grid and values as one compiled program, not one per operation run eagerly; a fresh jit on
    # every call, so a function whose globals changed is never served a stale result
    T0, T1, values = jax.jit(functools.partial(_grid_values, f, t0_range, t1_range, num))()
    if jnp.shape(values) != (num * num,):
        raise ValueError(
            f"f must return a scalar for one point t of shape (2,); on a batch of {num * num} points "
            f"vmap gave shape {tuple(jnp.shape(values))}, expected {(num * num,)}"
        )
    return np.asarray(T0), np.asarray(T1), np.asarray(values).reshape(num, num)


def _contours(ax: Axes, T0: np.ndarray, T1: np.ndarray, Z: np.ndarray, levels: int | Sequence[float], fmt: str) -> None:
    filled = ax.contourf(T0, T1, Z, levels=levels, cmap="viridis")
    # non-antialiased lines: antialiased thin lines over filled contours triple the PNG size
    lines = ax.contour(T0, T1, Z, levels=filled.levels, colors="white", linewidths=0.7, antialiased=False)
    ax.clabel(lines, fmt=fmt, fontsize=8, colors="white")
    ax.grid(False)  # the contour lines are the grid; a second one only clutters (and bloats the PNG)


def plot_surface(
    f: ScalarFn,
    t0_range: Range,
    t1_range: Range,
    *,
    num: int = 61,
    levels: int | Sequence[float] = 10,
    labels: tuple[str, str] = ("$t_0$", "$t_1$"),
    zlabel: str = "$f(t)$",
    title: str | None = None,
    fmt: str = "%.3g",
) -> Figure:
    """Draw ``f`` as a 3-D surface (left) beside filled contours with labelled levels (right).

    Args:
      f: ``f(t) -> scalar`` for one point ``t`` of shape ``(2,)``; evaluated with
        :func:`evaluate_on_grid`.
      t0_range, t1_range: ``(low, high)`` of the horizontal and vertical axes.
      num: grid points per axis, >= 2.
      levels: number of contour levels, or the levels themselves (increasing).
      labels: axis labels of ``t0`` and ``t1`` (with units, if any).
      zlabel: label of the function's value.
      title: figure title.
      fmt: format of the contour labels.

    Returns:
      The figure; ``fig.axes[0]`` is the 3-D surface, ``fig.axes[1]`` the contour plot.

    Raises:
      ValueError: for bad ``f``, ranges or ``num`` (see :func:`evaluate_on_grid`) or ``levels``.

    Example:
      >>> fig = plot_surface(lambda t: t[0] ** 2 + t[1] ** 2, (-2, 2), (-2, 2), title="a bowl")
    """
    levels = _check_levels(levels)
    T0, T1, Z = evaluate_on_grid(f, t0_range, t1_range, num=num)
    fig = plt.figure(figsize=(11, 4.4))
    ax3d = fig.add_subplot(1, 2, 1, projection="3d")
    # at most 40 facets per side: smoother adds nothing visible but bytes to the stored notebook
    stride = max(1, (num - 1) // 40)
    ax3d.plot_surface(T0, T1, Z, cmap="viridis", linewidth=0, antialiased=False, rstride=stride, cstride=stride)
    ax3d.set_xlabel(labels[0])
    ax3d.set_ylabel(labels[1])
    ax3d.set_zlabel(zlabel)
    ax3d.set_title("surface")
    ax = fig.add_subplot(1, 2, 2)
    _contours(ax, T0, T1, Z, levels, fmt)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.set_title(f"contours of {zlabel}")
    ax.set_aspect("equal", adjustable="box")
    if title is not None:
        fig.suptitle(title)
    return fig


def _check_levels(levels: int | Sequence[float]) -> int | list[float]:
    if isinstance(levels, (int, np.integer)) and not isinstance(levels, bool):
        return validation.positive_int("levels", levels)
    values = validation.as_float_array("levels", levels, ndim=1)
    if values.size < 2 or np.any(np.diff(values) <= 0):
        raise ValueError(f"levels must be a count or at least two increasing values; got {values.tolist()}")
    return values.tolist()


def _check_path(name: str, path: object) -> np.ndarray:
    array = validation.as_float_array(name, path, ndim=2)
    if array.shape[1] != 2:
        raise ValueError(f"{name} must have shape (num_points, 2), one (t0, t1) per row; got shape {array.shape}")
    return array


def plot_paths(
    f: ScalarFn,
    paths: Mapping[str, Array],
    t0_range: Range,
    t1_range: Range,
    *,
    ax: Axes | None = None,
    num: int = 101,
    levels: int | Sequence[float] = 10,
    labels: tuple[str, str] = ("$t_0$", "$t_1$"),
    minimum: Sequence[float] | None = None,
    fmt: str = "%.3g",
    equal_aspect: bool = True,
) -> Axes:
    """Draw descent paths on the filled, labelled contours of ``f``.

    Each path is a sequence of points ``(t0, t1)``, for example ``history["params"]`` from
    ``jaxbook.train.gradient_descent(..., record_params=True)``. It is drawn as a line with a dot
    at every step, starting from a black square; a path that leaves the window (diverges) is cut
    at its edge.

    Args:
      f: ``f(t) -> scalar`` for one point ``t`` of shape ``(2,)``.
      paths: legend labels mapped to arrays of shape ``(num_points, 2)``.
      t0_range, t1_range: the window, ``(low, high)`` per axis.
      ax: where to draw; a new figure if ``None``.
      num: grid points per axis for the contours.
      levels: number of contour levels or the levels themselves.
      labels: axis labels.
      minimum: optional ``(t0, t1)`` of the minimum, drawn as a white star.
      fmt: format of the contour labels.
      equal_aspect: draw both axes to the same scale (circles look like circles).

    Returns:
      The axes.

    Raises:
      ValueError: if ``paths`` is empty or not a mapping, a path is not of shape ``(k, 2)`` or has
        NaN/inf, or for bad ``f``, ranges, ``num`` or ``levels``.

    Example:
      >>> path = jnp.array([[2.0, 1.0], [1.6, 0.8], [1.28, 0.64]])
      >>> ax = plot_paths(lambda t: t @ t, {"lr = 0.1": path}, (-2.5, 2.5), (-1.5, 1.5))
    """
    if not isinstance(paths, Mapping) or len(paths) == 0:
        raise ValueError(
            f"paths must be a non-empty mapping {{label: array of shape (k, 2)}}; got {type(paths).__name__}"
        )
    checked = {label: _check_path(f"paths[{label!r}]", path) for label, path in paths.items()}
    levels = _check_levels(levels)
    T0, T1, Z = evaluate_on_grid(f, t0_range, t1_range, num=num)
    ax = plt.subplots()[1] if ax is None else ax
    _contours(ax, T0, T1, Z, levels, fmt)
    for i, (label, path) in enumerate(checked.items()):
        color = PATH_COLORS[i % len(PATH_COLORS)]
        ax.plot(path[:, 0], path[:, 1], "-o", color=color, markersize=3.5, linewidth=1.6, label=label)
    starts = np.array([path[0] for path in checked.values()])
    ax.plot(starts[:, 0], starts[:, 1], "s", color="black", markersize=6, label="start")
    if minimum is not None:
        t_min = np.asarray(minimum, dtype=float)
        ax.plot(t_min[0], t_min[1], "*", color="white", markeredgecolor="black", markersize=13, label="minimum")
    ax.set_xlim(*t0_range)
    ax.set_ylim(*t1_range)
    if equal_aspect:
        ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    ax.legend(loc="upper left", fontsize=8, framealpha=0.85, frameon=True)
    return ax
