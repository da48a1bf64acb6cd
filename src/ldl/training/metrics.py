"""Metrics beyond Keras's names: perplexity (chapter 12, an extension of the book).

Perplexity is exp(mean cross entropy per predicted token): the number of equally likely choices the
model is as unsure as. A uniform guess over V words scores V, a perfect model 1. The mean is over every
predicted token (masked positions excluded), not the mean of per-batch exponentials.
"""

from __future__ import annotations

from typing import Any

import keras

# Metric names ldl adds to Keras's (`metrics=[...]` accepts them; metric_objects builds them).
LDL_METRICS = ("perplexity",)


@keras.saving.register_keras_serializable(package="ldl")
class Perplexity(keras.metrics.Metric):
    """exp(sum of token cross entropies / number of tokens) over everything seen since reset."""

    def __init__(self, sparse: bool = True, name: str = "perplexity", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.sparse = sparse
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        ops = keras.ops
        if self.sparse:
            entropy = keras.losses.sparse_categorical_crossentropy(y_true, y_pred)
        else:
            entropy = keras.losses.categorical_crossentropy(y_true, y_pred)
        weight = (
            ops.ones_like(entropy)
            if sample_weight is None
            else ops.cast(sample_weight, entropy.dtype)
        )
        weight = ops.broadcast_to(ops.reshape(weight, ops.shape(entropy)), ops.shape(entropy))
        self.total.assign_add(ops.cast(ops.sum(entropy * weight), self.dtype))
        self.count.assign_add(ops.cast(ops.sum(weight), self.dtype))

    def result(self) -> Any:
        ops = keras.ops
        return ops.exp(ops.divide_no_nan(self.total, self.count))

    def reset_state(self) -> None:
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "sparse": self.sparse}


def metric_objects(metrics: list[Any], loss: Any) -> list[Any]:
    """The metric list with `perplexity` made a metric object matching the loss (sparse or not)."""
    sparse = loss != "categorical_crossentropy" and not isinstance(
        loss, keras.losses.CategoricalCrossentropy
    )
    return [Perplexity(sparse=sparse) if metric == "perplexity" else metric for metric in metrics]
