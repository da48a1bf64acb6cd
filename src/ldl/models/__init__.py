"""Keras model families shared by several tasks, one short module each.

A `model` config names its builder with `_target_` (e.g. `ldl.models.cnn.build_cnn`); its other keys
are the builder's keyword arguments. Families used by one task only live in that task's folder
(`ldl.tasks.translation.transformer`, ...). Nothing here lists the families.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

from ldl.targets import call_target


def build_model(
    model_config: Mapping[str, Any],
    initializer_config: Mapping[str, Any],
    input_shape: Sequence[Any],
    num_outputs: int,
) -> keras.Model:
    """Build the Keras model a `model` config names, for data of `input_shape` and `num_outputs`.

    The builder receives the config's keys plus whichever of these it declares: `input_shape`,
    `num_outputs`, and the initializer config's `kernel_initializer`, `output_kernel_initializer`
    and `bias_initializer`.
    """
    return call_target(
        model_config,
        "model",
        input_shape=tuple(input_shape),
        num_outputs=num_outputs,
        kernel_initializer=dict(initializer_config["kernel"]),
        output_kernel_initializer=dict(initializer_config["output_kernel"]),
        bias_initializer=dict(initializer_config["bias"]),
    )
