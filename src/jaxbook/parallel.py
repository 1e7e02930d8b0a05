r"""Data-parallel training with ``jax.sharding``: a device mesh, a sharded batch, replicated parameters.

Introduced in Chapter 9. In data parallelism every device holds a full copy of the parameters
(**replicated**) and a slice of each batch (**sharded** along the batch axis). Under ``jit`` the
compiler (XLA's SPMD partitioner) then runs the step on every device at once and adds the
all-reduce that sums the per-device gradients: the training step itself is unchanged.

Nothing here sets the number of devices: on a CPU, several simulated devices exist only if the
process was started with ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (Chapter 9 sets
it in its first cell), and every helper works with whatever ``jax.devices()`` holds.

This module also holds the hill data set and the hill classifier that Chapter 9 trains. They are
stand-ins with the same names and signatures as Chapter 6's ``jaxbook.nn.hill_data`` and a Flax
NNX module in the spirit of Chapter 8, so that this chapter runs on its own.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax import Array
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from jaxbook import validation

#: The name of the mesh axis along which batches are split.
DATA_AXIS = "data"


# --- the data set and the model (stand-ins for Chapters 6 and 8) -----------------------------


class HillData(NamedTuple):
    """The hill data set: training and validation inputs ``(n, 2)`` and 0/1 labels ``(n,)``."""

    X_train: Array
    y_train: Array
    X_val: Array
    y_val: Array


def hill_labels(X: Array) -> Array:
    """Labels of points ``X`` (n, 2): 1.0 where ``y >= 2.5 x (1 - x)``, else 0.0. Chapter 6."""
    return (X[:, 1] >= 2.5 * X[:, 0] * (1.0 - X[:, 0])).astype(jnp.float32)


def hill_data(key: Array, *, n_train: int = 10_000, n_val: int = 1_000) -> HillData:
    """Draw the hill data set: points uniform in the unit square, class 1 when ``y >= 2.5 x (1 - x)``.

    Same name, signature and draws as Chapter 6's ``jaxbook.nn.hill_data``.

    Args:
      key: a ``jax.random.key``; split here into one key per set.
      n_train, n_val: numbers of training and validation points.

    Returns:
      A :class:`HillData` ``(X_train (n_train, 2), y_train (n_train,), X_val, y_val)``, float32.

    Example:
      >>> data = hill_data(jax.random.key(0), n_train=100, n_val=10)
      >>> data.X_train.shape, data.y_val.shape
      ((100, 2), (10,))
    """
    n_train = validation.positive_int("n_train", n_train)
    n_val = validation.positive_int("n_val", n_val)
    return HillData(*_hill_data(key, n_train, n_val))


@partial(jax.jit, static_argnums=(1, 2))
def _hill_data(key: Array, n_train: int, n_val: int) -> tuple[Array, Array, Array, Array]:
    key_train, key_val = jax.random.split(key)
    X_train = jax.random.uniform(key_train, (n_train, 2))
    X_val = jax.random.uniform(key_val, (n_val, 2))
    return X_train, hill_labels(X_train), X_val, hill_labels(X_val)


class HillClassifier(nnx.Module):
    """The hill classifier as a Flax NNX module: ``2 -> width`` (sigmoid) ``-> 2`` logits.

    Two output logits, one per class, trained with softmax cross-entropy (:func:`loss`). A
    stand-in for Chapter 8's module. Chapter 9.

    Example:
      >>> model = HillClassifier(4, rngs=nnx.Rngs(0))
      >>> model(jnp.zeros((3, 2))).shape
      (3, 2)
    """

    def __init__(self, width: int = 8, *, rngs: nnx.Rngs):
        width = validation.positive_int("width", width)
        self.hidden = nnx.Linear(2, width, rngs=rngs)
        self.out = nnx.Linear(width, 2, rngs=rngs)

    def __call__(self, X: Array) -> Array:
        return self.out(jax.nn.sigmoid(self.hidden(X)))


def loss(model: HillClassifier, X: Array, y: Array) -> Array:
    """Mean softmax cross-entropy of the model's two logits against 0/1 labels ``y`` (n,). Chapter 9.

    Example:
      >>> model = HillClassifier(rngs=nnx.Rngs(0))
      >>> float(loss(model, jnp.zeros((2, 2)), jnp.array([0.0, 1.0]))) > 0
      True
    """
    labels = y.astype(jnp.int32)
    return optax.softmax_cross_entropy_with_integer_labels(model(X), labels).mean()


@nnx.jit
def accuracy(model: HillClassifier, X: Array, y: Array) -> Array:
    """Fraction of points whose larger logit is their class (compiled with ``nnx.jit``). Chapter 9.

    Example:
      >>> model = HillClassifier(rngs=nnx.Rngs(0))
      >>> 0.0 <= float(accuracy(model, jnp.zeros((4, 2)), jnp.ones(4))) <= 1.0
      True
    """
    return jnp.mean(jnp.argmax(model(X), axis=-1) == y.astype(jnp.int32))


@nnx.jit
def train_step(model: HillClassifier, optimizer: nnx.Optimizer, X: Array, y: Array) -> Array:
    """One optimiser step on the batch ``(X, y)``; updates ``model`` and ``optimizer`` in place.

    The Chapter 8 step: ``nnx.value_and_grad`` of :func:`loss`, then
    ``optimizer.update(model, grads)``, all under ``nnx.jit``. It is the same function for one
    device and for many: where the batch and the parameters live decides how it runs.

    Returns:
      The batch loss before the update.

    Example:
      >>> model = HillClassifier(rngs=nnx.Rngs(0))
      >>> optimizer = nnx.Optimizer(model, optax.adam(0.01), wrt=nnx.Param)
      >>> float(train_step(model, optimizer, jnp.zeros((4, 2)), jnp.ones(4))) > 0
      True
    """
    value, grads = nnx.value_and_grad(loss)(model, X, y)
    optimizer.update(model, grads)
    return value


# --- meshes and shardings -----------------------------------------------------------------------


def data_mesh(num_devices: int | None = None, *, axis_name: str = DATA_AXIS) -> Mesh:
    """A one-axis mesh of the first ``num_devices`` devices (all by default), for data parallelism.

    The axis type is ``Auto``: the compiler decides how to partition each operation from the
    shardings of the inputs (JAX 0.10's ``jax.make_mesh`` otherwise defaults to ``Explicit``,
    where every sharded contraction must be annotated by hand). Chapter 9.

    Example:
      >>> mesh = data_mesh(1)
      >>> dict(mesh.shape)
      {'data': 1}
    """
    available = len(jax.devices())
    num_devices = available if num_devices is None else validation.positive_int("num_devices", num_devices)
    if num_devices > available:
        raise ValueError(
            f"num_devices must be at most the number of devices, {available}; got {num_devices}. On a CPU, "
            "start Python with XLA_FLAGS=--xla_force_host_platform_device_count=N to simulate N devices"
        )
    return jax.make_mesh((num_devices,), (axis_name,), axis_types=(AxisType.Auto,))


def shard_batch(mesh: Mesh, *arrays: Array, axis_name: str = DATA_AXIS) -> tuple[Array, ...]:
    """Place each array on the mesh split along its first (batch) axis: ``PartitionSpec(axis_name)``.

    Device ``i`` gets rows ``i * n / d`` to ``(i + 1) * n / d`` of each array, for ``d`` devices
    along ``axis_name``; ``n`` must be a multiple of ``d``. Chapter 9.

    Returns:
      The arrays, now sharded, in the order given.

    Example:
      >>> (X,) = shard_batch(data_mesh(1), jnp.zeros((4, 2)))
      >>> X.sharding.spec == PartitionSpec("data")
      True
    """
    if axis_name not in mesh.shape:
        raise ValueError(f"axis_name must be an axis of the mesh, one of {tuple(mesh.shape)}; got {axis_name!r}")
    devices = mesh.shape[axis_name]
    sharding = NamedSharding(mesh, PartitionSpec(axis_name))
    placed = []
    for i, array in enumerate(arrays):
        rows = int(np.shape(array)[0]) if np.ndim(array) else 0
        if np.ndim(array) == 0 or rows % devices:
            raise ValueError(
                f"arrays[{i}] must have a first axis divisible by the {devices} devices of axis {axis_name!r}; "
                f"got shape {tuple(np.shape(array))}"
            )
        placed.append(jax.device_put(array, sharding))
    return tuple(placed)


def replicate(mesh: Mesh, tree: Any) -> Any:
    """Place a full copy of every array of a pytree on every device of the mesh: ``PartitionSpec()``.

    Example:
      >>> replicate(data_mesh(1), {"w": jnp.ones(2)})["w"].sharding.spec == PartitionSpec()
      True
    """
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def replicate_state(mesh: Mesh, *nodes: Any) -> None:
    """Replicate the state of NNX objects (a model, an optimizer) over the mesh, in place.

    ``nnx.state`` takes their arrays out as a pytree, :func:`replicate` places a copy on every
    device and ``nnx.update`` puts them back. Chapter 9.

    Example:
      >>> model = HillClassifier(rngs=nnx.Rngs(0))
      >>> replicate_state(data_mesh(1), model)
      >>> model.out.kernel[...].sharding.spec == PartitionSpec()
      True
    """
    nnx.update(nodes, replicate(mesh, nnx.state(nodes)))


def shard_devices(array: Array) -> list[tuple[int, int, int]]:
    """For each piece of a (possibly sharded) array: ``(device id, first row, number of rows)``.

    Sorted by device id; a replicated array shows every device with all rows. Chapter 9.

    Example:
      >>> shard_devices(jnp.zeros((4, 2)))
      [(0, 0, 4)]
    """
    pieces = []
    for shard in array.addressable_shards:
        rows = shard.index[0] if shard.index else slice(None)
        start = 0 if rows.start is None else int(rows.start)
        pieces.append((int(shard.device.id), start, int(shard.data.shape[0]) if shard.data.ndim else 1))
    return sorted(pieces)
