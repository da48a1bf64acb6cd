"""From a `data` config to standardized arrays ready for training.

Every split decision is made on raw arrays and every statistic is fitted on the training part only, so a
held-out validation split never leaks into the standardization (spec 3.2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.arrays import ArraySplits
from ldl.data.boston_housing import load_boston_housing
from ldl.data.mnist import load_mnist
from ldl.data.preprocessing import one_hot, standardize_global, standardize_per_feature
from ldl.errors import ConfigError

DATASETS = ("mnist", "boston_housing")


@dataclass(frozen=True)
class PreparedData:
    """Training-ready arrays plus what a model needs to know about them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    num_outputs: int
    # Statistics of the standardization, fitted on the training data (recorded in the run folder).
    statistics: dict[str, Any]
    # Applied to every batch inside the tf.data graph (e.g. one-hot encoding of token ids).
    transform: Callable[[Any, Any], tuple[Any, Any]] | None = None
    # Applied to training batches only, after `transform` (e.g. data augmentation).
    train_transform: Callable[[Any, Any], tuple[Any, Any]] | None = None
    # What later commands need to interpret the data (e.g. a vocabulary); saved as data.json in the run.
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])


def load_raw(data_config: Mapping[str, Any], data_dir: str | Path) -> ArraySplits:
    """Read a dataset's raw arrays from `data_dir` (or download them), cut to the configured sizes."""
    name = data_config["name"]
    download = bool(data_config.get("download", True))
    if name == "mnist":
        raw = load_mnist(data_dir, download=download)
    elif name == "boston_housing":
        raw = load_boston_housing(
            data_dir,
            download=download,
            test_split=float(data_config.get("test_split", 0.2)),
            seed=int(data_config.get("split_seed", 113)),
        )
    else:
        raise ConfigError(
            f"data={name} cannot be trained with Keras models; choose one of {', '.join(DATASETS)}."
        )
    return raw.head(data_config.get("max_train_examples"), data_config.get("max_test_examples"))


def holdout_split(
    x: np.ndarray, y: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out a random `fraction` of the training examples, drawn with its own seed."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(
            f"trainer.validation_fraction must lie strictly between 0 and 1, got {fraction}."
        )
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = max(1, round(len(x) * fraction))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    return x[train], y[train], x[val], y[val]


def prepare_data(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    validation: str = "test",
    validation_fraction: float = 0.2,
    validation_seed: int = 0,
) -> PreparedData:
    """Load, split and standardize a dataset as its config and the spec say."""
    raw = load_raw(data_config, data_dir)
    x_train, y_train = raw.x_train, raw.y_train
    x_val = y_val = None
    if validation == "holdout":
        x_train, y_train, x_val, y_val = holdout_split(
            x_train, y_train, validation_fraction, validation_seed
        )
    elif validation not in ("test", "none"):
        raise ConfigError(
            f"trainer.validation={validation!r} is not known; use test (the book's convention), "
            "holdout or none."
        )

    standardize = data_config.get("standardize", "none")
    if standardize == "global":
        x_train, x_test, mean, std = standardize_global(x_train, raw.x_test)
        statistics: dict[str, Any] = {"mean": float(mean), "std": float(std)}
    elif standardize == "per_feature":
        x_train, x_test, mean, std = standardize_per_feature(x_train, raw.x_test)
        statistics = {"mean": np.asarray(mean).tolist(), "std": np.asarray(std).tolist()}
    elif standardize == "none":
        x_train, x_test = x_train.astype("float32"), raw.x_test.astype("float32")
        mean, std, statistics = 0.0, 1.0, {}
    else:
        raise ConfigError(
            f"data.standardize={standardize!r} is not known; use global, per_feature or none."
        )
    if x_val is not None:
        x_val = ((x_val - mean) / std).astype("float32")

    task = data_config["task"]
    y_test = raw.y_test
    if task == "classification":
        num_outputs = int(data_config["num_classes"])
        if data_config.get("one_hot", True):
            y_train, y_test = one_hot(y_train, num_outputs), one_hot(y_test, num_outputs)
            y_val = None if y_val is None else one_hot(y_val, num_outputs)
    else:
        num_outputs = 1
        y_train, y_test = y_train.astype("float32"), y_test.astype("float32")
        y_val = None if y_val is None else y_val.astype("float32")
    return PreparedData(
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        x_test=x_test,
        y_test=y_test,
        task=task,
        num_outputs=num_outputs,
        statistics=statistics,
    )
