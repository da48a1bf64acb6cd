"""c17e1's autoencoder: images squeezed through a narrow code and expanded back (chapter 17).

    Flatten (784) -> [GaussianNoise] -> Dense bottleneck ReLU -> Dense 784 sigmoid -> Reshape (28, 28)

The sigmoid output is why the inputs are pixels / 255 rather than standardized. With the book's
bottleneck of 64 and Glorot-normal kernels the model has 50,240 + 50,960 = 101,200 parameters.
`noise_stddev > 0` makes it a denoising autoencoder: Gaussian noise is added to the inputs during
training only, while the target stays the clean image.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import keras

from ldl.errors import ConfigError
from ldl.models.initializers import make_initializer


def build_autoencoder(
    input_shape: Sequence[int],
    bottleneck: int = 64,
    activation: str = "relu",
    output_activation: str = "sigmoid",
    noise_stddev: float = 0.0,
    kernel_initializer: Mapping[str, Any] | str = "glorot_normal",
    output_kernel_initializer: Mapping[str, Any] | str = "glorot_normal",
    bias_initializer: Mapping[str, Any] | str = "zeros",
    name: str = "autoencoder",
) -> keras.Model:
    """The dense autoencoder for images of `input_shape`; the output has the input's shape."""
    if isinstance(bottleneck, bool) or not isinstance(bottleneck, int) or bottleneck < 1:
        raise ConfigError(f"model.bottleneck must be an integer >= 1, got {bottleneck!r}.")
    if noise_stddev < 0:
        raise ConfigError(f"model.noise_stddev must be >= 0, got {noise_stddev}.")
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = keras.layers.Flatten(name="flatten")(inputs)
    if noise_stddev > 0:
        x = keras.layers.GaussianNoise(noise_stddev, name="input_noise")(x)
    code = keras.layers.Dense(
        bottleneck,
        activation=activation,
        kernel_initializer=make_initializer(kernel_initializer),
        bias_initializer=make_initializer(bias_initializer),
        name="code",
    )(x)
    pixels = keras.layers.Dense(
        math.prod(input_shape),
        activation=output_activation,
        kernel_initializer=make_initializer(output_kernel_initializer),
        bias_initializer=make_initializer(bias_initializer),
        dtype="float32",  # the reconstruction stays float32 under mixed precision
        name="reconstruction",
    )(code)
    outputs = keras.layers.Reshape(tuple(input_shape), name="image_out")(pixels)
    return keras.Model(inputs, outputs, name=name)
