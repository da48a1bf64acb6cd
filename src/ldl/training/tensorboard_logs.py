"""What ldl writes to TensorBoard besides Keras's per-epoch scalars: HParams, the op graph, final numbers."""

from __future__ import annotations

import os
import time
from typing import Any

import keras
import numpy as np

from ldl.training.backend import tf


def write_hparams(log_dir: str, hparams: dict[str, Any], run_name: str) -> None:
    from tensorboard.plugins.hparams import api as hp

    with tf.summary.create_file_writer(log_dir).as_default():
        hp.hparams(hparams, trial_id=run_name)


def write_model_graph(log_dir: str, model: keras.Model, input_shape: tuple[Any, ...]) -> None:
    """The op-level graph of the forward pass (Keras's callback adds the conceptual Keras graph)."""
    forward = tf.function(lambda inputs: model(inputs, training=False))
    if len(model.inputs) > 1:  # several inputs (source and decoder input; image and text): as built
        spec: Any = tf.nest.map_structure(
            lambda tensor: tf.TensorSpec(tensor.shape, tensor.dtype), model.input
        )
    else:
        dtype = model.inputs[0].dtype if model.inputs else tf.float32  # token ids are integers
        spec = tf.TensorSpec((None, *input_shape), dtype)
    concrete = forward.get_concrete_function(spec)
    with tf.summary.create_file_writer(log_dir).as_default():
        tf.summary.graph(concrete.graph)


def write_final_scalars(log_dir: str, metrics: dict[str, Any], step: int) -> None:
    """The final validation and test numbers, at the last epoch's step."""
    with tf.summary.create_file_writer(log_dir).as_default():
        for key, value in metrics.items():
            if key.startswith(("val/", "test/")) and isinstance(value, int | float):
                tf.summary.scalar(key, value, step=step)


class EpochScalars:
    """Keras's TensorBoard epoch scalars (`epoch_<metric>` in `train/` and `validation/`, and
    `epoch_learning_rate`) for many epochs at once, for the multi-epoch graph loop.

    The events are written by TensorBoard's own Python event writer, in the format Keras's callback
    writes them (float32 scalar tensors with the scalars plugin's metadata), so TensorBoard shows one
    series per tag whichever loop trained the run. Eager `tf.summary.scalar` calls would cost about
    1.7 ms per number (c6e1: 500 epochs x 5 numbers), and a traced writer function ~0.3 s per run."""

    def __init__(self, log_dir: str) -> None:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self.writers = {
            split: EventFileWriter(os.path.join(log_dir, split), filename_suffix=".epochs.v2")
            for split in ("train", "validation")
        }

    def write(self, first_epoch: int, rows: list[dict[str, float]], learning_rate: float) -> None:
        """`rows[i]` holds Keras's logs of epoch `first_epoch + i` (`loss`, `val_loss`, ...)."""
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.scalar import metadata
        from tensorboard.util import tensor_util

        scalar = metadata.create_summary_metadata(display_name=None, description=None)
        now = time.time()
        for offset, row in enumerate(rows):
            values: dict[str, list[summary_pb2.Summary.Value]] = {"train": [], "validation": []}
            numbers = {**row, "learning_rate": learning_rate}
            for name, number in numbers.items():
                split = "validation" if name.startswith("val_") else "train"
                tensor = tensor_util.make_tensor_proto(np.float32(number))
                values[split].append(
                    summary_pb2.Summary.Value(
                        tag=f"epoch_{name.removeprefix('val_')}", tensor=tensor, metadata=scalar
                    )
                )
            for split, split_values in values.items():
                if split_values:
                    self.writers[split].add_event(
                        event_pb2.Event(
                            wall_time=now,
                            step=first_epoch + offset,
                            summary=summary_pb2.Summary(value=split_values),
                        )
                    )

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
