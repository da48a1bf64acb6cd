"""A 1D-convolution (time-delay) network for sequences, the alternative to an RNN chapter 9 mentions.

Stacked Conv1D layers slide over the time axis; with `causal` padding and growing dilation rates the
last timestep sees the last `receptive_field` steps and nothing after them, which is a time-delay
network. The time axis is variable, as for the book's RNN, so training windows of 270 months and test
windows of 67 go through the same model; `pooling` turns the sequence into one vector: the last
timestep (`last`), or the average or maximum over time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers

from ldl.errors import ConfigError
from ldl.models.dense_head import dense_head
from ldl.models.initializers import make_initializer

PADDINGS = ("causal", "same", "valid")
POOLINGS = ("last", "global_average", "global_max")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "leaky_relu", "linear", "softmax")


@keras.saving.register_keras_serializable(package="ldl")
class LastStep(layers.Layer):
    """The features of the last timestep, (batch, time, features) -> (batch, features)."""

    def call(self, inputs):
        return inputs[:, -1, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def _positive_ints(values: Any) -> bool:
    return isinstance(values, Sequence) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
    )


def build_conv1d(
    input_shape: Sequence[int | None],
    num_outputs: int,
    filters: Sequence[int] = (32, 32, 32),
    kernel_size: int = 2,
    dilation_rates: Sequence[int] = (1, 2, 4),
    padding: str = "causal",
    activation: str = "relu",
    pooling: str = "last",
    dense_units: Sequence[int] = (),
    output_activation: str = "linear",
    variable_length: bool = True,
    kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    output_kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    bias_initializer: Mapping[str, Any] | str = "zeros",
    name: str = "conv1d",
) -> keras.Model:
    """Conv1D layers (one per `filters` entry, with its dilation rate), pooling over time, Dense
    layers, then the output layer (float32)."""
    if len(input_shape) != 2:
        raise ConfigError(
            f"model=conv1d reads sequences (timesteps, features), but the data have shape "
            f"{tuple(input_shape)}."
        )
    if not filters or not _positive_ints(filters) or not _positive_ints(dilation_rates):
        raise ConfigError(
            "model.filters and model.dilation_rates must be lists of positive integers, e.g. "
            f"model.filters=[32,32] model.dilation_rates=[1,2]; got {list(filters)} and "
            f"{list(dilation_rates)}."
        )
    if len(dilation_rates) != len(filters):
        raise ConfigError(
            f"model.dilation_rates has {len(dilation_rates)} entries for {len(filters)} conv "
            "layers; give one per entry of model.filters."
        )
    if not _positive_ints(dense_units):
        raise ConfigError(f"model.dense_units must list positive widths, got {list(dense_units)}.")
    for key, value, choices in (
        ("padding", padding, PADDINGS),
        ("pooling", pooling, POOLINGS),
        ("activation", activation, ACTIVATIONS),
        ("output_activation", output_activation, ACTIVATIONS),
    ):
        if value not in choices:
            raise ConfigError(
                f"model.{key}={value!r} is not known; use one of: {', '.join(choices)}."
            )
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
        raise ConfigError(f"model.kernel_size must be a positive integer, got {kernel_size!r}.")

    timesteps = None if variable_length else input_shape[0]
    inputs = keras.Input(shape=(timesteps, input_shape[1]), name="inputs")
    x = inputs
    for index, (width, rate) in enumerate(zip(filters, dilation_rates, strict=True)):
        x = layers.Conv1D(
            int(width),
            kernel_size,
            padding=padding,
            dilation_rate=int(rate),
            activation=activation,
            kernel_initializer=make_initializer(kernel_initializer),
            bias_initializer=make_initializer(bias_initializer),
            name=f"conv1d_{index}",
        )(x)
    if pooling == "last":
        x = LastStep(name="last_step")(x)
    elif pooling == "global_average":
        x = layers.GlobalAveragePooling1D(name="average_over_time")(x)
    else:
        x = layers.GlobalMaxPooling1D(name="maximum_over_time")(x)
    outputs = dense_head(
        x,
        dense_units,
        activation,
        num_outputs,
        output_activation,
        kernel_initializer,
        output_kernel_initializer,
        bias_initializer,
    )
    return keras.Model(inputs, outputs, name=name)


def receptive_field(kernel_size: int, dilation_rates: Sequence[int]) -> int:
    """How many of the last input steps the last output step of stacked causal convolutions sees."""
    return 1 + sum((kernel_size - 1) * int(rate) for rate in dilation_rates)
