"""tf.distribute strategies from config.

`mirrored` replicates the model on every local GPU and splits each global batch between them, so a book
experiment's batch size means the same thing on any number of devices. Without a GPU it replicates over
the logical CPU devices (one, unless the process split its CPU): that is how the tests run the
multi-replica path on machines without a GPU (docs/clusters.md). Training across several machines
(`MultiWorkerMirroredStrategy`) is not offered: Keras 3's `fit()` fails with it ("Attempt to convert a value
(PerReplica ...)", keras-team/keras#20585, tensorflow/tensorflow#72388; reproduced here with TensorFlow 2.21
and Keras 3.15 on two local workers). Scale sweeps out across machines with the SLURM or Ray launchers instead.
"""

from __future__ import annotations

from typing import Any

from ldl.errors import ConfigError

_MIRRORED: dict[tuple[str, ...], Any] = {}


def distribution_strategy(name: str | None) -> Any:
    """The tf.distribute strategy `trainer.distribute` names (None: TensorFlow's default strategy)."""
    from ldl.training.backend import tf

    if name is None:
        return tf.distribute.get_strategy()
    if name == "mirrored":
        # Every GPU; without one, one replica per logical CPU device: a process that split its CPU
        # into several (tf.config.set_logical_device_configuration) runs the multi-replica path.
        devices = tuple(d.name for d in tf.config.list_logical_devices("GPU")) or tuple(
            d.name for d in tf.config.list_logical_devices("CPU")
        )
        # One strategy per process and device set: a second MirroredStrategy reuses the first one's
        # collective-op instance keys, and its all-reduce then fails with "Shape mismatch in the
        # collective instance" (the second run of a sweep in one process, TensorFlow 2.21).
        if devices not in _MIRRORED:
            _MIRRORED[devices] = tf.distribute.MirroredStrategy(devices=list(devices))
        return _MIRRORED[devices]
    if name == "multi_worker":
        raise ConfigError(
            "trainer.distribute=multi_worker is not available: Keras 3's fit() does not work with "
            "tf.distribute.MultiWorkerMirroredStrategy (keras-team/keras#20585). Use "
            "trainer.distribute=mirrored for all GPUs of one machine, and the SLURM or Ray sweep launchers "
            "to spread runs over machines."
        )
    raise ConfigError(f"trainer.distribute={name!r} is not known; use null or mirrored.")
