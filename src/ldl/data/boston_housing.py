"""Boston Housing with exactly Keras's 404/102 train/test split (chapter 6).

The book's numbers (first test targets, MAE) only make sense on Keras's split, so it is reproduced
here for both accepted files: Keras's `boston_housing.npz` and the original UCI `housing.data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.arrays import ArraySplits, read_npz
from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit, prepare_arrays
from ldl.data.download import fetch, missing_files_error
from ldl.errors import ConfigError, DataError

BOSTON_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
BOSTON_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
NPZ_NAME = "boston_housing.npz"
TEXT_NAME = "housing.data"
FEATURE_NAMES = (
    "CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX", "PTRATIO", "B", "LSTAT",
)  # fmt: skip
NUM_FEATURES = len(FEATURE_NAMES)


def read_housing_data(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse the UCI `housing.data` text file into float64 x (N, 13) and y (N,).

    Parsed line by line so that a short or damaged row is reported with its line number instead
    of shifting every later value into the wrong column.
    """
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(
            f"Cannot read '{path}' as the UCI housing.data text file ({error}). Replace it."
        ) from error
    rows = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue  # blank lines, including the real file's trailing lone space
        try:
            if len(fields) != NUM_FEATURES + 1:
                raise ValueError(f"{len(fields)} values instead of {NUM_FEATURES + 1}")
            rows.append([float(field) for field in fields])
        except ValueError as error:
            raise DataError(
                f"Line {number} of '{path}' is not a housing.data row ({error}); each row must "
                f"hold 13 features and the target, separated by whitespace. The file is "
                f"truncated or corrupt: replace it."
            ) from error
    table = np.array(rows, dtype=np.float64).reshape(-1, NUM_FEATURES + 1)
    return table[:, :NUM_FEATURES], table[:, NUM_FEATURES]


def _check(x: np.ndarray, y: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    fix = "The file is truncated or corrupt: replace it."
    if x.ndim != 2 or x.shape[1] != NUM_FEATURES or y.shape != (len(x),):
        raise DataError(
            f"Boston Housing data in '{path}' has x {x.shape} and y {y.shape}; x (N, 13) and "
            f"y (N,) are expected. {fix}"
        )
    try:
        x, y = x.astype(np.float64), y.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise DataError(f"Boston Housing data in '{path}' is not numeric. {fix}") from error
    if len(x) < 2 or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError(
            f"Boston Housing data in '{path}' has {len(x)} rows or non-finite values; "
            f"506 finite rows are expected. {fix}"
        )
    return x, y


def split_like_keras(
    x: np.ndarray, y: np.ndarray, test_split: float = 0.2, seed: int = 113
) -> ArraySplits:
    """Shuffle with `RandomState(seed)` and cut, exactly as `keras.datasets.boston_housing`."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return ArraySplits(x[:cut], y[:cut], x[cut:], y[cut:])


def load_boston_housing(
    data_dir: Path | str, download: bool = True, test_split: float = 0.2, seed: int = 113
) -> ArraySplits:
    """Load Boston Housing as float64 x (404, 13), y (404,) train and 102 test rows.

    Reads `boston_housing.npz` (arrays x, y in original row order) or else `housing.data` from
    `data_dir`; if neither is there and `download` is true, fetches Keras's checksum-verified npz.
    """
    if not 0 <= test_split < 1:
        raise ConfigError(f"test_split must be in [0, 1), got {test_split!r}.")
    data_dir = Path(data_dir).expanduser()
    npz_path, text_path = data_dir / NPZ_NAME, data_dir / TEXT_NAME
    if not npz_path.is_file() and not text_path.is_file():
        expected = [NPZ_NAME, f"or {TEXT_NAME}"]
        if not download:
            raise missing_files_error(
                "Boston Housing", data_dir, expected, BOSTON_URL, reason="Downloading is turned off"
            )
        try:
            fetch(NPZ_NAME, BOSTON_URL, BOSTON_SHA256, data_dir)
        except DataError as error:
            cause = error.__cause__ or error
            raise missing_files_error(
                "Boston Housing",
                data_dir,
                expected,
                BOSTON_URL,
                reason=f"Downloading {NPZ_NAME} failed: {cause}",
            ) from error
    if npz_path.is_file():
        arrays = read_npz(npz_path, ("x", "y"), "Boston Housing")
        x, y = _check(arrays["x"], arrays["y"], npz_path)
    else:
        x, y = _check(*read_housing_data(text_path), text_path)
    return split_like_keras(x, y, test_split, seed)


def prepare_boston_housing(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """The `data=boston_housing` dataset: read the files, then split and standardize as the config says."""
    raw = load_boston_housing(
        data_dir,
        download=bool(data_config["download"]),
        test_split=float(data_config["test_split"]),
        seed=int(data_config["split_seed"]),
    )
    return prepare_arrays(raw, data_config, split)
