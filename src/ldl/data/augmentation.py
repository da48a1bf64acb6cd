"""Data augmentation as config: random flips, pad-and-crop, translation, rotation and zoom.

The transforms run inside the tf.data pipeline on training batches only (`PreparedData.train_transform`),
after standardization, so evaluation and test batches are never altered and no augmented copy of the
dataset is ever stored. Only label-preserving transforms belong here (chapter 8: flips suit dogs, not
digits). Pad-and-crop pads with zeros, which after standardization is the mean pixel, as in the ResNet
paper's CIFAR recipe (4-pixel padding, random 32x32 crop, horizontal flip).

Randomness: every transform owns a generator with a base seed drawn from Python's `random` module when
the pipeline is built (`keras.utils.set_random_seed(trainer seed)` runs before that). At the start of
every epoch the trainer calls `set_epoch`, which re-seeds each generator from (base seed, epoch), so the
draws of an epoch depend only on the run's seed and the epoch number: a run resumed after a crash sees
exactly the augmentations of the uninterrupted run, as its shuffle order does (training/pipeline.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from ldl.errors import ConfigError
from ldl.tf_setup import import_tensorflow

tf = import_tensorflow()

import keras  # noqa: E402

FLIPS = ("horizontal", "vertical", "horizontal_and_vertical")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")
KNOWN_KEYS = ("flip", "pad_crop", "translation", "rotation", "zoom", "fill_mode")


def is_active(config: Mapping[str, Any] | None) -> bool:
    """Whether an augmentation config asks for any transform at all."""
    if not config:
        return False
    return bool(
        config.get("flip")
        or config.get("pad_crop")
        or config.get("translation")
        or config.get("rotation")
        or config.get("zoom")
    )


def _number(config: Mapping[str, Any], key: str, low: float, high: float) -> float:
    value = config.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ConfigError(
            f"data.augmentation.{key} must be a number in [{low}, {high}], got {value!r}."
        )
    return float(value)


def _fresh_seed() -> int:
    return random.randint(0, 2**31 - 1)


def pad_and_crop(images: Any, padding: int, generator: Any) -> Any:
    """Zero-pad each image by `padding` pixels on every side, then cut a random crop of the original
    size from it, with its own offset for every image of the batch (images: (B, H, W, C))."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    offsets = generator.uniform((batch, 2), minval=0, maxval=2 * padding + 1, dtype=tf.int32)
    rows = offsets[:, :1] + tf.range(height)[None, :]
    columns = offsets[:, 1:] + tf.range(width)[None, :]
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(cropped, columns, axis=2, batch_dims=1)


def random_flip(images: Any, mode: str, generator: Any) -> Any:
    """Mirror each image of a (B, H, W, C) batch with probability 1/2, per axis `mode` names.

    Plain ops and a tf.random.Generator, like pad-and-crop: one seeded generator per transform, and
    ~20,000-40,000 images/s on one core, far above what training consumes.
    """
    batch = tf.shape(images)[0]
    for axis, name in ((2, "horizontal"), (1, "vertical")):
        if name in mode:
            mirror = generator.uniform((batch,)) < 0.5
            images = tf.where(mirror[:, None, None, None], tf.reverse(images, axis=[axis]), images)
    return images


def build_augmentation(config: Mapping[str, Any] | None) -> Augmentation | None:
    """The training-batch transform an augmentation config describes, or None when it asks for none.

    Keys: flip (horizontal | vertical | horizontal_and_vertical), pad_crop (pixels), translation,
    rotation (fraction of a full turn, as Keras's RandomRotation), zoom (fraction), fill_mode for
    translation/rotation/zoom (Keras's default reflect). Images are (B, H, W, C) or (B, H, W).
    """
    if not is_active(config):
        return None
    assert config is not None
    unknown = sorted(set(config) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(
            f"data.augmentation has unknown key(s) {', '.join(unknown)}; known: {', '.join(KNOWN_KEYS)}."
        )
    flip = config.get("flip")
    if flip and flip not in FLIPS:
        raise ConfigError(
            f"data.augmentation.flip={flip!r} is not known; use null or one of {', '.join(FLIPS)}."
        )
    fill_mode = config.get("fill_mode") or "reflect"
    if fill_mode not in FILL_MODES:
        raise ConfigError(
            f"data.augmentation.fill_mode={fill_mode!r} is not known; use one of {', '.join(FILL_MODES)}."
        )
    padding = config.get("pad_crop") or 0
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 0:
        raise ConfigError(
            f"data.augmentation.pad_crop must be a whole number of pixels >= 0, got {padding!r}."
        )
    translation = _number(config, "translation", 0.0, 1.0)
    rotation = _number(config, "rotation", 0.0, 1.0)
    zoom = _number(config, "zoom", 0.0, 1.0)

    augmentation = Augmentation()
    if flip:
        flip_generator = augmentation.generator()
        augmentation.steps.append(lambda images: random_flip(images, flip, flip_generator))
    if padding:
        crop_generator = augmentation.generator()
        augmentation.steps.append(lambda images: pad_and_crop(images, padding, crop_generator))
    if translation:
        translate = augmentation.keras_layer(
            keras.layers.RandomTranslation(translation, translation, fill_mode=fill_mode, seed=0)
        )
        augmentation.steps.append(lambda images: translate(images, training=True))
    if rotation:
        rotate = augmentation.keras_layer(
            keras.layers.RandomRotation(rotation, fill_mode=fill_mode, seed=0)
        )
        augmentation.steps.append(lambda images: rotate(images, training=True))
    if zoom:
        zoom_layer = augmentation.keras_layer(
            keras.layers.RandomZoom(zoom, fill_mode=fill_mode, seed=0)
        )
        augmentation.steps.append(lambda images: zoom_layer(images, training=True))
    augmentation.set_epoch(0)
    return augmentation


def _epoch_seed(base_seed: int, epoch: int) -> int:
    """A seed for (base seed, epoch); distinct epochs of one generator get distinct seeds."""
    return (base_seed * 1_000_003 + epoch) % (2**31 - 1)


class Augmentation:
    """The training-batch transform: `(images, labels) -> (augmented images, labels)`, whose random
    draws in an epoch depend only on the generators' base seeds and the epoch (`set_epoch`)."""

    def __init__(self) -> None:
        self.steps: list[Callable[[Any], Any]] = []
        self._generators: list[tuple[int, Any]] = []
        self._keras_layers: list[tuple[int, Any]] = []

    def generator(self) -> Any:
        """A new tf.random.Generator, re-seeded every epoch."""
        base_seed = _fresh_seed()
        generator = tf.random.Generator.from_seed(base_seed)
        self._generators.append((base_seed, generator))
        return generator

    def keras_layer(self, layer: Any) -> Any:
        """A Keras random image layer whose seed generator is re-seeded every epoch."""
        self._keras_layers.append((_fresh_seed(), layer))
        return layer

    def set_epoch(self, epoch: int) -> None:
        for base_seed, generator in self._generators:
            generator.reset_from_seed(_epoch_seed(base_seed, epoch))
        for base_seed, layer in self._keras_layers:
            state = layer.generator.state
            state.assign(tf.constant([_epoch_seed(base_seed, epoch), 0], dtype=state.dtype))

    def __call__(self, features: Any, targets: Any) -> tuple[Any, Any]:
        images = features
        greyscale = images.shape.rank == 3  # (B, H, W): give the image layers a channel axis
        if greyscale:
            images = images[..., None]
        for step in self.steps:
            images = step(images)
        if greyscale:
            images = images[..., 0]
        return tf.cast(images, features.dtype), targets
