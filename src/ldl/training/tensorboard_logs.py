"""What ldl writes to TensorBoard besides Keras's per-epoch scalars: HParams, the op graph, final numbers."""

from __future__ import annotations

import os
from typing import Any

import keras

from ldl.tf_setup import import_tensorflow

tf = import_tensorflow()


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
    `epoch_learning_rate`) for many epochs at once, for the multi-epoch graph loop: one graph call per
    writer instead of one eager write per number (about 1.7 ms an epoch for c6e1 otherwise)."""

    def __init__(self, log_dir: str) -> None:
        self.writers = {
            "train": tf.summary.create_file_writer(os.path.join(log_dir, "train")),
            "validation": tf.summary.create_file_writer(os.path.join(log_dir, "validation")),
        }
        self._write = tf.function(self._write_table)

    @staticmethod
    def _write_table(tags: tuple[str, ...], table: Any, steps: Any) -> None:
        from tensorboard.plugins.scalar import metadata

        # tf.summary.write keeps each tag as given; tf.summary.scalar would prefix the loop's scope.
        scalar = metadata.create_summary_metadata(display_name=None, description=None)
        for row in tf.range(tf.shape(table)[0]):
            for column, tag in enumerate(tags):
                tf.summary.write(tag, table[row, column], step=steps[row], metadata=scalar)

    def write(self, first_epoch: int, rows: list[dict[str, float]], learning_rate: float) -> None:
        """`rows[i]` holds Keras's logs of epoch `first_epoch + i` (`loss`, `val_loss`, ...)."""
        if not rows:
            return
        steps = tf.range(first_epoch, first_epoch + len(rows), dtype=tf.int64)
        training = [name for name in rows[0] if not name.startswith("val_")]
        validation = [name for name in rows[0] if name.startswith("val_")]
        for split, names, extra in (
            ("train", training, {"learning_rate": learning_rate}),
            ("validation", validation, {}),
        ):
            if not names:
                continue
            tags = tuple(f"epoch_{name.removeprefix('val_')}" for name in [*names, *extra])
            table = [[row[name] for name in names] + list(extra.values()) for row in rows]
            with self.writers[split].as_default():
                self._write(tags, tf.constant(table, dtype=tf.float32), steps)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
