"""Images an MNIST autoencoder has never seen, to tell digits from non-digits (chapter 17).

The book's outlier set is Fashion-MNIST's test set: 10,000 28x28 grey images of clothes, read from the
same gzipped IDX file that Keras's `fashion_mnist` loader downloads. A second set, built from data ldl
already reads, serves where Fashion-MNIST is not at hand: CIFAR-10's test images as 28x28 grey images
(luma 0.299 R + 0.587 G + 0.114 B, the central 28x28 of the 32x32 picture). Neither is a digit; only
Fashion-MNIST reproduces the book's figure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from ldl.data.cifar10 import load_cifar10
from ldl.data.download import fetch, missing_files_error
from ldl.data.mnist import read_idx
from ldl.errors import DataError

OutlierSet = Literal["fashion_mnist", "cifar10_gray"]
OUTLIER_SETS: tuple[OutlierSet, ...] = ("fashion_mnist", "cifar10_gray")

# Where Keras's fashion_mnist loader downloads from, and the folder it caches the files in.
FASHION_MNIST_BASE_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_MNIST_FOLDER = "fashion-mnist"
FASHION_MNIST_TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
# sha256 of the official t10k-images-idx3-ubyte.gz (its md5 is Zalando's published
# bef4ecab320f06d8554ea6380940ec79).
FASHION_MNIST_TEST_IMAGES_SHA256 = (
    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
)
# ITU-R BT.601 luma weights: how a colour picture becomes grey.
LUMA = np.array([0.299, 0.587, 0.114])


def _fashion_mnist_candidates(data_dir: Path) -> list[Path]:
    names = (FASHION_MNIST_TEST_IMAGES, FASHION_MNIST_TEST_IMAGES.removesuffix(".gz"))
    folders = (data_dir / FASHION_MNIST_FOLDER, data_dir / "fashion_mnist", data_dir)
    return [folder / name for folder in folders for name in names]


def load_fashion_mnist_test_images(data_dir: Path | str, download: bool = True) -> np.ndarray:
    """Fashion-MNIST's 10,000 test images, uint8 (N, 28, 28), from `data_dir/fashion-mnist/` (Keras's
    cache layout), `data_dir/fashion_mnist/` or `data_dir/`, plain or gzipped; downloaded with its
    checksum verified when allowed."""
    data_dir = Path(data_dir).expanduser()
    for path in _fashion_mnist_candidates(data_dir):
        if path.is_file():
            return _checked_images(read_idx(path), path)
    url = FASHION_MNIST_BASE_URL + FASHION_MNIST_TEST_IMAGES
    expected = [f"{FASHION_MNIST_FOLDER}/{FASHION_MNIST_TEST_IMAGES} (or unzipped, or in data_dir)"]
    if not download:
        raise missing_files_error(
            "Fashion-MNIST", data_dir, expected, url, reason="Downloading is turned off"
        )
    try:
        path = fetch(
            FASHION_MNIST_TEST_IMAGES,
            url,
            FASHION_MNIST_TEST_IMAGES_SHA256,
            data_dir,
            subdir=FASHION_MNIST_FOLDER,
        )
    except DataError as error:
        raise missing_files_error(
            "Fashion-MNIST",
            data_dir,
            expected,
            url,
            reason=f"Downloading failed: {error.__cause__ or error}. Without the file, "
            "data.outliers=cifar10_gray uses CIFAR-10's test images instead",
        ) from error
    return _checked_images(read_idx(path), path)


def _checked_images(images: np.ndarray, path: Path) -> np.ndarray:
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise DataError(
            f"'{path}' holds an array of shape {images.shape} ({images.dtype}), not 28x28 uint8 "
            "images. Replace it with the official Fashion-MNIST file."
        )
    return images


def cifar10_as_gray_digits(images: np.ndarray) -> np.ndarray:
    """CIFAR-10 images (N, 32, 32, 3) as MNIST-sized grey images (N, 28, 28), uint8: luma, then the
    central 28x28 (the same cut on every side, so nothing is resampled)."""
    gray = np.rint(images.astype(np.float64) @ LUMA).clip(0, 255).astype(np.uint8)
    return gray[:, 2:30, 2:30]


def load_outlier_images(
    name: OutlierSet, data_dir: Path | str, download: bool = True
) -> np.ndarray:
    """The outlier set `data.outliers` names, uint8 (N, 28, 28)."""
    if name == "fashion_mnist":
        return load_fashion_mnist_test_images(data_dir, download)
    if name == "cifar10_gray":
        return cifar10_as_gray_digits(load_cifar10(data_dir, download=download).x_test)
    raise DataError(f"data.outliers={name!r} is not known; use one of {', '.join(OUTLIER_SETS)}.")
