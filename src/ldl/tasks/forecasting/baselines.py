"""Baselines that learn nothing, built as Keras models so they run, save and report like any model.

The book judges its sales forecaster against "next month = this month" (c9e1_naive, chapter 9). As a
zero-parameter Keras model the baseline goes through the same data pipeline, evaluation, book
comparison and run folder as the RNN it is compared with, so its numbers cannot drift from theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from ldl.errors import ConfigError


@keras.saving.register_keras_serializable(package="ldl")
class LastTimestep(layers.Layer):
    """The features of the last timestep, (batch, time, features) -> (batch, features)."""

    def call(self, inputs):
        return inputs[:, -1, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def build_last_value(input_shape: Sequence[int], num_outputs: int | None = None) -> keras.Model:
    """Predict every target as the last value of its input window (the naive forecast)."""
    if num_outputs is not None and input_shape[-1] != num_outputs:
        raise ConfigError(
            f"model=last_value repeats the last input step, which has {input_shape[-1]} features, but "
            f"the data has {num_outputs} outputs; use it for one-step forecasts such as book_sales."
        )
    if len(input_shape) != 2:
        raise ValueError(
            f"model=last_value needs sequence inputs (timesteps, features), got shape {tuple(input_shape)}."
        )
    # A free time axis: the book's test windows are shorter than its training windows.
    inputs = keras.Input(shape=(None, input_shape[-1]), name="window")
    outputs = LastTimestep(name="last_value")(inputs)
    return keras.Model(inputs, outputs, name="naive_last_value")
