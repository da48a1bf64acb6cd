"""Loss options beyond the plain Keras names: label smoothing (chapter 15, an extension of the book),
and sparse cross-entropy kept on TensorFlow's fused kernel on a CPU under deterministic ops.

Label smoothing trains against (1 - eps) * one-hot + eps / classes instead of the one-hot target, so
the model is not pushed towards infinitely confident outputs. Keras's sparse cross entropy has no such
option, so `SmoothedSparseCategoricalCrossentropy` one-hot encodes the ids first; Keras applies the
output mask (padded target positions) to it as to every loss.
"""

from __future__ import annotations

from typing import Any

import keras

from ldl.errors import ConfigError
from ldl.training.backend import tf

SMOOTHABLE = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


@keras.saving.register_keras_serializable(package="ldl")
class SmoothedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Sparse categorical cross entropy against smoothed one-hot targets."""

    def __init__(
        self, label_smoothing: float = 0.1, name: str = "smoothed_sparse_ce", **kwargs: Any
    ):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        ops = keras.ops
        classes = ops.shape(y_pred)[-1]
        ids = ops.cast(y_true, "int32")
        if len(ids.shape) == len(y_pred.shape):  # ids with a trailing axis of 1
            ids = ops.squeeze(ids, -1)
        one_hot = ops.one_hot(ids, classes)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, label_smoothing=self.label_smoothing
        )

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def smoothed_loss(loss: Any, label_smoothing: float) -> Any:
    """The configured loss with label smoothing `label_smoothing` (0 = the loss unchanged)."""
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, int | float):
        raise ConfigError(f"label_smoothing must be a number in [0, 1), got {label_smoothing!r}.")
    if not 0.0 <= label_smoothing < 1.0:
        raise ConfigError(
            f"label_smoothing must lie in [0, 1), got {label_smoothing}; 0.1 is usual."
        )
    if label_smoothing == 0.0:
        return loss
    if loss == "sparse_categorical_crossentropy":
        return SmoothedSparseCategoricalCrossentropy(label_smoothing)
    if loss == "categorical_crossentropy":
        return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    if loss == "binary_crossentropy":
        return keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing)
    raise ConfigError(
        f"label_smoothing={label_smoothing} needs a cross-entropy loss ({', '.join(SMOOTHABLE)}), "
        f"but the loss is {loss!r}; set label_smoothing=0 or choose one of those losses."
    )


@keras.saving.register_keras_serializable(package="ldl")
class FusedSparseCategoricalCrossentropy(keras.losses.Loss):
    """Keras's sparse categorical cross-entropy (softmax outputs, integer targets) on TensorFlow's fused
    SparseSoftmaxCrossEntropyWithLogits kernel, also under deterministic ops.

    With `trainer.deterministic=true` (tf.config.experimental.enable_op_determinism) TensorFlow's Python
    wrapper replaces that kernel by log-softmax + gather on every device, because its GPU kernel is not
    deterministic. The CPU kernel is (bit-identical loss and gradient in repeated runs and processes,
    tests/unit/test_losses.py), and the composite materialises several tensors of batch x positions x
    vocabulary per step: for c14e1's 10,000-word outputs 2.0 million page faults in 2 epochs against
    0.43 million (docs/benchmarks.md). The numbers equal Keras's own loss with deterministic ops off,
    which reaches the same kernel. Used on CPUs only (`fused_cross_entropy_on_cpu`)."""

    def __init__(self, name: str = "sparse_categorical_crossentropy", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        logits = _logits_of(y_pred)
        labels = tf.cast(y_true, tf.int64)
        if labels.shape.rank == logits.shape.rank and labels.shape[-1] == 1:
            labels = tf.squeeze(labels, -1)
        classes = tf.shape(logits)[-1]
        precise = (
            logits if logits.dtype in (tf.float32, tf.float64) else tf.cast(logits, tf.float32)
        )
        losses, _ = tf.raw_ops.SparseSoftmaxCrossEntropyWithLogits(
            features=tf.reshape(precise, [-1, classes]), labels=tf.reshape(labels, [-1])
        )
        return tf.cast(tf.reshape(losses, tf.shape(labels)), y_pred.dtype)


def _logits_of(probabilities: Any) -> Any:
    """The logits behind softmax outputs, found as Keras's own loss finds them: the `_keras_logits`
    Keras attaches to a softmax's output, or the input of a Softmax op; otherwise the log of the
    clipped probabilities."""
    logits = getattr(probabilities, "_keras_logits", None)
    if logits is not None:
        return logits
    op = getattr(probabilities, "op", None) if not tf.executing_eagerly() else None
    if op is not None and op.type == "Softmax" and len(op.inputs) == 1:
        return op.inputs[0]
    epsilon = keras.config.epsilon()
    return tf.math.log(tf.clip_by_value(probabilities, epsilon, 1 - epsilon))


def fused_cross_entropy_on_cpu(loss: Any) -> Any:
    """`loss`, with sparse cross-entropy on the fused kernel when no GPU is visible (a name, or a
    mapping of output names to losses)."""
    if isinstance(loss, dict):
        return {output: fused_cross_entropy_on_cpu(value) for output, value in loss.items()}
    if loss == "sparse_categorical_crossentropy" and not tf.config.list_logical_devices("GPU"):
        return FusedSparseCategoricalCrossentropy()
    return loss
