"""Classify image files with a pretrained ImageNet network, as chapter 8 does (c8e1, chapter 8).

The book's steps: load the photo resized straight to 224x224 (nearest neighbour, aspect ratio not
kept), make it a float32 batch of one, apply the network's own preprocessing (ResNet-50: "caffe",
i.e. RGB -> BGR minus the ImageNet channel means), run one forward pass and decode the 5 most
probable classes with `decode_predictions`. Weights and the class-index file come through Keras's
download cache ($KERAS_HOME or ~/.keras, folder models/); offline and not cached, the error names the
file and the folder to put it in.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ldl.errors import ConfigError, DataError
from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode

CLASS_INDEX_FILE = "imagenet_class_index.json"
# Where keras.applications.imagenet_utils.decode_predictions downloads it from, and its md5.
CLASS_INDEX_URL = (
    "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
)
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming")
DOWNLOAD_TIMEOUT_S = 30.0


def keras_cache_dir() -> Path:
    """Where Keras keeps downloaded weights and the class index: $KERAS_HOME or ~/.keras, + models/."""
    return Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser() / "models"


def _missing_download(what: str, error: BaseException, hint: str = "") -> DataError:
    """The file a failed Keras download wanted (its URL is in the error), and where to put it."""
    text = str(error)
    url = re.search(r"https?://[^\s:]+(?::[0-9]+)?[^\s:]*", text)
    name = url.group(0).rsplit("/", 1)[-1] if url else "?"
    where = keras_cache_dir()
    reason = text.splitlines()[0] if text else type(error).__name__
    return DataError(
        f"Cannot get {what}: the file {name} is not in Keras's cache folder '{where}' and could not "
        f"be downloaded ({reason}). Download {url.group(0) if url else 'it'} on a machine with "
        f"internet access and put it in '{where}' (or set KERAS_HOME to a folder whose models/ "
        f"holds it).{hint}"
    )


def _with_timeout(function: Callable[[], Any]) -> Any:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        return function()
    finally:
        socket.setdefaulttimeout(previous)


def load_images(
    paths: Sequence[str | Path], size: int = 224, interpolation: str = "nearest"
) -> np.ndarray:
    """Image files -> float32 RGB batch (N, size, size, 3), resized directly as `load_img` does."""
    import keras

    if interpolation not in INTERPOLATIONS:
        raise ConfigError(
            f"interpolation={interpolation!r} is not known; use one of {', '.join(INTERPOLATIONS)}."
        )
    if not paths:
        raise ConfigError("which images? Pass images=<file>[,<file>...].")
    arrays = []
    for path in paths:
        path = Path(path).expanduser()
        if not path.is_file():
            raise DataError(f"The image file '{path}' does not exist; pass the path of a photo.")
        try:
            image = keras.utils.load_img(
                path, target_size=(size, size), interpolation=interpolation, color_mode="rgb"
            )
        except Exception as error:  # PIL raises several types for unreadable files
            raise DataError(f"Cannot read the image '{path}' ({error}).") from error
        arrays.append(keras.utils.img_to_array(image, dtype="float32"))
    return np.stack(arrays)


def preprocess(images: np.ndarray, mode: str) -> np.ndarray:
    """The network's own input scaling (keras.applications' preprocess_input)."""
    from keras.applications import imagenet_utils

    if mode == "none":
        return images
    return imagenet_utils.preprocess_input(images.copy(), mode=mode)


def load_pretrained(architecture: str, weights: str | None, size: int = 224) -> Any:
    """The published network with its ImageNet top; a clear error when the weights are missing."""
    from ldl.models.resnet import build_application

    try:
        return _with_timeout(
            lambda: build_application(
                architecture,
                (size, size, 3),
                1000,
                weights=weights,
                include_top=True,
                input_size=size,
            )
        )
    except (ConfigError, DataError):
        raise
    except Exception as error:
        if weights == "imagenet":
            raise _missing_download(
                f"the ImageNet weights of {architecture}",
                error,
                " weights=null runs the network with random weights.",
            ) from error
        raise ConfigError(
            f"Cannot load weights {weights!r} into {architecture}: {error}"
        ) from error


def class_index_path() -> Path:
    """The ImageNet class-index file from Keras's cache (downloaded, checksum-verified, if absent)."""
    from keras.utils import get_file

    try:
        return Path(
            _with_timeout(
                lambda: get_file(
                    CLASS_INDEX_FILE,
                    CLASS_INDEX_URL,
                    cache_subdir="models",
                    file_hash=CLASS_INDEX_MD5,
                )
            )
        )
    except Exception as error:
        raise _missing_download("the ImageNet class index", error) from error


