"""The dense layers on top of a sequence model (rnn.py, conv1d.py): hidden Dense layers, then the
output layer, kept in float32 so mixed-precision runs still produce float32 predictions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from keras import layers

from ldl.models.initializers import make_initializer


def dense_head(
    x: Any,
    dense_units: Sequence[int],
    activation: str,
    num_outputs: int,
    output_activation: str,
    kernel_initializer: Any,
    output_kernel_initializer: Any,
    bias_initializer: Any,
) -> Any:
    """`x` through Dense `dense_units` (named dense_0, dense_1, ...) and the layer named `output`."""
    for index, width in enumerate(dense_units):
        x = layers.Dense(
            int(width),
            activation=activation,
            kernel_initializer=make_initializer(kernel_initializer),
            bias_initializer=make_initializer(bias_initializer),
            name=f"dense_{index}",
        )(x)
    return layers.Dense(
        num_outputs,
        activation=output_activation,
        kernel_initializer=make_initializer(output_kernel_initializer),
        bias_initializer=make_initializer(bias_initializer),
        name="output",
        dtype="float32",
    )(x)
