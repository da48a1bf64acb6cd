"""MNIST from the book's IDX files or Keras's `mnist.npz`, downloaded as a last resort.

Chapter 4 reads the four original IDX files and chapter 5 uses `keras.datasets.mnist`; both hold
the same images, so either copy serves every experiment. The arrays are returned raw (uint8) so
that each experiment applies its own preprocessing (chapters 4 and 5).
"""

from __future__ import annotations

import gzip
import math
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.aligned import aligned_empty
from ldl.data.arrays import ArraySplits, read_npz
from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit, prepare_arrays
from ldl.data.download import fetch, missing_files_error
from ldl.errors import DataError

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_NAME = "mnist.npz"
# (images, labels) file names of each split, without the optional ".gz".
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

_IDX_DTYPES = {0x08: np.uint8}  # the only IDX element type MNIST uses
_GZIP_MAGIC = b"\x1f\x8b"


def _replace_hint(path: Path) -> str:
    return f"Re-download or replace '{path}'."


def read_idx(path: Path | str) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into an array shaped as its header says.

    The reader is strict because a truncated download otherwise surfaces much later as a reshape
    error or, worse, as silently missing examples.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == _GZIP_MAGIC or path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            f"Cannot read the IDX file '{path}': it is truncated or corrupt ({error}). "
            + _replace_hint(path)
        ) from error
    if len(raw) < 4:
        raise DataError(
            f"The IDX file '{path}' is truncated: it has only {len(raw)} bytes. "
            + _replace_hint(path)
        )
    type_code, ndim = raw[2], raw[3]
    if raw[:2] != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise DataError(
            f"'{path}' is not an IDX file of unsigned bytes: its header starts with "
            f"{raw[:4].hex(' ')} where 00 00 08 followed by the number of dimensions is expected "
            f"(wrong magic number; the file is corrupt or not MNIST). " + _replace_hint(path)
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(
            f"The IDX file '{path}' is truncated inside its header. " + _replace_hint(path)
        )
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape)
    actual = len(raw) - header_size
    if actual != expected:
        state = "truncated" if actual < expected else "corrupt (it has extra bytes)"
        raise DataError(
            f"The IDX file '{path}' is {state}: its header announces shape {shape}, i.e. "
            f"{expected} bytes of data, but it holds {actual}. " + _replace_hint(path)
        )
    dtype = _IDX_DTYPES[type_code]
    # Copied into an aligned buffer, which training then reads in place (ldl.data.aligned).
    array = aligned_empty(shape, dtype)
    array[...] = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return array


def _check_split(images: np.ndarray, labels: np.ndarray, source: str) -> tuple[np.ndarray, ...]:
    """Check one split's shapes and label range; return (uint8 images, uint8 labels)."""
    fix = f"Re-download or replace {source}."
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"MNIST images in {source} have shape {images.shape}; (N, 28, 28) is expected. {fix}"
        )
    if labels.ndim != 1:
        raise DataError(
            f"MNIST labels in {source} have shape {labels.shape}; (N,) is expected. {fix}"
        )
    if len(images) != len(labels):
        raise DataError(
            f"{source} holds {len(images)} images but {len(labels)} labels; the counts must be "
            f"equal. {fix}"
        )
    for name, array, high in (("images", images, 255), ("labels", labels, NUM_CLASSES - 1)):
        if not np.issubdtype(array.dtype, np.integer):
            raise DataError(f"MNIST {name} in {source} are {array.dtype}, not integers. {fix}")
        if array.size and (array.min() < 0 or array.max() > high):
            raise DataError(f"MNIST {name} in {source} lie outside 0..{high}. {fix}")
    return images.astype(np.uint8, copy=False), labels.astype(np.uint8, copy=False)


def _find_idx(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _load_idx_set(directory: Path) -> ArraySplits | None:
    """Load the four IDX files from `directory`, or return None if any of them is absent."""
    found = {name: _find_idx(directory, name) for pair in IDX_FILES.values() for name in pair}
    paths = {name: path for name, path in found.items() if path is not None}
    if len(paths) < len(found):
        return None
    splits = {}
    for split, (image_name, label_name) in IDX_FILES.items():
        image_path, label_path = paths[image_name], paths[label_name]
        source = f"'{image_path}' and '{label_path}'"
        splits[split] = _check_split(read_idx(image_path), read_idx(label_path), source)
    return ArraySplits(*splits["train"], *splits["test"])


def _refuse_partial_idx_set(directory: Path) -> None:
    """Some but not all of the four IDX files: name the missing ones (a download would not help)."""
    names = [name for pair in IDX_FILES.values() for name in pair]
    present = [name for name in names if _find_idx(directory, name) is not None]
    if present and len(present) < len(names):
        missing = [f"{name}[.gz]" for name in names if name not in present]
        raise DataError(
            f"'{directory}' holds {len(present)} of MNIST's 4 IDX files; missing: "
            f"{', '.join(missing)}. Put the missing file(s) there (e.g. from the same download), or "
            f"remove the partial set to use {NPZ_NAME}."
        )


def _load_npz(path: Path) -> ArraySplits:
    arrays = read_npz(path, ("x_train", "y_train", "x_test", "y_test"), "MNIST")
    train = _check_split(arrays["x_train"], arrays["y_train"], f"'{path}'")
    test = _check_split(arrays["x_test"], arrays["y_test"], f"'{path}'")
    return ArraySplits(*train, *test)


def load_mnist(data_dir: Path | str, download: bool = True) -> ArraySplits:
    """Load MNIST as uint8 images (N, 28, 28) and uint8 labels (N,): 60,000 train, 10,000 test.

    Looks for, in order: the four IDX files (plain or .gz) in `data_dir/mnist/` or `data_dir/`;
    `mnist.npz` in `data_dir/` or `data_dir/mnist/`; then, if `download`, fetches Keras's
    checksum-verified `mnist.npz` into `data_dir/`. Raises `DataError` naming the files otherwise.
    """
    data_dir = Path(data_dir).expanduser()
    for directory in (data_dir / "mnist", data_dir):
        splits = _load_idx_set(directory)
        if splits is not None:
            return splits
    for npz_path in (data_dir / NPZ_NAME, data_dir / "mnist" / NPZ_NAME):
        if npz_path.is_file():
            return _load_npz(npz_path)

    for directory in (data_dir / "mnist", data_dir):
        _refuse_partial_idx_set(directory)
    expected = [
        *(f"{name}[.gz]" for pair in IDX_FILES.values() for name in pair),
        f"(all four, in 'mnist/' or directly in the data directory) or {NPZ_NAME}",
    ]
    if not download:
        raise missing_files_error(
            "MNIST", data_dir, expected, MNIST_URL, reason="Downloading is turned off"
        )
    try:
        npz_path = fetch(NPZ_NAME, MNIST_URL, MNIST_SHA256, data_dir)
    except DataError as error:
        cause = error.__cause__ or error
        raise missing_files_error(
            "MNIST", data_dir, expected, MNIST_URL, reason=f"Downloading {NPZ_NAME} failed: {cause}"
        ) from error
    return _load_npz(npz_path)


def prepare_mnist(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """The `data=mnist` dataset: read the files, then split and standardize as the config says
    (global standardization batch by batch in the pipeline: the images stay 8-bit in memory)."""
    raw = load_mnist(data_dir, download=bool(data_config["download"]))
    return prepare_arrays(raw, data_config, split, standardize_batches=True)
