"""Small, deterministic stand-ins for the real dataset files, written in their exact formats.

Import from tests as `from fixtures import write_mnist_idx` (pytest puts `tests/support/` on sys.path: pyproject.toml's `pythonpath`).
Every writer creates `directory` if needed and returns the arrays it wrote, so a test can compare
what a loader returns with what is on disk. Same arguments, same bytes: data come from seeded NumPy.

- MNIST stand-ins are learnable: each class lights its own 6x6 block of the 28x28 image on a noisy
  background, so even a tiny model (or nearest-centroid) reaches ~100 % test accuracy.
- Boston stand-ins have 13 features drawn around the real column means/stds and a target that is a
  noisy linear function of the standardized features, so linear regression fits them well.
"""

from __future__ import annotations

import gzip as gzip_module
from pathlib import Path

import numpy as np

from ldl.data.arrays import ArraySplits

MNIST_IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def write_idx(path: Path, array: np.ndarray) -> Path:
    """Write a uint8 array as an IDX file (gzipped when `path` ends in .gz); returns `path`."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    payload = header + array.tobytes()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip_module.compress(payload) if path.suffix == ".gz" else payload)
    return path


def make_mnist_arrays(n_train: int = 200, n_test: int = 50, seed: int = 0) -> ArraySplits:
    """MNIST-shaped uint8 images (N, 28, 28) and balanced uint8 labels 0..9, without writing."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 40, size=(n, 28, 28)).astype(np.uint8)
        for index, label in enumerate(labels):
            row, col = 2 + 9 * (label // 4), 1 + 7 * (label % 4)  # 3 x 4 grid of 6x6 blocks
            images[index, row : row + 6, col : col + 6] = rng.integers(180, 256, size=(6, 6))
        return images, labels

    return ArraySplits(*split(n_train), *split(n_test))


def write_mnist_idx(
    directory: Path, n_train: int = 200, n_test: int = 50, gzip: bool = False, seed: int = 0
) -> ArraySplits:
    """Write the four MNIST IDX files (plain, or `.gz` when `gzip`) into `directory`.

    Put them in `<data_dir>/mnist/` (the book's layout) or directly in `<data_dir>/`.
    """
    splits = make_mnist_arrays(n_train, n_test, seed)
    arrays = (splits.x_train, splits.y_train, splits.x_test, splits.y_test)
    suffix = ".gz" if gzip else ""
    for name, array in zip(MNIST_IDX_NAMES, arrays, strict=True):
        write_idx(Path(directory) / f"{name}{suffix}", array)
    return splits


def write_splits_npz(path: Path, splits: ArraySplits) -> ArraySplits:
    """Save splits as a Keras-layout npz (x_train, y_train, x_test, y_test) at `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        x_train=splits.x_train,
        y_train=splits.y_train,
        x_test=splits.x_test,
        y_test=splits.y_test,
    )
    return splits


def write_mnist_npz(
    directory: Path,
    n_train: int = 200,
    n_test: int = 50,
    seed: int = 0,
    filename: str = "mnist.npz",
) -> ArraySplits:
    """Write a Keras-layout `mnist.npz` (x_train, y_train, x_test, y_test) into `directory`."""
    splits = make_mnist_arrays(n_train, n_test, seed)
    return write_splits_npz(Path(directory) / filename, splits)


# Per column of housing.data: printf format (the UCI file's widths), mean, std, low, high.
_BOSTON_COLUMNS = (
    ("%8.5f", 3.6, 8.6, 0.006, 88.9),  # CRIM
    ("%7.2f", 11.4, 23.3, 0.0, 100.0),  # ZN
    ("%8.3f", 11.1, 6.9, 0.46, 27.7),  # INDUS
    ("%3d", 0.07, 0.25, 0.0, 1.0),  # CHAS (binary)
    ("%8.4f", 0.555, 0.116, 0.385, 0.871),  # NOX
    ("%8.4f", 6.28, 0.70, 3.56, 8.78),  # RM
    ("%7.2f", 68.6, 28.1, 2.9, 100.0),  # AGE
    ("%8.4f", 3.80, 2.10, 1.13, 12.1),  # DIS
    ("%4d", 9.5, 8.7, 1.0, 24.0),  # RAD (integer)
    ("%7.1f", 408.0, 168.0, 187.0, 711.0),  # TAX
    ("%7.2f", 18.5, 2.16, 12.6, 22.0),  # PTRATIO
    ("%7.2f", 356.7, 91.2, 0.32, 396.9),  # B
    ("%7.2f", 12.7, 7.1, 1.73, 37.97),  # LSTAT
)
_BOSTON_WEIGHTS = np.array([-0.9, 1.1, 0.1, 0.7, -2.0, 2.7, 0.0, -3.1, 2.6, -2.1, -2.1, 0.9, -3.7])


def _boston_lines(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    formats, means, stds, lows, highs = zip(*_BOSTON_COLUMNS, strict=True)
    x = np.clip(rng.normal(means, stds, size=(n, 13)), lows, highs)
    x[:, 3] = rng.random(n) < 0.07  # CHAS
    x[:, 8] = np.rint(x[:, 8])  # RAD
    z = (x - np.array(means)) / np.array(stds)
    y = np.clip(22.5 + z @ _BOSTON_WEIGHTS + rng.normal(0.0, 1.0, size=n), 5.0, 50.0)
    row_format = "".join(formats) + "%7.2f"
    return [row_format % (*row, target) for row, target in zip(x, y, strict=True)]


def make_boston_arrays(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boston-shaped float64 x (n, 13) and y (n,), exactly the values the text file holds."""
    table = np.array([line.split() for line in _boston_lines(n, seed)], dtype=np.float64)
    return table[:, :13], table[:, 13]


def write_boston_npz(directory: Path, n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Write Keras-layout `boston_housing.npz` (x (n, 13), y (n,), unsplit) into `directory`.

    Same `n` and `seed` give the same arrays as `write_housing_data`.
    """
    x, y = make_boston_arrays(n, seed)
    Path(directory).mkdir(parents=True, exist_ok=True)
    np.savez(Path(directory) / "boston_housing.npz", x=x, y=y)
    return x, y


def write_housing_data(
    directory: Path, n: int = 60, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Write a UCI-format `housing.data` (n rows of 14 columns, target last) into `directory`.

    Like the real file, it ends with a single space after the final newline.
    """
    Path(directory).mkdir(parents=True, exist_ok=True)
    text = "\n".join(_boston_lines(n, seed)) + "\n "
    (Path(directory) / "housing.data").write_text(text, encoding="ascii")
    return make_boston_arrays(n, seed)


# --- CIFAR-10 ---------------------------------------------------------------------------------


def make_cifar10_arrays(n_train: int = 50, n_test: int = 20, seed: int = 0) -> ArraySplits:
    """CIFAR-shaped uint8 images (N, 32, 32, 3) and labels (N, 1); each class brightens one colour
    channel in its own 8x8 block of a noisy image, so a tiny convnet can learn them."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 60, size=(n, 32, 32, 3)).astype(np.uint8)
        for index, label in enumerate(labels):
            row, col = 8 * (label // 4), 8 * (label % 4)
            images[index, row : row + 8, col : col + 8, label % 3] = 230
        return images, labels.reshape(-1, 1)

    return ArraySplits(*split(n_train), *split(n_test))


def _cifar_batch_bytes(images: np.ndarray, labels: np.ndarray, name: str) -> bytes:
    """A batch pickled as the official python-2 files are: bytes keys, (N, 3072) R/G/B planes."""
    import pickle

    data = np.ascontiguousarray(images.transpose(0, 3, 1, 2).reshape(len(images), -1))
    batch = {
        b"batch_label": name.encode(),
        b"labels": [int(label) for label in labels.reshape(-1)],
        b"data": data,
        b"filenames": [f"{index}.png".encode() for index in range(len(images))],
    }
    return pickle.dumps(batch, protocol=2)


def write_cifar10_batches(
    directory: Path, n_train: int = 50, n_test: int = 20, seed: int = 0, tar: bool = False
) -> ArraySplits:
    """Write `cifar-10-batches-py/` (five training batches of n_train/5 and a test batch) into
    `directory`, or the official-layout `cifar-10-python.tar.gz` when `tar`."""
    import io
    import tarfile

    if n_train % 5:
        raise ValueError("n_train must split into five equal training batches")
    splits = make_cifar10_arrays(n_train, n_test, seed)
    size = n_train // 5
    files = {
        f"data_batch_{index + 1}": _cifar_batch_bytes(
            splits.x_train[index * size : (index + 1) * size],
            splits.y_train[index * size : (index + 1) * size],
            f"training batch {index + 1} of 5",
        )
        for index in range(5)
    }
    files["test_batch"] = _cifar_batch_bytes(splits.x_test, splits.y_test, "testing batch 1 of 1")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if tar:
        with tarfile.open(directory / "cifar-10-python.tar.gz", "w:gz") as archive:
            for name, payload in files.items():
                info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
                info.size = len(payload)
                archive.addfile(info, io.BytesIO(payload))
    else:
        (directory / "cifar-10-batches-py").mkdir(exist_ok=True)
        for name, payload in files.items():
            (directory / "cifar-10-batches-py" / name).write_bytes(payload)
    return splits


def write_cifar10_npz(
    directory: Path,
    n_train: int = 50,
    n_test: int = 20,
    seed: int = 0,
    filename: str = "cifar10.npz",
) -> ArraySplits:
    """Write a Keras-layout CIFAR-10 npz (x_train, y_train, x_test, y_test) into `directory`."""
    splits = make_cifar10_arrays(n_train, n_test, seed)
    return write_splits_npz(Path(directory) / filename, splits)


def data_config(name: str, **overrides: object) -> dict:
    """The `data=<name>` config file as a plain dict, with `overrides` applied on top."""
    from omegaconf import OmegaConf

    from ldl.config import config_dir

    config = OmegaConf.to_container(OmegaConf.load(config_dir() / "data" / f"{name}.yaml"))
    return {**config, **overrides}
