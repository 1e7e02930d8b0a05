"""Shared test configuration: strict shapes, CPU only."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

# Catch (n,) against (n, 1) broadcasting slips: any implicit rank promotion is an error in tests.
jax.config.update("jax_numpy_rank_promotion", "raise")
