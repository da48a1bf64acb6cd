"""k-fold cross-validation splits of the training set, as the book describes them (book chapter 5).

Only the training set is ever split: the test set stays untouched for the one final measurement. Fold
membership depends on the split seed alone, never on the training seed, so every configuration of a sweep
is validated on exactly the same folds.
"""

from __future__ import annotations

import numpy as np

from ldl.errors import ConfigError


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
