"""CIFAR-10 from the python-pickle batches, their tar.gz, or an npz; downloaded as a last resort.

The book loads `keras.datasets.cifar10`, i.e. the official python version of the dataset
(`cifar-10-batches-py/`: five training batches and one test batch, each row 1,024 R, 1,024 G and
1,024 B values of a row-major 32x32 image). This module reads that layout the way Keras does
(training batches concatenated in order, channels last, labels (N, 1)), also straight out of the
official tar.gz without unpacking it, and also from an npz with the Keras arrays (the layout of the
copy rebuilt from JPEGs that this project's machines hold). The batches are pickles, so they are
read with an unpickler that only admits the NumPy types the official files use: a pickle from
elsewhere cannot run code.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ldl.data.arrays import ArraySplits, read_npz
from ldl.data.datasets import (
    TEST_AS_VALIDATION,
    PreparedData,
    ValidationSplit,
    training_augmentation,
)
from ldl.data.download import fetch, missing_files_error
from ldl.data.preprocessing import global_mean_and_std, standardizing_transform
from ldl.errors import DataError

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
# sha256 of the official archive (the hash Keras's cifar10.load_data checks).
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
TAR_NAME = "cifar-10-python.tar.gz"
BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{index}" for index in range(1, 6))
TEST_BATCH = "test_batch"
# npz copies in the Keras layout, looked for in this order (the second is the JPEG-rebuilt copy).
NPZ_NAMES = ("cifar10.npz", "cifar10_from_jpeg.npz")
CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SHAPE = (32, 32, 3)
_ROW_BYTES = 32 * 32 * 3
# The only globals a CIFAR batch pickle refers to (NumPy 1.x and 2.x spell the module differently).
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1"), a pure function.
    ("_codecs", "encode"),
}


class _BatchUnpickler(pickle.Unpickler):
    """Unpickle plain containers and NumPy arrays, nothing that could execute code."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the batch refers to {module}.{name}, which is not allowed")


