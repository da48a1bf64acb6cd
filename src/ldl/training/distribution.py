"""tf.distribute strategies from config.

`mirrored` replicates the model on every local GPU and splits each global batch between them, so a book
experiment's batch size means the same thing on any number of devices. Training across several machines
(`MultiWorkerMirroredStrategy`) is not offered: Keras 3's `fit()` fails with it ("Attempt to convert a value
(PerReplica ...)", keras-team/keras#20585, tensorflow/tensorflow#72388; reproduced here with TensorFlow 2.21
and Keras 3.15 on two local workers). Scale sweeps out across machines with the SLURM or Ray launchers instead.
"""

from __future__ import annotations

from typing import Any

from ldl.errors import ConfigError
from ldl.tf_setup import import_tensorflow


def distribution_strategy(name: str | None) -> Any:
    """The tf.distribute strategy `trainer.distribute` names (None: TensorFlow's default strategy)."""
    tf = import_tensorflow()
    if name is None:
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        raise ConfigError(
            "trainer.distribute=multi_worker is not available: Keras 3's fit() does not work with "
            "tf.distribute.MultiWorkerMirroredStrategy (keras-team/keras#20585). Use "
            "trainer.distribute=mirrored for all GPUs of one machine, and the SLURM or Ray sweep launchers "
            "to spread runs over machines."
        )
    raise ConfigError(f"trainer.distribute={name!r} is not known; use null or mirrored.")
