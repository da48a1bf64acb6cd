"""From a `data` config to standardized arrays ready for training.

Every split decision is made on raw arrays and every statistic is fitted on the training part only, so a
held-out validation split never leaks into the standardization (spec 3.2).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.arrays import ArraySplits
from ldl.data.boston_housing import load_boston_housing
from ldl.data.kfold import kfold_split
from ldl.data.mnist import load_mnist
from ldl.data.preprocessing import one_hot, standardize_global, standardize_per_feature
from ldl.errors import ConfigError

DATASETS = ("mnist", "boston_housing")
# Datasets whose own module builds the PreparedData (windows, vocabularies, batch transforms, reports).
PREPARED_DATASETS = {
    "book_sales": "ldl.data.book_sales:prepare_book_sales",
    "cifar10": "ldl.data.cifar10:prepare_cifar10",
    "frankenstein_chars": "ldl.data.frankenstein:prepare_characters",
    "frankenstein_words": "ldl.data.frankenstein:prepare_words",
    "anki_fra_eng": "ldl.data.anki:prepare_anki_fra_eng",
    "coco_captions": "ldl.tasks.captioning.data:prepare_coco_captions",
    "shapes_captions": "ldl.tasks.captioning.data:prepare_shapes_captions",
}


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
    # The per-example shape the model sees when `transform` changes it (e.g. ids -> one-hot).
    model_input_shape: tuple[int, ...] | None = None
    # Dataset-specific results after training, (model, run folder) -> {"test/...": value}, e.g. a
    # forecaster's naive baseline and plot; they join metrics.json.
    test_report: Callable[[Any, Path], dict[str, Any]] | None = None
    # Lazily loaded batches instead of in-memory arrays (captioning's cached features):
    # (split "train" | "validation" | "test", batch size, seed, shuffle) -> a keras PyDataset with
    # set_epoch / steps_per_epoch, or None when the split is empty. The arrays above then only
    # count the examples.
    batches: Callable[[str, int, int, bool], Any] | None = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.model_input_shape is not None:
            return tuple(self.model_input_shape)
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
            f"data={name} cannot be trained with Keras models; choose one of "
            f"{', '.join((*DATASETS, *PREPARED_DATASETS))}."
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


def last_fraction_split(
    x: np.ndarray, y: np.ndarray, fraction: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Keras's `validation_split`: the last examples validate, cut before any shuffling (spec 3.4)."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(
            f"trainer.validation_fraction must lie strictly between 0 and 1, got {fraction}."
        )
    cut = int(len(x) * (1.0 - fraction))
    return x[:cut], y[:cut], x[cut:], y[cut:]


VALIDATIONS = ("test", "holdout", "last_fraction", "kfold", "none")


def split_validation(
    x: np.ndarray,
    y: np.ndarray,
    validation: str,
    validation_fraction: float,
    validation_seed: int,
    cv: Mapping[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Carve the validation examples out of the training examples, as `validation` says."""
    if validation == "holdout":
        return holdout_split(x, y, validation_fraction, validation_seed)
    if validation == "last_fraction":
        return last_fraction_split(x, y, validation_fraction)
    if validation == "kfold":
        if not cv or cv.get("fold") is None:
            raise ConfigError(
                "trainer.validation=kfold needs cv.fold (0 .. cv.k-1), e.g. cv.fold=0."
            )
        return kfold_split(x, y, int(cv["k"]), cv["fold"], int(cv["seed"]))
    return x, y, None, None


def resolve_validation(validation: str, cv: Mapping[str, Any] | None) -> str:
    """Choosing a cross-validation fold (cv.fold) turns k-fold validation on."""
    if cv and cv.get("fold") is not None:
        return "kfold"
    if validation not in VALIDATIONS:
        raise ConfigError(
            f"trainer.validation={validation!r} is not known; use one of {', '.join(VALIDATIONS)} "
            "(test is the book's convention; kfold is chosen by setting cv.fold)."
        )
    return validation


def _prepared_dataset(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    validation: str,
    validation_fraction: float,
    validation_seed: int,
    cv: Mapping[str, Any] | None = None,
) -> PreparedData:
    """Build a PREPARED_DATASETS entry, then carve its validation part from the prepared examples
    (their statistics and vocabulary come from the whole training part, as with Keras's
    validation_split)."""
    module, _, function = PREPARED_DATASETS[data_config["name"]].partition(":")
    data = getattr(importlib.import_module(module), function)(data_config, data_dir)
    if validation in ("test", "none"):
        return data
    if isinstance(data.x_train, tuple):  # several input arrays (e.g. source, decoder input)
        rows = np.arange(len(data.y_train))
        train, _, val, _ = split_validation(
            rows, rows, validation, validation_fraction, validation_seed, cv
        )
        return replace(
            data,
            x_train=tuple(array[train] for array in data.x_train),
            y_train=data.y_train[train],
            x_val=tuple(array[val] for array in data.x_train),
            y_val=data.y_train[val],
        )
    x, y, x_val, y_val = split_validation(
        data.x_train, data.y_train, validation, validation_fraction, validation_seed, cv
    )
    return replace(data, x_train=x, y_train=y, x_val=x_val, y_val=y_val)


def prepare_data(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    validation: str = "test",
    validation_fraction: float = 0.2,
    validation_seed: int = 0,
    cv: Mapping[str, Any] | None = None,
) -> PreparedData:
    """Load, split and standardize a dataset as its config and the spec say.

    `cv` is the k-fold config (`k`, `fold`, `seed`); a fold other than null makes `fold` the
    validation part and the other folds the training part (the test set is never split).
    """
    validation = resolve_validation(validation, cv)
    if data_config["name"] in PREPARED_DATASETS:
        return _prepared_dataset(
            data_config, data_dir, validation, validation_fraction, validation_seed, cv
        )
    raw = load_raw(data_config, data_dir)
    x_train, y_train, x_val, y_val = split_validation(
        raw.x_train, raw.y_train, validation, validation_fraction, validation_seed, cv
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
        train_transform=training_augmentation(data_config),
    )


def training_augmentation(data_config: Mapping[str, Any]) -> Any:
    """The training-batch augmentation of `data.augmentation` (None when absent or all off); the
    TensorFlow-backed module is imported only when a transform is asked for."""
    from ldl.data.augmentation import build_augmentation, is_active

    config = data_config.get("augmentation")
    return build_augmentation(dict(config)) if is_active(config) else None
