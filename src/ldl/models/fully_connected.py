"""Fully connected networks of chapters 4-6: Flatten, hidden Dense layers, one output Dense layer.

One builder covers every chapter 5 and 6 configuration: the book's variations are hidden widths,
activations, initializers, dropout, L1/L2 penalties and batch normalization placement.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers

from ldl.errors import ConfigError
from ldl.models.initializers import make_initializer

ACTIVATIONS = ("tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus", "linear", "softmax")
BATCH_NORM_PLACEMENTS = (None, "before_activation", "after_activation")


def _regularizer(l1: float, l2: float) -> keras.regularizers.Regularizer | None:
    if l1 < 0 or l2 < 0:
        raise ConfigError(f"L1/L2 penalties must be >= 0, got l1={l1}, l2={l2}.")
    if l1 == 0 and l2 == 0:
        return None
    return keras.regularizers.L1L2(l1=l1, l2=l2)


def _dropout_rates(dropout: float | Sequence[float], layers_count: int) -> list[float]:
    """One dropout rate per hidden layer, from one rate or a list of them."""
    rates = [float(dropout)] * layers_count if isinstance(dropout, int | float) else list(dropout)
    if len(rates) != layers_count:
        raise ConfigError(
            f"model.dropout lists {len(rates)} rates for {layers_count} hidden layers; give one "
            "rate for every hidden layer, or a single number for all of them."
        )
    if not all(0.0 <= rate < 1.0 for rate in rates):
        raise ConfigError(f"model.dropout rates must lie in [0, 1), got {dropout}.")
    return [float(rate) for rate in rates]


def build_fully_connected(
    input_shape: Sequence[int],
    num_outputs: int,
    hidden_units: Sequence[int] = (25,),
    activation: str = "relu",
    output_activation: str = "softmax",
    dropout: float | Sequence[float] = 0.0,
    batch_norm: str | None = None,
    kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    output_kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    bias_initializer: Mapping[str, Any] | str = "zeros",
    l1_kernel: float = 0.0,
    l2_kernel: float = 0.0,
    l1_bias: float = 0.0,
    l2_bias: float = 0.0,
    name: str = "fully_connected",
    input_dropout: float = 0.0,
) -> keras.Model:
    """Build the network with the Functional API; the output layer always computes in float32.

    Dropout placement (chapter 6): `dropout` is one rate for every hidden layer, or a list with a rate
    per hidden layer (0 = none after that layer); `input_dropout` also drops input features.
    """
    for label, value in (("activation", activation), ("output_activation", output_activation)):
        if value not in ACTIVATIONS:
            raise ConfigError(
                f"model.{label}={value!r} is not known. Use one of: {', '.join(ACTIVATIONS)}."
            )
    if batch_norm not in BATCH_NORM_PLACEMENTS:
        raise ConfigError(
            f"model.batch_norm={batch_norm!r} is not known. Use null, before_activation or "
            "after_activation."
        )
    rates = _dropout_rates(dropout, len(hidden_units))
    if not 0.0 <= input_dropout < 1.0:
        raise ConfigError(f"model.input_dropout must lie in [0, 1), got {input_dropout}.")
    if any(int(units) <= 0 for units in hidden_units):
        raise ConfigError(f"model.hidden_units must be positive widths, got {list(hidden_units)}.")

    def dense(units: int, activation: str | None, kernel: Mapping[str, Any] | str, **kw: Any):
        return layers.Dense(
            units,
            activation=activation,
            kernel_initializer=make_initializer(kernel),
            bias_initializer=make_initializer(bias_initializer),
            kernel_regularizer=_regularizer(l1_kernel, l2_kernel),
            bias_regularizer=_regularizer(l1_bias, l2_bias),
            **kw,
        )

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    if input_dropout > 0:
        x = layers.Dropout(input_dropout, name="input_dropout")(x)
    for index, (units, rate) in enumerate(zip(hidden_units, rates, strict=True)):
        if batch_norm == "before_activation":
            x = dense(units, None, kernel_initializer, name=f"dense_{index}")(x)
            x = layers.BatchNormalization(name=f"batch_norm_{index}")(x)
            x = layers.Activation(activation, name=f"{activation}_{index}")(x)
        else:
            x = dense(units, activation, kernel_initializer, name=f"dense_{index}")(x)
            if batch_norm == "after_activation":
                x = layers.BatchNormalization(name=f"batch_norm_{index}")(x)
        if rate > 0:
            x = layers.Dropout(rate, name=f"dropout_{index}")(x)
    outputs = dense(
        num_outputs, output_activation, output_kernel_initializer, name="output", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name=name)