def read_batch(stream: IO[bytes], source: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch -> (uint8 images (N, 32, 32, 3), uint8 labels (N,))."""
    fix = f"Re-download or replace {source}."
    try:
        batch = _BatchUnpickler(stream, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as error:
        raise DataError(
            f"Cannot read the CIFAR-10 batch {source}: it is truncated, corrupt or not a CIFAR-10 "
            f"python batch ({error}). {fix}"
        ) from error
    if not isinstance(batch, dict):
        raise DataError(f"The CIFAR-10 batch {source} is not a dictionary. {fix}")
    batch = {key.decode() if isinstance(key, bytes) else key: value for key, value in batch.items()}
    if "data" not in batch or "labels" not in batch:
        raise DataError(
            f"The CIFAR-10 batch {source} lacks 'data' or 'labels' (it has "
            f"{', '.join(map(str, batch)) or 'nothing'}). {fix}"
        )
    data = np.asarray(batch["data"])
    labels = np.asarray(batch["labels"])
    if data.ndim != 2 or data.shape[1] != _ROW_BYTES or len(data) != len(labels):
        raise DataError(
            f"The CIFAR-10 batch {source} holds data of shape {data.shape} and {len(labels)} "
            f"labels; (N, 3072) and N labels are expected. {fix}"
        )
    # Each row is three row-major 32x32 planes (R, G, B): to (N, 3, 32, 32), then channels last.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return _check_split(images, labels, source)


def _check_split(
    images: np.ndarray, labels: np.ndarray, source: str
) -> tuple[np.ndarray, np.ndarray]:
    fix = f"Re-download or replace {source}."
    if images.ndim != 4 or images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"CIFAR-10 images in {source} have shape {images.shape}; (N, 32, 32, 3) is expected. {fix}"
        )
    labels = labels.reshape(-1)
    if len(images) != len(labels):
        raise DataError(
            f"{source} holds {len(images)} images but {len(labels)} labels; the counts must be "
            f"equal. {fix}"
        )
    for name, array, high in (("images", images, 255), ("labels", labels, len(CLASS_NAMES) - 1)):
        if not np.issubdtype(array.dtype, np.integer):
            raise DataError(f"CIFAR-10 {name} in {source} are {array.dtype}, not integers. {fix}")
        if array.size and (array.min() < 0 or array.max() > high):
            raise DataError(f"CIFAR-10 {name} in {source} lie outside 0..{high}. {fix}")
    return images.astype(np.uint8, copy=False), labels.astype(np.uint8, copy=False)


def _assemble(open_batch: Callable[[str], tuple[np.ndarray, np.ndarray]]) -> ArraySplits:
    """Concatenate the training batches in order; labels become (N, 1) as Keras returns them."""
    train = [open_batch(name) for name in TRAIN_BATCHES]
    x_test, y_test = open_batch(TEST_BATCH)
    x_train = np.concatenate([images for images, _ in train])
    y_train = np.concatenate([labels for _, labels in train])
    return ArraySplits(x_train, y_train.reshape(-1, 1), x_test, y_test.reshape(-1, 1))


def _load_batch_dir(directory: Path) -> ArraySplits:
    def open_batch(name: str) -> tuple[np.ndarray, np.ndarray]:
        path = directory / name
        with open(path, "rb") as stream:
            return read_batch(stream, f"'{path}'")

    return _assemble(open_batch)


def _load_tar(path: Path) -> ArraySplits:
    """Read the batches from the official archive without unpacking it to disk."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {Path(member.name).name: member for member in archive.getmembers()}

            def open_batch(name: str) -> tuple[np.ndarray, np.ndarray]:
                member = members.get(name)
                stream = archive.extractfile(member) if member is not None else None
                if stream is None:
                    raise DataError(
                        f"The CIFAR-10 archive '{path}' has no {BATCH_DIR}/{name}. Re-download it "
                        f"from {CIFAR10_URL}."
                    )
                return read_batch(io.BytesIO(stream.read()), f"'{path}' ({name})")

            return _assemble(open_batch)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(
            f"The CIFAR-10 archive '{path}' is truncated or corrupt ({error}). Delete it and "
            f"re-download {CIFAR10_URL}."
        ) from error


def _load_npz(path: Path) -> ArraySplits:
    arrays = read_npz(path, ("x_train", "y_train", "x_test", "y_test"), "CIFAR-10")
    x_train, y_train = _check_split(arrays["x_train"], arrays["y_train"], f"'{path}'")
    x_test, y_test = _check_split(arrays["x_test"], arrays["y_test"], f"'{path}'")
    return ArraySplits(x_train, y_train.reshape(-1, 1), x_test, y_test.reshape(-1, 1))


def _has_batches(directory: Path) -> bool:
    return all((directory / name).is_file() for name in (*TRAIN_BATCHES, TEST_BATCH))


def load_cifar10(
    data_dir: Path | str, download: bool = True, npz_file: str | None = None
) -> ArraySplits:
    """Load CIFAR-10 as uint8 images (N, 32, 32, 3) and uint8 labels (N, 1): 50,000 / 10,000.

    Looks in `data_dir` (and `data_dir/cifar10/`) for, in order: the unpacked
    `cifar-10-batches-py/` folder, the official `cifar-10-python.tar.gz`, an npz named `npz_file` or
    one of NPZ_NAMES; then, if `download`, fetches the checksum-verified official archive into
    `data_dir`. Raises `DataError` naming the accepted files otherwise.
    """
    data_dir = Path(data_dir).expanduser()
    folders = (data_dir, data_dir / "cifar10")
    for folder in folders:
        if _has_batches(folder / BATCH_DIR):
            return _load_batch_dir(folder / BATCH_DIR)
    for folder in folders:
        if (folder / TAR_NAME).is_file():
            return _load_tar(folder / TAR_NAME)
    npz_names = (npz_file,) if npz_file else NPZ_NAMES
    for name in npz_names:
        for folder in folders:
            if (folder / name).is_file():
                return _load_npz(folder / name)

    for folder in folders:
        batches = folder / BATCH_DIR
        if batches.is_dir():
            missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH) if not (batches / n).is_file()]
            raise DataError(
                f"The CIFAR-10 batch folder '{batches}' lacks {', '.join(missing)} (of data_batch_1..5 "
                f"and test_batch). Restore the missing batch files, or delete the folder and put "
                f"{TAR_NAME} from {CIFAR10_URL} in '{data_dir}'."
            )
    expected = [
        f"{BATCH_DIR}/ (data_batch_1..5, test_batch)",
        TAR_NAME,
        " or ".join(npz_names) + " (x_train, y_train, x_test, y_test)",
    ]
    if not download:
        raise missing_files_error(
            "CIFAR-10", data_dir, expected, CIFAR10_URL, reason="Downloading is turned off"
        )
    try:
        tar_path = fetch(TAR_NAME, CIFAR10_URL, CIFAR10_SHA256, data_dir)
    except DataError as error:
        cause = error.__cause__ or error
        raise missing_files_error(
            "CIFAR-10",
            data_dir,
            expected,
            CIFAR10_URL,
            reason=f"Downloading {TAR_NAME} failed: {cause}",
        ) from error
    return _load_tar(tar_path)


