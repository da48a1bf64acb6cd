"""k-fold cross-validation splits of the training set, as the book describes them (book chapter 5).

Only the training set is ever split: the test set stays untouched for the one final measurement. Fold
membership depends on the split seed alone, never on the training seed, so every configuration of a sweep
is validated on exactly the same folds.

The book's recipe for data that come without a test set first holds out a test fraction and splits only
the rest into folds: `cv.test_fraction` does that with the dataset's training examples (the dataset's own
test set is then not used), so no fold ever trains or validates on the held-out test examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ldl.errors import ConfigError

# The metadata key (data.json) of a dataset that held its test set out of its training examples.
HELD_OUT = "test_held_out_of_training"


def fold_indices(num_examples: int, k: int, seed: int) -> list[np.ndarray]:
    """The k folds as sorted index arrays: a seeded permutation cut into k nearly equal parts."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ConfigError(f"cv.k must be an integer >= 2, got {k!r}.")
    if k > num_examples:
        raise ConfigError(f"cv.k={k} is larger than the {num_examples} training examples.")
    order = np.random.default_rng(seed).permutation(num_examples)
    return [np.sort(part) for part in np.array_split(order, k)]


def kfold_split(
    x: np.ndarray, y: np.ndarray, k: int, fold: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Train on every fold but `fold`, validate on `fold`."""
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < k:
        raise ConfigError(f"cv.fold must be an integer from 0 to {k - 1} (cv.k={k}), got {fold!r}.")
    folds = fold_indices(len(x), k, seed)
    validation = folds[fold]
    training = np.sort(np.concatenate([part for i, part in enumerate(folds) if i != fold]))
    return x[training], y[training], x[validation], y[validation]


def test_holdout_rows(
    num_examples: int, cv: Mapping[str, Any] | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """(kept, test) sorted row numbers of the training examples under `cv.test_fraction`, drawn
    with `cv.seed`; None when it is not set (the dataset's own test set is the test set)."""
    if not cv or cv.get("test_fraction") is None:
        return None
    fraction = cv["test_fraction"]
    test_count = round(num_examples * float(fraction))
    if test_count < 1 or num_examples - test_count < int(cv["k"]):
        raise ConfigError(
            f"cv.test_fraction={fraction} of {num_examples} training examples holds out "
            f"{test_count} as the test set and leaves {num_examples - test_count} for cv.k="
            f"{cv['k']} folds; choose a fraction that leaves at least one test example and one "
            "example per fold, e.g. cv.test_fraction=0.2."
        )
    order = np.random.default_rng(int(cv["seed"])).permutation(num_examples)
    return np.sort(order[test_count:]), np.sort(order[:test_count])


def check_test_held_out(
    metadata: Mapping[str, Any], cv: Mapping[str, Any] | None, name: str
) -> None:
    """Refuse cv.test_fraction for a dataset that did not apply it (one whose splits come from
    elsewhere, e.g. lazily loaded batches), rather than silently testing on its own test set."""
    if cv and cv.get("test_fraction") is not None and HELD_OUT not in metadata:
        raise ConfigError(
            f"cv.test_fraction holds a test set out of the training examples, but data={name} "
            "prepares its splits another way; leave cv.test_fraction null for it (its own test set "
            "is the test set)."
        )
