"""jaxbook: the helpers shared by the chapters of *Machine-learning foundations with JAX*.

Every chapter starts with ``import jaxbook`` and ``jaxbook.setup()``. The modules are small and
pure (explicit keys, no printing, no global state beyond what ``setup`` asks for):

- :mod:`jaxbook.notebook`: notebook defaults (print precision, figure style) and versions.
- :mod:`jaxbook.data`: synthetic data sets, each drawn from an explicit ``jax.random`` key.
- :mod:`jaxbook.least_squares`: the design matrix, least squares, simple regression (Chapter 1).
- :mod:`jaxbook.losses`: loss functions (mean squared error, stable binary cross-entropy).
- :mod:`jaxbook.train`: the training-loop core, one ``lax.scan``: batches, history, divergence
  check, and plain gradient descent on it (Chapter 2; every later loop is built on it).
- :mod:`jaxbook.plotting`: figures with one consistent look.
- :mod:`jaxbook.surfaces`: functions of two parameters as surfaces, contours and descent paths (Chapter 2).
- :mod:`jaxbook.scaling`: standardising data and mapping coefficients back (Chapter 2).
- :mod:`jaxbook.taylor`: Taylor coefficients and polynomials by nesting ``jax.grad`` (Chapter 3).
- :mod:`jaxbook.regression`: Chapter 4's data set and the mean-squared-error loss of a linear model.
- :mod:`jaxbook.descent`: mini-batch SGD, shuffled afresh every epoch (Chapter 4).
- :mod:`jaxbook.stats`: coefficient tables with standard errors, like statsmodels (Chapters 4 and 5).
- :mod:`jaxbook.logistic`: logistic regression's data sets, model, metrics and plots (Chapter 5).
- :mod:`jaxbook.hill`: the hill data set (Chapter 6, used again in Chapters 7 to 9).
- :mod:`jaxbook.nn`: a two-layer network written by hand, and its training (Chapter 6).
- :mod:`jaxbook.studies`: many seeds trained at once with ``vmap`` (Chapter 6).
- :mod:`jaxbook.regions`: a hill network's predicted regions and hidden units, drawn (Chapter 6).
- :mod:`jaxbook.optim`: the optax training loop, success-rate studies and L-BFGS (Chapter 7).
- :mod:`jaxbook.flax_models`: networks as Flax NNX modules, their train step and loop (Chapter 8).
- :mod:`jaxbook.speed`: timing with compilation apart, FLOP and byte counts, the machine's limits (Chapter 9).
- :mod:`jaxbook.checks`: checkers for the exercises; call them on your answer.
- :mod:`jaxbook.validation`: input checks that raise clear ``ValueError`` messages.

Each module depends only on those of its own and earlier chapters.

Submodules are imported on first use (``jaxbook.stats`` or ``from jaxbook import stats``).
"""

import importlib
from typing import Any

from jaxbook.notebook import setup, versions

__version__ = "0.1.0"

__all__ = [
    "checks",
    "data",
    "descent",
    "flax_models",
    "hill",
    "least_squares",
    "logistic",
    "losses",
    "nn",
    "notebook",
    "optim",
    "plotting",
    "regions",
    "regression",
    "scaling",
    "setup",
    "speed",
    "stats",
    "studies",
    "surfaces",
    "taylor",
    "train",
    "validation",
    "versions",
]


def __getattr__(name: str) -> Any:
    """Import a submodule on first use (``jaxbook.stats`` ...), so each chapter starts quickly and
    loads only what it uses (SciPy's statistics, Flax and scikit-learn are slow to import)."""
    if name in __all__ and name not in ("setup", "versions"):
        return importlib.import_module(f"jaxbook.{name}")
    raise AttributeError(f"module 'jaxbook' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
