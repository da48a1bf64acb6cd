"""Train/test arrays as one value, plus a validated `.npz` reader shared by the loaders.

Every loader returns an `ArraySplits` so experiments can treat MNIST, Boston Housing and the rest
the same way, and `head()` lets smoke tests and quick runs cut a dataset down without touching
loaders.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

import numpy as np

from ldl.data import npz_cache
from ldl.errors import ConfigError, DataError


# eq=False: the generated __eq__ would compare numpy arrays and fail on their truth value.
@dataclass(frozen=True, eq=False)
class ArraySplits:
    """Training and test arrays of one dataset (the book validates on the test set, docs/book-conventions.md, validation data)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def head(self, max_train: int | None, max_test: int | None) -> ArraySplits:
        """Keep the first `max_train` training and `max_test` test examples (None keeps all).

        Taking the first examples, not a random subset, keeps quick runs reproducible and lets them
        be compared with the book's first printed examples.
        """
        n_train = _check_limit("max_train", max_train)
        n_test = _check_limit("max_test", max_test)
        return ArraySplits(
            x_train=self.x_train[:n_train],
            y_train=self.y_train[:n_train],
            x_test=self.x_test[:n_test],
            y_test=self.y_test[:n_test],
        )

    def test_from_training(self, kept: np.ndarray, test: np.ndarray) -> ArraySplits:
        """Training rows `kept` train, training rows `test` become the test set (cv.test_fraction);
        the original test set is dropped."""
        x, y = self.x_train, self.y_train
        return ArraySplits(x_train=x[kept], y_train=y[kept], x_test=x[test], y_test=y[test])


def _check_limit(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Integral) or value <= 0:
        raise ConfigError(
            f"{name} must be a positive whole number of examples, or null to keep all of them; "
            f"got {value!r}."
        )
    return int(value)


def read_npz(path: Path, keys: tuple[str, ...], dataset: str) -> dict[str, np.ndarray]:
    """Read `keys` from an `.npz` file, turning every way it can be broken into a `DataError`.

    `np.load` raises half a dozen exception types for truncated or foreign files; users only need
    to know which file is bad and that replacing it fixes the problem.
    """
    fix = "Delete or replace it (re-download it, or rebuild it from the original files)."
    cached = npz_cache.read_cached(path, keys)
    if cached is not None:
        return cached
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise DataError(
                    f"The {dataset} file '{path}' lacks the array(s) {', '.join(missing)}; it "
                    f"holds {', '.join(archive.files) or 'nothing'} but {', '.join(keys)} are "
                    f"expected. {fix}"
                )
            arrays = {key: archive[key] for key in keys}
            cache = npz_cache.worth_caching(path, archive.zip)
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError) as error:
        raise DataError(
            f"The {dataset} file '{path}' is truncated or corrupt, or not an .npz archive "
            f"({type(error).__name__}: {error}). {fix}"
        ) from error
    if cache:
        npz_cache.write_cache(path, arrays)
    return arrays
