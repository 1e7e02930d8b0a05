"""Data-parallel and model-parallel training as Chapter 9 does it: Chapter 8's classifier, sharded.

The tests in this process use whatever ``jax.devices()`` holds (usually one CPU device: other
tests may have started JAX already). The runs on 4 simulated devices happen in a fresh
subprocess, where ``jax_num_cpu_devices`` can still take effect.
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

from jaxbook import flax_models, hill


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
    # the model's three functions in one compiled program, rather than each of their operations eagerly
    got_logits, got_loss, got_accuracy = nnx.jit(
        lambda model, X, y: (model(X), flax_models.softmax_loss(model, X, y), flax_models.accuracy(model, X, y))
    )(model, X, y)
    np.testing.assert_allclose(got_logits, logits, rtol=1e-5, atol=1e-6)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected_loss = -np.mean(log_softmax[np.arange(7), y.astype(int)])
    np.testing.assert_allclose(got_loss, expected_loss, rtol=1e-5)
    np.testing.assert_allclose(got_accuracy, np.mean(logits.argmax(axis=1) == y), rtol=1e-6)


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


def rows_per_device(array):
    return sorted(
        (shard.device.id, shard.index[0].start or 0, shard.data.shape[0]) for shard in array.addressable_shards
    )


def test_rows_split_over_the_available_devices():
    devices = len(jax.devices())
    mesh = jax.make_mesh((devices,), ("data",), axis_types=(AxisType.Auto,))
    X = jnp.arange(8.0 * devices).reshape(4 * devices, 2)
    X_sharded = jax.device_put(X, NamedSharding(mesh, PartitionSpec("data")))
    np.testing.assert_array_equal(X_sharded, X)
    assert rows_per_device(X_sharded) == [
        (d.id, 4 * i, 4) for i, d in enumerate(sorted(jax.devices(), key=lambda d: d.id))
    ]


SUBPROCESS_SCRIPT = textwrap.dedent(
    """
    import jax
    jax.config.update("jax_num_cpu_devices", 4)
    import numpy as np, optax
    from flax import nnx
    from jax.sharding import AxisType, NamedSharding, PartitionSpec as P
    from jaxbook import flax_models, hill
    cpus = jax.devices("cpu")
    assert len(cpus) == 4, cpus
    data = hill.hill_data(jax.random.key(0), n_train=2000, n_val=10)

    @nnx.jit
    def train_step(model, optimizer, X, y):
        loss, grads = nnx.value_and_grad(flax_models.softmax_loss)(model, X, y)
        optimizer.update(model, grads)
        return loss

    def run(mesh=None, specs=None):
        model = flax_models.MLP(2, [8], 2, rngs=nnx.Rngs(0))
        X, y = data.X_train, data.y_train
        if mesh is not None:
            params = nnx.state(model, nnx.Param)
            place = lambda p, s: jax.device_put(p, NamedSharding(mesh, s))
            placed = jax.tree.map(place, nnx.to_pure_dict(params), specs)
            nnx.replace_by_pure_dict(params, placed)
            nnx.update(model, params)
            X, y = jax.device_put(X, NamedSharding(mesh, P("data"))), jax.device_put(y, NamedSharding(mesh, P("data")))
        optimizer = nnx.Optimizer(model, optax.adam(0.1), wrt=nnx.Param)
        with jax.set_mesh(mesh) if mesh is not None else jax.default_device(cpus[0]):
            losses = np.array([train_step(model, optimizer, X, y) for _ in range(20)])
        return model, optimizer, losses, X

    replicated = {"hidden": {0: {"kernel": P(), "bias": P()}}, "output": {"kernel": P(), "bias": P()}}
    by_model = {
        "hidden": {0: {"kernel": P(None, "model"), "bias": P("model")}},
        "output": {"kernel": P("model", None), "bias": P()},
    }
    model_1, _, losses_1, _ = run()

    # data parallel on the default (Explicit) mesh: the step runs unchanged
    mesh = jax.make_mesh((4,), ("data",), devices=cpus)
    model_4, _, losses_4, X_4 = run(mesh, replicated)
    starts = sorted((s.device.id, s.index[0].start or 0) for s in X_4.addressable_shards)
    assert starts == [(0, 0), (1, 500), (2, 1000), (3, 1500)]
    np.testing.assert_allclose(losses_1, losses_4, atol=1e-5)
    for a, b in zip(jax.tree.leaves(nnx.state(model_1)), jax.tree.leaves(nnx.state(model_4))):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-4)
    assert model_4.output.kernel[...].sharding.is_fully_replicated

    # parameters split over "model": ambiguous under Explicit axes, partitioned by the compiler under Auto
    try:
        run(jax.make_mesh((2, 2), ("data", "model"), devices=cpus), by_model)
        raise AssertionError("the Explicit 2-D mesh should ask for an out_sharding")
    except Exception as error:
        assert type(error).__name__ == "ShardingTypeError", repr(error)
    auto = jax.make_mesh((2, 2), ("data", "model"), devices=cpus, axis_types=(AxisType.Auto,) * 2)
    model_2d, optimizer_2d, losses_2d, _ = run(auto, by_model)
    np.testing.assert_allclose(losses_1, losses_2d, atol=1e-5)
    assert model_2d.hidden[0].kernel[...].sharding.spec == P(None, "model")
    assert optimizer_2d.opt_state[0].mu["hidden"][0]["kernel"][...].sharding.spec == P(None, "model")
    print("ok")
    """
)


def test_data_and_model_parallel_training_on_four_simulated_devices_match_one_device():
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", SUBPROCESS_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"