def top_k(
    probabilities: np.ndarray, class_index: Mapping[str, Sequence[str]], k: int = 5
) -> list[list[tuple[str, str, float]]]:
    """Per image, the k most probable classes as (WordNet id, label, probability), best first."""
    if probabilities.ndim != 2 or probabilities.shape[1] != len(class_index):
        raise ValueError(
            f"expected probabilities of shape (N, {len(class_index)}), got {probabilities.shape}"
        )
    results = []
    for row in probabilities:
        best = np.argsort(row, kind="stable")[::-1][:k]
        results.append(
            [
                (str(class_index[str(i)][0]), str(class_index[str(i)][1]), float(row[i]))
                for i in best
            ]
        )
    return results


def decode(probabilities: np.ndarray, k: int = 5) -> list[list[tuple[str, str, float]]]:
    """The book's `decode_predictions(..., top=k)`, after making sure the class index is cached."""
    from keras.applications.imagenet_utils import decode_predictions

    class_index_path()
    return [
        [(str(wnid), str(label), float(p)) for wnid, label, p in row]
        for row in decode_predictions(probabilities, top=k)
    ]


def classify(
    paths: Sequence[str | Path],
    architecture: str = "ResNet50",
    weights: str | None = "imagenet",
    top: int = 5,
    size: int = 224,
    interpolation: str = "nearest",
    preprocessing: str = "auto",
    decoder: Callable[[np.ndarray, int], list] | None = None,
) -> tuple[np.ndarray, list[list[tuple[str, str, float]]]]:
    """Classify image files; returns (probabilities (N, 1000), top-`top` per image)."""
    from ldl.models.resnet import application_constructor

    _, default_mode = application_constructor(architecture)
    mode = default_mode if preprocessing == "auto" else preprocessing
    if mode not in ("caffe", "tf", "torch", "none"):
        raise ConfigError(
            f"preprocessing={preprocessing!r} is not known; use auto, caffe, tf, torch or none."
        )
    if top < 1:
        raise ConfigError(f"top must be >= 1, got {top}.")
    images = preprocess(load_images(paths, size, interpolation), mode)
    if decoder is None:
        class_index_path()  # fail in seconds, before building the network, when it is missing
    model = load_pretrained(architecture, weights, size)
    probabilities = np.asarray(model.predict(images, verbose=0), dtype=np.float32)
    return probabilities, (decoder or decode)(probabilities, top)


def format_predictions(
    paths: Sequence[str | Path], results: list[list[tuple[str, str, float]]]
) -> list[str]:
    """The book's printout, one line per class: `n02091134 whippet 0.4105768`."""
    lines = []
    for path, rows in zip(paths, results, strict=True):
        lines.append(f"{Path(path).name}:")
        lines.extend(
            f"  {rank}. {wnid} {label} {p:.7g}" for rank, (wnid, label, p) in enumerate(rows, 1)
        )
    return lines


def run_image_inference(cfg: Any, run: RunFolder, mode: RunMode, say: Say) -> dict[str, Any]:
    """The inference runner (c8e1 through `ldl train`): classify data.images (relative to data_dir)
    with a pretrained network and report the top-k classes; nothing is trained."""
    import time

    data, model = cfg.data, cfg.model
    paths = [
        Path(cfg.data_dir) / image if not Path(image).is_absolute() else Path(image)
        for image in data.images
    ]
    started = time.perf_counter()
    _, results = classify(
        paths,
        architecture=model.architecture,
        weights=model.weights,
        top=int(data.top),
        size=int(data.image_size),
        interpolation=data.interpolation,
        preprocessing=model.preprocessing,
    )
    for line in format_predictions(paths, results):
        say(line)
    from ldl import tf_setup

    metrics: dict[str, Any] = {
        "train_seconds": time.perf_counter() - started,
        "device": tf_setup.device_description(),
    }
    for path, rows in zip(paths, results, strict=True):
        for rank, (wnid, label, p) in enumerate(rows, 1):
            metrics[f"{path.stem}/top{rank}/probability"] = p
            metrics[f"{path.stem}/top{rank}/label"] = f"{wnid} {label}"
    return metrics