def _chunked_mean_std(images: np.ndarray, chunk: int = 2048) -> tuple[float, float]:
    """Population mean and std over every value, in float64, without a float64 copy of the data
    (np.std on the uint8 array would allocate 1.2 GB for CIFAR-10's training set)."""
    count = images.size
    if count == 0:
        raise ValueError("x_train is empty; standardization statistics need training data.")
    if images.dtype == np.uint8:  # exact integer sums, no copy at all
        mean, std = global_mean_and_std(images)
        return mean, std if std > 0 else 1.0
    total = sum(
        float(images[i : i + chunk].sum(dtype=np.float64)) for i in range(0, len(images), chunk)
    )
    mean = total / count
    squares = sum(
        float(np.square(images[i : i + chunk].astype(np.float64) - mean).sum())
        for i in range(0, len(images), chunk)
    )
    std = float(np.sqrt(squares / count))
    return mean, std if std > 0 else 1.0


def prepare_cifar10(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """CIFAR-10 ready for training, kept as uint8 in memory and standardized batch by batch.

    Global standardization (docs/book-conventions.md, standardization: one mean and one population std over every training value) and
    one-hot encoding happen inside the tf.data pipeline (`transform`), so neither a float32 copy of
    the 50,000 images (614 MB, twice once TensorFlow holds its own) nor the one-hot labels ever sit in
    memory; the numbers are the same as standardizing the arrays up front. Augmentation
    (`data.augmentation`) runs after it, on training batches only.
    """
    from ldl.errors import ConfigError

    raw = load_cifar10(
        data_dir,
        download=bool(data_config["download"]),
        npz_file=data_config["npz_file"],
    ).head(data_config["max_train_examples"], data_config["max_test_examples"])
    standardize = data_config["standardize"]
    if standardize == "global":
        mean, std = _chunked_mean_std(raw.x_train)
        statistics: dict[str, Any] = {"mean": mean, "std": std}
    elif standardize == "divide_255":  # pixels to [0, 1]
        mean, std, statistics = 0.0, 255.0, {"scale": 255.0}
    elif standardize == "none":  # raw 0..255 pixels (pretrained networks scale them themselves)
        mean, std, statistics = 0.0, 1.0, {}
    else:
        raise ConfigError(
            f"data.standardize={standardize!r} is not known for CIFAR-10; use global, divide_255 "
            "or none."
        )
    num_classes = int(data_config["num_classes"])
    one_hot = bool(data_config["one_hot"])
    transform = _batch_transform(mean, std, num_classes, one_hot)
    return split.carve(
        PreparedData(
            x_train=raw.x_train,
            y_train=raw.y_train,
            x_val=None,
            y_val=None,
            x_test=raw.x_test,
            y_test=raw.y_test,
            task="classification",
            num_outputs=num_classes,
            statistics=statistics,
            transform=transform,
            train_transform=training_augmentation(data_config),
            metadata={"class_names": list(CLASS_NAMES), **statistics},
            model_input_shape=IMAGE_SHAPE,
        )
    )


def _batch_transform(mean: float, std: float, num_classes: int, one_hot: bool) -> Callable:
    """uint8 images -> float32 (x - mean) / std; integer labels (B, 1) -> one-hot (B, classes)."""
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    standardize = standardizing_transform(mean, std)

    def transform(images: Any, labels: Any) -> tuple[Any, Any]:
        scaled, labels = standardize(images, labels)
        if one_hot:
            labels = tf.one_hot(tf.reshape(tf.cast(labels, tf.int32), [-1]), num_classes)
        return scaled, labels

    return transform
