"""What ldl writes to TensorBoard besides Keras's per-epoch scalars: HParams, the op graph, final numbers."""

from __future__ import annotations

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
    if len(model.inputs) > 1:  # several inputs (e.g. source and decoder input): their own specs
        spec: Any = [tf.TensorSpec(tensor.shape, tensor.dtype) for tensor in model.inputs]
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
