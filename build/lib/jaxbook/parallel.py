r"""Data-parallel training with ``jax.sharding``: a device mesh, a sharded batch, replicated parameters.

Introduced in Chapter 9. In data parallelism every device holds a full copy of the parameters
(**replicated**) and a slice of each batch (**sharded** along the batch axis). Under ``jit`` the
compiler (XLA's SPMD partitioner) then runs the step on every device at once and adds the
all-reduce that sums the per-device gradients: the training step itself is unchanged.

Nothing here sets the number of devices: on a CPU, several simulated devices exist only if the
process was started with ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (Chapter 9 sets
it in its first cell), and every helper works with whatever ``jax.devices()`` holds.

The model Chapter 9 trains is Chapter 8's hill classifier (``jaxbook.flax_models.MLP`` with two
logits) on Chapter 6's hill data (``jaxbook.nn.hill_data``, re-exported here).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax import Array
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

from jaxbook import flax_models, validation
from jaxbook.nn import HillData, hill_data, hill_labels

__all__ = [
    "DATA_AXIS",
    "HillClassifier",
    "HillData",
    "accuracy",
    "data_mesh",
    "hill_data",
    "hill_labels",
    "loss",
    "replicate",
    "replicate_state",
    "shard_batch",
    "shard_devices",
    "train_step",
]

#: The name of the mesh axis along which batches are split.
DATA_AXIS = "data"


# --- the data set and the model: Chapter 6's hill data, Chapter 8's classifier -------------------


def HillClassifier(width: int = 8, *, rngs: nnx.Rngs) -> flax_models.MLP:
    """Chapter 8's hill classifier with two logits: ``flax_models.MLP(2, [width], 2, rngs=rngs)``.

    Sigmoid hidden layer of ``width`` units, one output logit per class. Chapter 9 trains it
    data-parallel.

    Example:
      >>> model = HillClassifier(4, rngs=nnx.Rngs(0))
      >>> model(jnp.zeros((3, 2))).shape
      (3, 2)
    """
    width = validation.positive_int("width", width)
    return flax_models.MLP(2, [width], 2, rngs=rngs)


#: Mean softmax cross-entropy of the two logits against 0/1 labels (Chapter 8's loss).
loss = flax_models.softmax_loss

#: Fraction of points whose larger logit is their class, compiled with ``nnx.jit`` (Chapter 8).
accuracy = nnx.jit(flax_models.accuracy)


@nnx.jit
def train_step(model: flax_models.MLP, optimizer: nnx.Optimizer, X: Array, y: Array) -> Array:
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
      >>> model.output.kernel[...].sharding.spec == PartitionSpec()
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
