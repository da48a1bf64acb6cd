"""Feature extractors: an image batch (N, 224, 224, 3), preprocessed -> region features (N, 14, 14, D).

- Any keras.applications network cut at a named layer (the book: VGG19 with ImageNet weights, layer
  `block5_conv4`, giving 14 x 14 regions of 512 features). Weights come through Keras's download
  cache; offline and not cached, the error names the file, the URL and the folder.
- `shapes_grid`, for the generated shapes task: a fixed random-weight convnet (seeded Glorot weights,
  never trained) whose strided convolutions (4, 2, 2) reduce each 16 x 16 pixel region to one vector
  and whose last 3 x 3 convolution mixes in the 8 neighbouring regions, giving `channels` content
  features, plus 10 fixed channels coding the region's row and column. It needs no download.
  VGG19's regions know where they are only through zero padding at the borders; the shapes captions
  name positions, so this extractor hands the position to the attention explicitly.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ldl.errors import ConfigError, DataError

SHAPES_GRID = "shapes_grid"
POSITION_CHANNELS = 10
# The no-top VGG19 weights keras.applications downloads (and caches under $KERAS_HOME/models).
VGG19_NOTOP_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
    "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
)


@dataclass(frozen=True)
class ExtractorSpec:
    """Everything that decides the features; stored with the cache and in a run's data.json, so
    `ldl caption` rebuilds exactly the extractor the model was trained on."""

    network: str = "VGG19"
    layer: str = "block5_conv4"
    weights: str | None = "imagenet"
    preprocessing: str = "caffe"
    image_size: int = 224
    shorter_side: int = 256
    resize: str = "crop"  # crop (the book) or stretch, see ldl.tasks.captioning.images
    channels: int = 118  # shapes_grid only: content channels (plus POSITION_CHANNELS)
    seed: int = 0  # shapes_grid only: its fixed random weights

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> ExtractorSpec:
        known = {key: values[key] for key in cls.__dataclass_fields__ if key in values}
        if known.get("weights") in ("null", "None", ""):
            known["weights"] = None
        return cls(**known)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def load_image(self, path: Path | str) -> np.ndarray:
        """The photo as this extractor sees it: (image_size, image_size, 3) RGB in 0..255."""
        from ldl.tasks.captioning.images import load_cropped

        return load_cropped(path, self.shorter_side, self.image_size, self.resize)  # type: ignore[arg-type]


class Extractor(Protocol):
    spec: ExtractorSpec

    def __call__(self, images: np.ndarray) -> np.ndarray: ...


def position_code(rows: int, columns: int) -> np.ndarray:
    """(rows, columns, 10): each region's centre u (row) and v (column) in (-1, 1), and sin/cos of
    pi*u, pi*v, 2*pi*u, 2*pi*v, so a weighted average of attended regions tells where they lie."""
    u = (np.arange(rows) + 0.5) / rows * 2.0 - 1.0
    v = (np.arange(columns) + 0.5) / columns * 2.0 - 1.0
    uu, vv = np.meshgrid(u, v, indexing="ij")
    channels = [uu, vv]
    for frequency in (1.0, 2.0):
        for grid in (uu, vv):
            channels += [np.sin(np.pi * frequency * grid), np.cos(np.pi * frequency * grid)]
    return np.stack(channels, axis=-1).astype(np.float32)


class ShapesGridExtractor:
    """The generated task's offline extractor (see the module docstring)."""

    def __init__(self, spec: ExtractorSpec) -> None:
        import keras
        from keras import layers

        if spec.image_size % 16:
            raise ConfigError(
                f"shapes_grid needs an image size divisible by 16, got {spec.image_size}."
            )
        self.spec = spec

        def init(offset: int) -> Any:
            return keras.initializers.GlorotUniform(seed=spec.seed * 10 + offset)

        inputs = keras.Input((spec.image_size, spec.image_size, 3))
        x = layers.Conv2D(32, 4, strides=4, activation="relu", kernel_initializer=init(1))(inputs)
        x = layers.Conv2D(64, 2, strides=2, activation="relu", kernel_initializer=init(2))(x)
        x = layers.Conv2D(64, 2, strides=2, activation="relu", kernel_initializer=init(3))(x)
        # Each region also sees its 8 neighbours (48 x 48 pixels), so its features describe the
        # outline of the shape it belongs to, as a deep layer's wide receptive field does.
        x = layers.Conv2D(
            spec.channels, 3, padding="same", activation="relu", kernel_initializer=init(4)
        )(x)
        self.network = keras.Model(inputs, x, name=SHAPES_GRID)
        side = spec.image_size // 16
        self.positions = position_code(side, side)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        content = np.asarray(self.network(images, training=False))
        positions = np.broadcast_to(self.positions, (len(content), *self.positions.shape))
        return np.concatenate([content, positions], axis=-1)


class ApplicationExtractor:
    """A keras.applications network (ImageNet weights by default) up to a named layer."""

    def __init__(self, spec: ExtractorSpec) -> None:
        import keras

        from ldl.models.resnet import application_constructor

        self.spec = spec
        constructor, _ = application_constructor(spec.network)
        size = spec.image_size
        try:
            base = _with_download_timeout(
                lambda: constructor(
                    include_top=False, weights=spec.weights, input_shape=(size, size, 3)
                )
            )
        except ValueError as error:
            raise ConfigError(f"keras.applications.{spec.network}: {error}") from None
        except Exception as error:
            url = VGG19_NOTOP_URL if spec.network == "VGG19" else "the URL in this message"
            raise DataError(
                f"Cannot get the {spec.weights} weights of {spec.network} ({str(error).splitlines()[0]}). "
                f"Download {url} on a machine with internet access and put it in Keras's cache "
                f"folder '{keras_cache_dir()}' (or set KERAS_HOME to a folder whose models/ holds "
                "it); data.extractor.weights=null runs the network with random weights (for tests only)."
            ) from None
        try:
            output = base.get_layer(spec.layer).output
        except ValueError:
            names = ", ".join(layer.name for layer in base.layers[-6:])
            raise ConfigError(
                f"{spec.network} has no layer {spec.layer!r}; its last layers are {names}."
            ) from None
        self.network = keras.Model(base.input, output, name=f"{spec.network}_{spec.layer}")
        if len(self.network.output.shape) != 4:
            raise ConfigError(
                f"{spec.network}'s layer {spec.layer} gives {self.network.output.shape}, not a grid of "
                "regions (N, rows, columns, features); choose a convolutional layer."
            )

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return np.asarray(self.network(images, training=False))


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights: $KERAS_HOME or ~/.keras, then models/."""
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "models"


def _with_download_timeout(function: Callable[[], Any], seconds: float = 30.0) -> Any:
    """Offline, a weights download fails after `seconds` instead of hanging."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        return function()
    finally:
        socket.setdefaulttimeout(previous)


def build_extractor(spec: ExtractorSpec) -> Extractor:
    if spec.network == SHAPES_GRID:
        return ShapesGridExtractor(spec)
    return ApplicationExtractor(spec)
