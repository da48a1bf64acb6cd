"""Convolutional networks of chapter 7 written as a compact layer list, one token per layer.

Each row of the book's CIFAR-10 tables is one line of config, e.g. c7e2 is
`[C64-k5-s2-relu, C64-k3-s2-relu]` followed by the output layer (chapter 7). Tokens:

- `C<filters>[-k<kernel>][-s<stride>][-<activation>][-same|-valid][-bn]`: Conv2D (kernel 3, stride 1,
  padding same, the model's activation by default; `-bn` adds batch norm between conv and activation)
- `P<size>[-s<stride>]` max pooling, `A<size>[-s<stride>]` average pooling (stride = size by
  default), `G` global average pooling
- `SC<filters>[-k<kernel>][-s<stride>][-m<depth multiplier>][-<activation>][-same|-valid][-bn]`:
  depthwise separable convolution (chapter 8): one k x k filter per input channel (m per channel with
  a depth multiplier), then a 1 x 1 convolution mixing the channels; far fewer weights than `C`
- `I<n1>[-<r3>-<n3>-<r5>-<n5>-<pool>]`: an Inception module (chapter 8): parallel 1x1 (n1), 1x1 (r3)
  -> 3x3 (n3), 1x1 (r5) -> 5x5 (n5), and 3x3 max pooling -> 1x1 (pool) branches, concatenated along
  the channels; `I64` alone means `I64-48-64-8-16-16` (3x3 reduction 3/4 of n1, 5x5 reduction 1/8, 5x5
  and pool 1/4). GoogLeNet's module 3a is `I64-96-128-16-32-32`
- `D<rate>`: dropout; `BN`: batch normalization; `FLAT`: flatten
- `F<units>[-<activation>]`: Dense; a Flatten is inserted before the first Dense of an image

The output Dense layer (the dataset's number of outputs, `output_activation`) is always added last and
computes in float32, so mixed precision never rounds the softmax.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras

from ldl.errors import ConfigError
from ldl.models.initializers import make_initializer

ACTIVATIONS = ("relu", "tanh", "sigmoid", "elu", "selu", "leaky_relu", "softplus", "linear", "gelu")
_TOKEN = re.compile(
    r"^(SC|C|I|P|A|G|D|BN|FLAT|F)(\d+(?:\.\d+)?)?((?:-[A-Za-z0-9_.]+)*)$", re.IGNORECASE
)


@dataclass(frozen=True)
class LayerSpec:
    """One parsed token: its kind ("conv", "max_pool", ...), its number and its options."""

    kind: str
    size: float | None = None
    kernel: int = 3
    stride: int | None = None
    activation: str | None = None
    padding: str = "same"
    batch_norm: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """The whole-number size of a conv, pool or dense layer (parse_layer checked it)."""
        if self.size is None:
            raise ValueError(f"a {self.kind} layer has no size")
        return int(self.size)


_KINDS = {
    "SC": "separable_conv",
    "I": "inception",
    "C": "conv",
    "P": "max_pool",
    "A": "average_pool",
    "G": "global_average_pool",
    "D": "dropout",
    "BN": "batch_norm",
    "FLAT": "flatten",
    "F": "dense",
}
_NEEDS_SIZE = {
    "conv", "separable_conv", "inception", "max_pool", "average_pool", "dropout", "dense"
}  # fmt: skip
CONVOLUTIONS = ("conv", "separable_conv")


def parse_layer(token: str, default_activation: str = "relu") -> LayerSpec:
    """Parse one layer token; a malformed token is a ConfigError that shows the syntax."""
    help_text = (
        "Write layers like C64-k5-s2-relu (conv), SC64-k3-m1 (separable conv), I64 or "
        "I64-96-128-16-32-32 (Inception module), P2 (max pool), A2 (average pool), G (global "
        "average pool), D0.2 (dropout), BN, FLAT, F64-relu (dense)."
    )
    match = _TOKEN.match(str(token).strip())
    if not match:
        raise ConfigError(f"model.layers: cannot read the layer {token!r}. {help_text}")
    letter, number, suffix = match.group(1).upper(), match.group(2), match.group(3)
    kind = _KINDS[letter]
    if (kind in _NEEDS_SIZE) != (number is not None):
        raise ConfigError(
            f"model.layers: {token!r} needs {'a' if kind in _NEEDS_SIZE else 'no'} number. {help_text}"
        )
    size = float(number) if number is not None else None
    if kind == "dropout" and size is not None and not 0.0 <= size < 1.0:
        raise ConfigError(f"model.layers: dropout rate in {token!r} must lie in [0, 1).")
    if (
        kind in ("conv", "separable_conv", "inception", "dense", "max_pool", "average_pool")
        and size is not None
        and (size != int(size) or size < 1)
    ):
        raise ConfigError(f"model.layers: {token!r} needs a whole number >= 1.")
    kernel, stride, padding, batch_norm = 3, None, "same", False
    activation = default_activation if kind in ("conv", "separable_conv", "dense") else None
    options: dict[str, Any] = {}
    numbers: list[int] = []
    for option in filter(None, suffix.split("-")):
        lowered = option.lower()
        if re.fullmatch(r"k\d+", lowered) and kind in CONVOLUTIONS:
            kernel = int(lowered[1:])
        elif re.fullmatch(r"s\d+", lowered) and kind in (*CONVOLUTIONS, "max_pool", "average_pool"):
            stride = int(lowered[1:])
        elif re.fullmatch(r"m\d+", lowered) and kind == "separable_conv" and int(lowered[1:]) >= 1:
            options["depth_multiplier"] = int(lowered[1:])
        elif re.fullmatch(r"\d+", lowered) and kind == "inception" and int(lowered) >= 1:
            numbers.append(int(lowered))
        elif lowered in ("same", "valid") and kind in (*CONVOLUTIONS, "max_pool", "average_pool"):
            padding = lowered
        elif lowered == "bn" and kind in CONVOLUTIONS:
            batch_norm = True
        elif lowered in ACTIVATIONS and kind in (*CONVOLUTIONS, "dense"):
            activation = lowered
        else:
            raise ConfigError(
                f"model.layers: option {option!r} of {token!r} is not known for this layer. {help_text} "
                f"Activations: {', '.join(ACTIVATIONS)}."
            )
    if kernel < 1 or (stride is not None and stride < 1):
        raise ConfigError(f"model.layers: kernel and stride in {token!r} must be >= 1.")
    if kind == "inception":
        options["branches"] = _inception_branches(token, int(size or 0), numbers)
        activation = default_activation
    return LayerSpec(kind, size, kernel, stride, activation, padding, batch_norm, options)


def _inception_branches(token: str, first: int, numbers: list[int]) -> tuple[int, ...]:
    """(n1, r3, n3, r5, n5, pool) of an Inception token: all six given, or derived from n1."""
    if not numbers:
        return (first, max(1, first * 3 // 4), first, max(1, first // 8), max(1, first // 4),
                max(1, first // 4))  # fmt: skip
    if len(numbers) != 5:
        raise ConfigError(
            f"model.layers: {token!r} needs either one number (I64) or six "
            "(I<1x1>-<3x3 reduce>-<3x3>-<5x5 reduce>-<5x5>-<pool projection>, e.g. I64-96-128-16-32-32)."
        )
    return (first, *numbers)


def _inception(
    x: Any, spec: LayerSpec, name: str, convolution: Callable[[LayerSpec, str, str | None], Any]
) -> Any:
    """The four parallel branches of an Inception module, concatenated along the channels."""
    n1, r3, n3, r5, n5, pool = spec.options["branches"]
    activation = spec.activation

    def conv(filters: int, kernel: int, branch: str) -> Any:
        return convolution(LayerSpec("conv", filters, kernel), f"{name}_{branch}", activation)

    one = conv(n1, 1, "1x1")(x)
    three = conv(n3, 3, "3x3")(conv(r3, 1, "3x3_reduce")(x))
    five = conv(n5, 5, "5x5")(conv(r5, 1, "5x5_reduce")(x))
    pooled = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    projected = conv(pool, 1, "pool_projection")(pooled)
    return keras.layers.Concatenate(axis=-1, name=name)([one, three, five, projected])


def build_cnn(
    input_shape: Sequence[int],
    num_outputs: int,
    layers: Sequence[str],
    activation: str = "relu",
    output_activation: str = "softmax",
    kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    output_kernel_initializer: Mapping[str, Any] | str = "glorot_uniform",
    bias_initializer: Mapping[str, Any] | str = "zeros",
    l2_kernel: float = 0.0,
    name: str = "cnn",
) -> keras.Model:
    """Build the layer list with the Functional API, then the float32 output Dense layer.

    Images of shape (H, W) get a channel axis, so MNIST runs through the same convolutions.
    """
    if activation not in ACTIVATIONS:
        raise ConfigError(
            f"model.activation={activation!r} is not known; use one of {', '.join(ACTIVATIONS)}."
        )
    if output_activation not in (*ACTIVATIONS, "softmax"):
        raise ConfigError(f"model.output_activation={output_activation!r} is not known.")
    if l2_kernel < 0:
        raise ConfigError(f"model.l2_kernel must be >= 0, got {l2_kernel}.")
    if isinstance(layers, str):
        raise ConfigError(
            "model.layers must be a list of layer tokens, e.g. [C64-k5-s2-relu, C64-k3-s2-relu]."
        )
    specs = [parse_layer(token, activation) for token in layers]

    def regularizer() -> keras.regularizers.Regularizer | None:
        return keras.regularizers.L2(l2_kernel) if l2_kernel > 0 else None

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = (
        keras.layers.Reshape((*input_shape, 1), name="add_channel")(inputs)
        if len(input_shape) == 2
        else inputs
    )
    counts: dict[str, int] = {}

    def convolution(spec: LayerSpec, layer_name: str, activation: str | None) -> keras.layers.Layer:
        """A Conv2D, or a SeparableConv2D (depthwise, then pointwise), with the model's settings."""
        common = {
            "strides": spec.stride or 1,
            "padding": spec.padding,
            "activation": activation,
            "bias_initializer": make_initializer(bias_initializer),
            "name": layer_name,
        }
        if spec.kind == "separable_conv":
            return keras.layers.SeparableConv2D(
                spec.count,
                spec.kernel,
                depth_multiplier=spec.options.get("depth_multiplier", 1),
                depthwise_initializer=make_initializer(kernel_initializer),
                pointwise_initializer=make_initializer(kernel_initializer),
                depthwise_regularizer=regularizer(),
                pointwise_regularizer=regularizer(),
                **common,
            )
        return keras.layers.Conv2D(
            spec.count,
            spec.kernel,
            kernel_initializer=make_initializer(kernel_initializer),
            kernel_regularizer=regularizer(),
            **common,
        )

    def label(kind: str) -> str:
        counts[kind] = counts.get(kind, 0) + 1
        return f"{kind}_{counts[kind]}"

    for spec in specs:
        if spec.kind in (*CONVOLUTIONS, "inception"):
            if len(x.shape) != 4:
                raise ConfigError(
                    "model.layers: a convolution cannot follow a Dense or Flatten layer."
                )
            if spec.kind == "inception":
                x = _inception(x, spec, label("inception"), convolution)
                continue
            conv_name = label(spec.kind)
            x = convolution(spec, conv_name, None if spec.batch_norm else spec.activation)(x)
            if spec.batch_norm:
                x = keras.layers.BatchNormalization(name=f"{conv_name}_bn")(x)
                x = keras.layers.Activation(spec.activation, name=f"{conv_name}_{spec.activation}")(
                    x
                )
        elif spec.kind in ("max_pool", "average_pool"):
            pool = (
                keras.layers.MaxPooling2D
                if spec.kind == "max_pool"
                else keras.layers.AveragePooling2D
            )
            size = spec.count
            x = pool(
                size, strides=spec.stride or size, padding=spec.padding, name=label(spec.kind)
            )(x)
        elif spec.kind == "global_average_pool":
            x = keras.layers.GlobalAveragePooling2D(name=label(spec.kind))(x)
        elif spec.kind == "dropout":
            x = keras.layers.Dropout(spec.size, name=label("dropout"))(x)
        elif spec.kind == "batch_norm":
            x = keras.layers.BatchNormalization(name=label("batch_norm"))(x)
        elif spec.kind == "flatten":
            x = keras.layers.Flatten(name=label("flatten"))(x)
        else:  # dense
            if len(x.shape) > 2:
                x = keras.layers.Flatten(name=label("flatten"))(x)
            x = keras.layers.Dense(
                spec.count,
                activation=spec.activation,
                kernel_initializer=make_initializer(kernel_initializer),
                bias_initializer=make_initializer(bias_initializer),
                kernel_regularizer=regularizer(),
                name=label("dense"),
            )(x)
    if len(x.shape) > 2:
        x = keras.layers.Flatten(name=label("flatten"))(x)
    outputs = keras.layers.Dense(
        num_outputs,
        activation=output_activation,
        kernel_initializer=make_initializer(output_kernel_initializer),
        bias_initializer=make_initializer(bias_initializer),
        kernel_regularizer=regularizer(),
        name="output",
        dtype="float32",
    )(x)
    return keras.Model(inputs, outputs, name=name)
