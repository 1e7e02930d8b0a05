"""Notebook defaults: print precision, figure style, and the versions a page was executed with.

Introduced in Chapter 1; every chapter calls :func:`setup` in its first code cell.
"""

from __future__ import annotations

import importlib.metadata
import platform

import matplotlib as mpl
import numpy as np
import pandas as pd

#: Digits printed for arrays and tables. Four is what the lessons need, and few enough that a
#: stored output does not depend on the last bits a particular CPU computes.
PRECISION = 4

#: The book's figure look: one place, so every chapter's figures match.
STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "figure.constrained_layout.use": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
    # Okabe and Ito's palette, which readers with any common colour-vision deficiency can tell apart.
    "axes.prop_cycle": mpl.cycler(color=["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"]),
}

#: The libraries whose versions a page reports.
LIBRARIES = ("jax", "jaxlib", "numpy", "scipy", "pandas", "matplotlib", "scikit-learn", "statsmodels", "optax", "flax")


def setup(precision: int = PRECISION) -> None:
    """Apply the book's defaults: array and table precision, and the figure style.

    Array printing goes through NumPy's print options (JAX arrays use them too), rounded to
    ``precision`` decimals with small values shown as 0 rather than in scientific notation.

    Example:
      >>> import jaxbook
      >>> jaxbook.setup()  # doctest: +SKIP
    """
    np.set_printoptions(precision=precision, suppress=True, floatmode="fixed", linewidth=100)
    pd.set_option("display.precision", precision)
    pd.set_option("display.width", 100)
    mpl.rcParams.update(STYLE)


def versions() -> dict[str, str]:
    """Return the Python version and the installed version of each library the book uses.

    Example:
      >>> "jax" in versions()
      True
    """
    # major.minor only: a patch release of Python changes nothing the book prints
    found = {"python": ".".join(platform.python_version_tuple()[:2])}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def versions_line() -> str:
    """The versions as one line, e.g. for the last cell of a chapter: ``python 3.11.7, jax 0.10.2, ...``."""
    return ", ".join(f"{name} {version}" for name, version in versions().items())
