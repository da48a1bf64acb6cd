"""Photos to network inputs as the book prepares them (chapter 16).

1. Resize so that the shorter side is 256; the longer side becomes int(long / short * 256).
2. Take the central 224 x 224 crop; the offsets are int((side - 224) / 2).
3. The extractor's own preprocessing (VGG19: "caffe", RGB -> BGR minus the ImageNet channel means).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Literal

import numpy as np

from ldl.errors import ConfigError, DataError

Preprocessing = Literal["caffe", "tf", "torch", "none"]
PREPROCESSINGS = ("caffe", "tf", "torch", "none")
# crop: the book's shorter side to 256, then the central crop; stretch: straight to 224 x 224, the
# aspect ratio not kept (chapter 8's load_img), so nothing at the borders is cut off.
Resize = Literal["crop", "stretch"]
RESIZES = ("crop", "stretch")


def resized_size(width: int, height: int, shorter_side: int = 256) -> tuple[int, int]:
    """(width, height) after scaling the shorter side to `shorter_side` (the other side truncated)."""
    if width <= 0 or height <= 0:
        raise DataError(f"An image of {width} x {height} pixels cannot be resized.")
    if width < height:
        return shorter_side, int(height / width * shorter_side)
    return int(width / height * shorter_side), shorter_side


def crop_box(width: int, height: int, crop: int = 224) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the central `crop` square of a width x height image."""
    if width < crop or height < crop:
        raise ConfigError(
            f"A {crop} x {crop} crop does not fit a {width} x {height} image; the shorter side must "
            f"be resized to at least {crop}."
        )
    left, top = int((width - crop) / 2), int((height - crop) / 2)
    return left, top, left + crop, top + crop


# Larger images are refused before decoding: PIL's own decompression-bomb limit (178 million pixels)
# raises an exception of its own, and decoding anything close to it takes gigabytes.
_MAX_PIXELS = 100_000_000


def load_cropped(
    path: Path | str, shorter_side: int = 256, crop: int = 224, resize: Resize = "crop"
) -> np.ndarray:
    """An image file -> float32 RGB (crop, crop, 3) in 0..255, resized and centre-cropped (or
    stretched to crop x crop with resize="stretch")."""
    from PIL import Image

    if resize not in RESIZES:
        raise ConfigError(f"resize={resize!r} is not known; use one of {', '.join(RESIZES)}.")
    path = Path(path).expanduser()
    if path.is_dir():
        raise DataError(
            f"'{path}' is a folder, not an image file. Name the image files themselves."
        )
    if not path.is_file():
        raise DataError(f"The image file '{path}' does not exist.")
    try:
        with warnings.catch_warnings():  # the size is checked below, in ldl's words
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path)
        with opened:
            if opened.width * opened.height > _MAX_PIXELS:
                raise DataError(
                    f"The image '{path}' is {opened.width} x {opened.height} pixels, more than the "
                    f"{_MAX_PIXELS:,} ldl reads (a picture that large would take gigabytes to "
                    "decode, or is a decompression bomb). Scale it down first."
                )
            rgb = opened.convert("RGB")
        # PIL's bilinear filter, as keras.utils.load_img(target_size=...) uses by default.
        bilinear = Image.Resampling.BILINEAR
        if resize == "stretch":
            return np.asarray(rgb.resize((crop, crop), bilinear), dtype=np.float32)
        size = resized_size(rgb.width, rgb.height, shorter_side)
        return np.asarray(rgb.resize(size, bilinear).crop(crop_box(*size, crop)), dtype=np.float32)
    except Image.DecompressionBombError as error:  # PIL refuses it before ldl can look at its size
        raise DataError(
            f"The image '{path}' is too large to read ({str(error).rstrip('.')}). Scale it down first."
        ) from None
    except OSError as error:
        raise DataError(f"Cannot read the image '{path}' ({error}).") from None


def preprocess(images: np.ndarray, mode: str) -> np.ndarray:
    """The network's own input scaling (keras.applications' preprocess_input), on a copy."""
    if mode not in PREPROCESSINGS:
        raise ConfigError(
            f"preprocessing={mode!r} is not known; use one of {', '.join(PREPROCESSINGS)}."
        )
    if mode == "none":
        return np.array(images, dtype=np.float32)
    from keras.applications import imagenet_utils

    return imagenet_utils.preprocess_input(np.array(images, dtype=np.float32), mode=mode)
