"""jaxbook.parallel and data-parallel training: Chapter 8's classifier and train step, sharded.

The tests in this process use whatever ``jax.devices()`` holds (usually one CPU device: other
tests may have started JAX already). The data-parallel run on 4 simulated devices happens in a
fresh subprocess, where the XLA flag can still take effect.
"""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx
from jax.sharding import AxisType, NamedSharding, PartitionSpec

from jaxbook import flax_models, hill, parallel


def test_hill_data_shapes_labels_and_reproducibility():
    data = hill.hill_data(jax.random.key(0), n_train=500, n_val=50)
    assert data.X_train.shape == (500, 2) and data.y_train.shape == (500,) and data.X_val.shape == (50, 2)
    X = np.asarray(data.X_train, dtype=np.float64)
    assert X.min() >= 0 and X.max() <= 1
    np.testing.assert_array_equal(data.y_train, (X[:, 1] >= 2.5 * X[:, 0] * (1 - X[:, 0])).astype(np.float32))
    again = hill.hill_data(jax.random.key(0), n_train=500, n_val=50)
    np.testing.assert_array_equal(again.X_val, data.X_val)
    with pytest.raises(ValueError, match="n_train must be a positive integer; got 0"):
        hill.hill_data(jax.random.key(0), n_train=0)


def test_classifier_forward_pass_and_loss_against_numpy():
    model = flax_models.MLP(2, [3], 2, rngs=nnx.Rngs(0))
    X = jax.random.uniform(jax.random.key(1), (7, 2))
    y = jnp.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    W1, b1 = np.asarray(model.hidden[0].kernel[...]), np.asarray(model.hidden[0].bias[...])
    W2, b2 = np.asarray(model.output.kernel[...]), np.asarray(model.output.bias[...])
    logits = 1 / (1 + np.exp(-(np.asarray(X) @ W1 + b1))) @ W2 + b2
    np.testing.assert_allclose(model(X), logits, rtol=1e-5, atol=1e-6)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected_loss = -np.mean(log_softmax[np.arange(7), y.astype(int)])
    np.testing.assert_allclose(flax_models.softmax_loss(model, X, y), expected_loss, rtol=1e-5)
    np.testing.assert_allclose(flax_models.accuracy(model, X, y), np.mean(logits.argmax(axis=1) == y), rtol=1e-6)


def test_train_step_lowers_the_loss_and_updates_in_place():
    data = hill.hill_data(jax.random.key(0), n_train=1000, n_val=10)
    model = flax_models.MLP(2, [8], 2, rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(0.1), wrt=nnx.Param)
    before = np.asarray(model.output.kernel[...]).copy()
    losses = [
        float(flax_models.train_step(flax_models.softmax_loss, model, optimizer, data.X_train, data.y_train))
        for _ in range(30)
    ]
    assert losses[-1] < 0.8 * losses[0]
    assert not np.allclose(before, model.output.kernel[...])


def test_shard_devices_on_the_available_devices():
    devices = len(jax.devices())
    mesh = jax.make_mesh((devices,), ("data",), axis_types=(AxisType.Auto,))
    X = jnp.arange(8.0 * devices).reshape(4 * devices, 2)
    X_sharded = jax.device_put(X, NamedSharding(mesh, PartitionSpec("data")))
    np.testing.assert_array_equal(X_sharded, X)
    assert parallel.shard_devices(X_sharded) == [
        (d.id, 4 * i, 4) for i, d in enumerate(sorted(jax.devices(), key=lambda d: d.id))
    ]
    replicated = jax.device_put(X, NamedSharding(mesh, PartitionSpec()))
    assert parallel.shard_devices(replicated) == [
        (d.id, 0, 4 * devices) for d in sorted(jax.devices(), key=lambda d: d.id)
    ]


SUBPROCESS_SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np, optax
    from flax import nnx
    from jax.sharding import AxisType, NamedSharding, PartitionSpec
    from jaxbook import flax_models, hill, parallel
    assert len(jax.devices()) == 4, jax.devices()
    data = hill.hill_data(jax.random.key(0), n_train=2000, n_val=10)
    mesh = jax.make_mesh((4,), ("data",), axis_types=(AxisType.Auto,))
    batch, replicated = NamedSharding(mesh, PartitionSpec("data")), NamedSharding(mesh, PartitionSpec())

    def run(sharded):
        model = flax_models.MLP(2, [8], 2, rngs=nnx.Rngs(0))
        optimizer = nnx.Optimizer(model, optax.adam(0.1), wrt=nnx.Param)
        X, y = data.X_train, data.y_train
        if sharded:
            nnx.update((model, optimizer), jax.device_put(nnx.state((model, optimizer)), replicated))
            X, y = jax.device_put(X, batch), jax.device_put(y, batch)
        losses = np.array([flax_models.train_step(flax_models.softmax_loss, model, optimizer, X, y) for _ in range(20)])
        return model, losses, X

    model_1, losses_1, _ = run(False)
    model_4, losses_4, X_4 = run(True)
    assert parallel.shard_devices(X_4) == [(0, 0, 500), (1, 500, 500), (2, 1000, 500), (3, 1500, 500)]
    np.testing.assert_allclose(losses_1, losses_4, atol=1e-5)
    for a, b in zip(jax.tree.leaves(nnx.state(model_1)), jax.tree.leaves(nnx.state(model_4))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-4)
    assert model_4.output.kernel[...].sharding.is_fully_replicated
    print("ok")
    """
)


def test_data_parallel_training_on_four_simulated_devices_matches_one_device():
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS="--xla_force_host_platform_device_count=4")
    result = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
