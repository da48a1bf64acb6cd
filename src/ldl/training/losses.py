"""Loss options beyond the plain Keras names: label smoothing (chapter 15, an extension of the book).

Label smoothing trains against (1 - eps) * one-hot + eps / classes instead of the one-hot target, so
the model is not pushed towards infinitely confident outputs. Keras's sparse cross entropy has no such
option, so `SmoothedSparseCategoricalCrossentropy` one-hot encodes the ids first; Keras applies the
output mask (padded target positions) to it as to every loss.
"""

from __future__ import annotations

from typing import Any

import keras

from ldl.errors import ConfigError

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
