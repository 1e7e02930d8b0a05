"""jaxbook: the helpers shared by the chapters of *Machine-learning foundations with JAX*.

Every chapter starts with ``import jaxbook`` and ``jaxbook.setup()``. The modules are small and
pure (explicit keys, no printing, no global state beyond what ``setup`` asks for):

- :mod:`jaxbook.notebook`: notebook defaults (print precision, figure style) and versions.
- :mod:`jaxbook.data`: synthetic data sets, each drawn from an explicit ``jax.random`` key.
- :mod:`jaxbook.least_squares`: the design matrix, least squares, simple regression (Chapter 1).
- :mod:`jaxbook.losses`: loss functions (mean squared error, stable binary cross-entropy).
- :mod:`jaxbook.train`: gradient descent as one ``lax.scan``, with history and divergence checks.
- :mod:`jaxbook.nn`: the hill data set and a two-layer network written by hand (Chapter 6).
- :mod:`jaxbook.optim`: optax training loops, success-rate studies and L-BFGS (Chapter 7).
- :mod:`jaxbook.flax_models`: networks as Flax NNX modules and their training loop (Chapter 8).
- :mod:`jaxbook.plotting`: figures with one consistent look.
- :mod:`jaxbook.checks`: checkers for the exercises; call them on your answer.
- :mod:`jaxbook.validation`: input checks that raise clear ``ValueError`` messages.
"""

from jaxbook import checks, data, flax_models, least_squares, losses, nn, notebook, optim, plotting, train, validation
from jaxbook.notebook import setup, versions

__version__ = "0.1.0"

__all__ = [
    "checks",
    "data",
    "flax_models",
    "least_squares",
    "losses",
    "nn",
    "notebook",
    "optim",
    "plotting",
    "setup",
    "train",
    "validation",
    "versions",
]
