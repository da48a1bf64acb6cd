"""Residual networks: the CIFAR ResNets of He et al. (2016) trained from scratch, and ImageNet
architectures from `keras.applications` by name (chapter 8).

CIFAR-style ResNet (the paper's section 4.2): a 3x3 conv with 16 filters, then three stages of n
residual blocks at 32x32, 16x16 and 8x8 with 16, 32 and 64 filters (downsampling by stride-2
convolutions), global average pooling and the output layer: 6n+2 layers with basic blocks (ResNet-20,
32, 44, 56, 110 for n = 3, 5, 7, 9, 18), 9n+2 with bottleneck blocks (1x1, 3x3, 1x1 with 4x
expansion). Batch norm follows every conv, before its activation; the skip path is added before the
block's last ReLU (chapter 8). Where the shape changes, the skip path is either the paper's option A
(`identity`: subsample and zero-pad the extra channels, no parameters) or option B (`projection`: 1x1
conv + batch norm). Weight decay is an L2 penalty on every kernel, with coefficient weight_decay / 2
so that its gradient is weight_decay * w, the paper's SGD weight decay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers, ops

from ldl.errors import ConfigError
from ldl.models.initializers import make_initializer

BLOCKS = ("basic", "bottleneck")
SHORTCUTS = ("identity", "projection")
# keras.applications constructors by name, with the preprocessing their ImageNet weights expect
# ("none": the model preprocesses its own inputs).
APPLICATIONS: dict[str, tuple[str, str]] = {
    "ResNet50": ("keras.applications.resnet", "caffe"),
    "ResNet101": ("keras.applications.resnet", "caffe"),
    "ResNet152": ("keras.applications.resnet", "caffe"),
    "ResNet50V2": ("keras.applications.resnet_v2", "tf"),
    "ResNet101V2": ("keras.applications.resnet_v2", "tf"),
    "ResNet152V2": ("keras.applications.resnet_v2", "tf"),
    "VGG16": ("keras.applications.vgg16", "caffe"),
    "VGG19": ("keras.applications.vgg19", "caffe"),
    "InceptionV3": ("keras.applications.inception_v3", "tf"),
    "Xception": ("keras.applications.xception", "tf"),
    "MobileNet": ("keras.applications.mobilenet", "tf"),
    "MobileNetV2": ("keras.applications.mobilenet_v2", "tf"),
    "DenseNet121": ("keras.applications.densenet", "torch"),
    "EfficientNetB0": ("keras.applications.efficientnet", "none"),
    "EfficientNetB1": ("keras.applications.efficientnet", "none"),
    "EfficientNetV2B0": ("keras.applications.efficientnet_v2", "none"),
    "ConvNeXtTiny": ("keras.applications.convnext", "none"),
}
PREPROCESSING = ("auto", "caffe", "tf", "torch", "none")
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="ldl")
class ZeroPadShortcut(layers.Layer):
    """Option A skip path: keep every `stride`-th pixel and append zero channels up to `channels`."""

    def __init__(self, stride: int, channels: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stride = stride
        self.channels = channels

    def call(self, inputs: Any) -> Any:
        x = inputs[:, :: self.stride, :: self.stride, :]
        extra = self.channels - inputs.shape[-1]
        return ops.pad(x, [[0, 0], [0, 0], [0, 0], [0, extra]]) if extra > 0 else x

    def compute_output_shape(self, input_shape: Sequence[Any]) -> tuple[Any, ...]:
        def reduced(size: Any) -> Any:
            return None if size is None else -(-size // self.stride)

        return (input_shape[0], reduced(input_shape[1]), reduced(input_shape[2]), self.channels)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stride": self.stride, "channels": self.channels}


@keras.saving.register_keras_serializable(package="ldl")
class ImagenetPreprocess(layers.Layer):
    """The input scaling a pretrained network expects, inside the model so a saved model keeps it.

    caffe: RGB -> BGR and subtract the ImageNet channel means (ResNet50, VGG; chapter 8); tf: scale to
    [-1, 1]; torch: scale to [0, 1] and standardize per channel. Inputs are 0..255 RGB pixels.
    """

    def __init__(self, mode: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in ("caffe", "tf", "torch"):
            raise ConfigError(f"preprocessing mode {mode!r} is not known; use caffe, tf or torch.")
        self.mode = mode

    def call(self, inputs: Any) -> Any:
        x = ops.cast(inputs, self.compute_dtype)
        if self.mode == "caffe":
            return x[..., ::-1] - ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=x.dtype)
        if self.mode == "tf":
            return x / 127.5 - 1.0
        mean = ops.convert_to_tensor(_TORCH_MEAN, dtype=x.dtype)
        std = ops.convert_to_tensor(_TORCH_STD, dtype=x.dtype)
        return (x / 255.0 - mean) / std

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mode": self.mode}


def cifar_blocks_per_stage(depth: int, block: str) -> int:
    """n of a depth-`depth` CIFAR ResNet: depth = 6n+2 (basic) or 9n+2 (bottleneck)."""
    per_block = 2 if block == "basic" else 3
    if depth < 2 or (depth - 2) % (3 * per_block):
        valid = ", ".join(str(3 * per_block * n + 2) for n in (1, 2, 3, 5, 9))
        raise ConfigError(
            f"model.depth={depth} is not a CIFAR ResNet depth for {block} blocks: it must be "
            f"{3 * per_block}n+2, e.g. {valid}."
        )
    return (depth - 2) // (3 * per_block)


def build_cifar_resnet(
    input_shape: Sequence[int],
    num_outputs: int,
    depth: int = 20,
    block: str = "basic",
    shortcut: str = "identity",
    width: int = 16,
    weight_decay: float = 1e-4,
    output_activation: str = "softmax",
    kernel_initializer: Mapping[str, Any] | str = "he_normal",
    name: str | None = None,
) -> keras.Model:
    """Build a CIFAR-style ResNet of `depth` layers (see the module docstring)."""
    if block not in BLOCKS:
        raise ConfigError(f"model.block={block!r} is not known; use basic or bottleneck.")
    if shortcut not in SHORTCUTS:
        raise ConfigError(f"model.shortcut={shortcut!r} is not known; use identity or projection.")
    if weight_decay < 0 or width < 1:
        raise ConfigError(
            f"model.weight_decay must be >= 0 and model.width >= 1, got {weight_decay}, {width}."
        )
    blocks = cifar_blocks_per_stage(depth, block)

    def regularizer() -> keras.regularizers.Regularizer | None:
        return keras.regularizers.L2(weight_decay / 2) if weight_decay > 0 else None

    def conv(x: Any, filters: int, kernel: int, stride: int, label: str) -> Any:
        return layers.Conv2D(
            filters,
            kernel,
            strides=stride,
            padding="same",
            use_bias=False,  # batch norm's offset replaces the bias
            kernel_initializer=make_initializer(kernel_initializer),
            kernel_regularizer=regularizer(),
            name=label,
        )(x)

    def batch_norm(x: Any, label: str) -> Any:
        return layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=label)(x)

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = conv(inputs, width, 3, 1, "stem_conv")
    x = layers.Activation("relu", name="stem_relu")(batch_norm(x, "stem_bn"))
    for stage in range(3):
        filters = width * 2**stage
        out_channels = filters * (4 if block == "bottleneck" else 1)
        for index in range(blocks):
            label = f"stage{stage + 1}_block{index + 1}"
            stride = 2 if stage > 0 and index == 0 else 1
            if block == "basic":
                y = conv(x, filters, 3, stride, f"{label}_conv1")
                y = layers.Activation("relu", name=f"{label}_relu1")(batch_norm(y, f"{label}_bn1"))
                y = batch_norm(conv(y, filters, 3, 1, f"{label}_conv2"), f"{label}_bn2")
            else:
                y = conv(x, filters, 1, 1, f"{label}_conv1")
                y = layers.Activation("relu", name=f"{label}_relu1")(batch_norm(y, f"{label}_bn1"))
                y = conv(y, filters, 3, stride, f"{label}_conv2")
                y = layers.Activation("relu", name=f"{label}_relu2")(batch_norm(y, f"{label}_bn2"))
                y = batch_norm(conv(y, out_channels, 1, 1, f"{label}_conv3"), f"{label}_bn3")
            skip = x
            if stride != 1 or x.shape[-1] != out_channels:
                if shortcut == "projection":
                    skip = conv(x, out_channels, 1, stride, f"{label}_proj")
                    skip = batch_norm(skip, f"{label}_proj_bn")
                else:
                    skip = ZeroPadShortcut(stride, out_channels, name=f"{label}_pad")(x)
            x = layers.Add(name=f"{label}_add")([skip, y])
            x = layers.Activation("relu", name=f"{label}_out")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(
        num_outputs,
        activation=output_activation,
        kernel_initializer=make_initializer(kernel_initializer),
        kernel_regularizer=regularizer(),
        name="output",
        dtype="float32",
    )(x)
    return keras.Model(inputs, outputs, name=name or f"resnet{depth}_cifar")


def application_constructor(architecture: str) -> tuple[Any, str]:
    """(keras.applications constructor, its preprocessing mode) for an architecture name."""
    if architecture not in APPLICATIONS:
        raise ConfigError(
            f"model.architecture={architecture!r} is not known; use cifar or one of "
            f"{', '.join(APPLICATIONS)}."
        )
    import importlib

    module, mode = APPLICATIONS[architecture]
    return getattr(importlib.import_module(module), architecture), mode


def build_application(
    architecture: str,
    input_shape: Sequence[int],
    num_outputs: int,
    weights: str | None = None,
    include_top: bool = False,
    pooling: str | None = "avg",
    input_size: int | None = None,
    preprocessing: str = "auto",
    dropout: float = 0.0,
    output_activation: str = "softmax",
    freeze_base: bool = False,
) -> keras.Model:
    """A keras.applications network by name.

    include_top=True: the network as published, ImageNet's 1000-way softmax included (c8e1); the
    inputs are expected already preprocessed (`ldl predict` does that, as the book does).
    include_top=False: transfer learning. The model takes 0..255 RGB images of `input_shape`, resizes
    them to `input_size` if given, applies the weights' preprocessing inside the model, runs the
    (optionally frozen) base and a new head: pooling, dropout, Dense `num_outputs` in float32.
    """
    constructor, default_mode = application_constructor(architecture)
    if weights in ("null", "None", ""):
        weights = None
    if include_top:
        size = input_size or 224
        try:
            return constructor(
                include_top=True, weights=weights, input_shape=(size, size, 3), classes=1000
            )
        except ValueError as error:
            raise ConfigError(f"keras.applications.{architecture}: {error}") from None
    mode = default_mode if preprocessing == "auto" else preprocessing
    if mode not in ("caffe", "tf", "torch", "none"):
        raise ConfigError(
            f"model.preprocessing={preprocessing!r} is not known; use one of {', '.join(PREPROCESSING)}."
        )
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ConfigError(
            f"{architecture} needs RGB images (H, W, 3); this dataset gives {tuple(input_shape)}."
        )
    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    side = input_size or input_shape[0]
    if input_size:
        x = layers.Resizing(input_size, input_size, name="resize")(x)
    if mode != "none":
        x = ImagenetPreprocess(mode, name="preprocess")(x)
    try:
        base = constructor(
            include_top=False, weights=weights, input_shape=(side, side, 3), pooling=pooling
        )
    except ValueError as error:
        raise ConfigError(
            f"keras.applications.{architecture}: {error} (set model.input_size to resize the images)"
        ) from None
    base.trainable = not freeze_base
    x = base(x, training=False) if freeze_base else base(x)
    if pooling not in ("avg", "max"):
        x = layers.Flatten(name="flatten")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = layers.Dense(
        num_outputs, activation=output_activation, name="output", dtype="float32"
    )(x)
    return keras.Model(inputs, outputs, name=f"{architecture.lower()}_transfer")


def build_resnet(
    input_shape: Sequence[int],
    num_outputs: int,
    architecture: str,
    depth: int,
    block: str,
    shortcut: str,
    width: int,
    weight_decay: float,
    weights: str | None,
    include_top: bool,
    pooling: str | None,
    input_size: int | None,
    preprocessing: str,
    dropout: float,
    freeze_base: bool,
    output_activation: str,
    kernel_initializer: Mapping[str, Any] | str = "he_normal",
) -> keras.Model:
    """The `resnet` model family: architecture=cifar builds a CIFAR ResNet (depth, block, shortcut,
    width, weight_decay), any other name a keras.applications network (weights, include_top, pooling,
    input_size, preprocessing, dropout, freeze_base)."""
    if architecture == "cifar":
        return build_cifar_resnet(
            input_shape,
            num_outputs,
            depth=int(depth),
            block=block,
            shortcut=shortcut,
            width=int(width),
            weight_decay=float(weight_decay),
            output_activation=output_activation,
            kernel_initializer=kernel_initializer,
        )
    return build_application(
        architecture,
        input_shape,
        num_outputs,
        weights=weights,
        include_top=bool(include_top),
        pooling=pooling,
        input_size=input_size,
        preprocessing=preprocessing,
        dropout=float(dropout),
        output_activation=output_activation,
        freeze_base=bool(freeze_base),
    )
