r"""Data parallelism with ``jax.sharding``: where the pieces of a sharded array live.

Introduced in Chapter 9. In data parallelism every device holds a full copy of the parameters
(**replicated**) and a slice of each batch (**sharded** along the batch axis). Under ``jit`` the
compiler (XLA's SPMD partitioner) then runs the step on every device at once and adds the
all-reduce that sums the per-device gradients: the training step itself is unchanged (Chapter 9
trains Chapter 8's classifier with ``jaxbook.flax_models.train_step`` on Chapter 6's hill data).
Chapter 9 builds the mesh and the shardings itself, with ``jax.make_mesh``, ``NamedSharding``
and ``jax.device_put``; this module holds what it reads back.

Nothing here sets the number of devices: on a CPU, several simulated devices exist only if the
process was started with ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` (Chapter 9 sets
it in its first cell).
"""

from __future__ import annotations

from jax import Array


def shard_devices(array: Array) -> list[tuple[int, int, int]]:
    """For each piece of a (possibly sharded) array: ``(device id, first row, number of rows)``.

    Sorted by device id; a replicated array shows every device with all rows. Chapter 9.

    Example:
      >>> import jax.numpy as jnp
      >>> shard_devices(jnp.zeros((4, 2)))
      [(0, 0, 4)]
    """
    pieces = []
    for shard in array.addressable_shards:
        rows = shard.index[0] if shard.index else slice(None)
        start = 0 if rows.start is None else int(rows.start)
        pieces.append((int(shard.device.id), start, int(shard.data.shape[0]) if shard.data.ndim else 1))
    return sorted(pieces)
