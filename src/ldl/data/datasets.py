"""From a `data` config to standardized arrays ready for training.

Every split decision is made on raw arrays and every statistic is fitted on the training part only, so a
held-out validation split never leaks into the standardization (docs/book-conventions.md, standardization).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from ldl.data.arrays import ArraySplits
from ldl.data.kfold import HELD_OUT, check_test_held_out, kfold_split, test_holdout_rows
from ldl.data.preprocessing import (
    global_statistics,
    one_hot,
    standardize_global,
    standardize_per_feature,
    standardizing_transform,
)
from ldl.errors import ConfigError, DataError
from ldl.targets import target_of

# What the loss and the output layer mean; the runner (fit, a NumPy program, inference) is chosen
# separately, by the `runner` config group.
Task = Literal["classification", "regression", "reconstruction", "truth_table", "lookup"]
# Where validation data come from: the test set (the book's convention), a seeded holdout, Keras's
# last-fraction split, a k-fold fold, or none.
Validation = Literal["test", "holdout", "last_fraction", "kfold", "none"]


# Model inputs or targets: one array, or a tuple or dict of arrays for a model with several inputs or
# outputs (one row per example in each).
Features = Any


def take_rows(arrays: Features, rows: np.ndarray) -> Features:
    """The given rows of one array, or of every array in a tuple or dict (the rows stay together)."""
    if isinstance(arrays, dict):
        return {name: take_rows(array, rows) for name, array in arrays.items()}
    if isinstance(arrays, tuple):
        return tuple(take_rows(array, rows) for array in arrays)
    return arrays[rows]


def row_count(arrays: Features) -> int:
    """Examples in one array, or in a tuple or dict of arrays."""
    if isinstance(arrays, dict):
        return row_count(next(iter(arrays.values())))
    if isinstance(arrays, tuple):
        return row_count(arrays[0])
    return len(arrays)


@dataclass(frozen=True)
class PreparedData:
    """Training-ready arrays plus what a model needs to know about them."""

    x_train: Features
    y_train: Features
    x_val: Features | None
    y_val: Features | None
    x_test: Features
    y_test: Features
    task: Task
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
    model_input_shape: tuple[Any, ...] | None = None
    # Dataset-specific results after training, (model, run folder) -> {"test/...": value}, e.g. a
    # forecaster's naive baseline and plot; they join metrics.json.
    test_report: Callable[[Any, Path], dict[str, Any]] | None = None
    # Batches loaded lazily instead of held in memory (e.g. captioning's cached image features):
    # (split "train" | "test", batch size, seed, shuffle) -> a keras PyDataset with `set_epoch` and
    # `steps_per_epoch` (its order a function of seed and epoch), or None for an empty split. The
    # arrays above then hold what is small (ids, captions) and count the examples.
    batches: Callable[[str, int, int, bool], Any] | None = None
    # Starting weights of named layers of a new model (not of a resumed one), e.g. an Embedding
    # initialized from pretrained word vectors: {layer name: the layer's weight list}.
    initial_weights: dict[str, list[np.ndarray]] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        if self.model_input_shape is not None:
            return tuple(self.model_input_shape)
        return tuple(self.x_train.shape[1:])


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
    """Keras's `validation_split`: the last examples validate, cut before any shuffling (docs/book-conventions.md, text utilities)."""
    if not 0.0 < fraction < 1.0:
        raise ConfigError(
            f"trainer.validation_fraction must lie strictly between 0 and 1, got {fraction}."
        )
    cut = int(len(x) * (1.0 - fraction))
    return x[:cut], y[:cut], x[cut:], y[cut:]


VALIDATIONS: tuple[Validation, ...] = ("test", "holdout", "last_fraction", "kfold", "none")


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


def resolve_validation(validation: str, cv: Mapping[str, Any] | None) -> Validation:
    """Choosing a cross-validation fold (cv.fold) turns k-fold validation on."""
    if cv and cv.get("fold") is not None:
        return "kfold"
    if validation not in VALIDATIONS:
        raise ConfigError(
            f"trainer.validation={validation!r} is not known; use one of {', '.join(VALIDATIONS)} "
            "(test is the book's convention; kfold is chosen by setting cv.fold)."
        )
    return validation


@dataclass(frozen=True)
class ValidationSplit:
    """How a dataset carves its validation examples out of its training examples."""

    validation: Validation
    fraction: float = 0.2
    seed: int = 0
    cv: Mapping[str, Any] | None = None

    def split(
        self, x: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """Raw training arrays -> (x_train, y_train, x_val, y_val), before any statistic is fitted."""
        return split_validation(x, y, self.validation, self.fraction, self.seed, self.cv)

    def carve(self, data: PreparedData) -> PreparedData:
        """Carve the validation part from already prepared examples (their statistics and vocabulary
        come from the whole training part, as with Keras's validation_split)."""
        held_out = test_holdout_rows(row_count(data.y_train), self.cv)
        if held_out is not None:  # cv.test_fraction: the test set comes out of the training set
            kept, test = held_out
            data = replace(
                data,
                x_train=take_rows(data.x_train, kept), y_train=take_rows(data.y_train, kept),
                x_test=take_rows(data.x_train, test), y_test=take_rows(data.y_train, test),
                metadata={**data.metadata, HELD_OUT: len(test)},
            )  # fmt: skip
        if self.validation in ("test", "none"):
            return data
        if isinstance(data.x_train, np.ndarray) and isinstance(data.y_train, np.ndarray):
            x, y, x_val, y_val = self.split(data.x_train, data.y_train)
            return replace(data, x_train=x, y_train=y, x_val=x_val, y_val=y_val)
        # Several named inputs or outputs: split the row numbers, then take those rows of each.
        rows = np.arange(row_count(data.y_train))
        train, _, val, _ = self.split(rows, rows)
        if val is None:  # every validation kind that gets here carves some rows out
            return data
        return replace(
            data,
            x_train=take_rows(data.x_train, train),
            y_train=take_rows(data.y_train, train),
            x_val=take_rows(data.x_train, val),
            y_val=take_rows(data.y_train, val),
        )


# The book's convention: the test set is the validation data, nothing is carved out.
TEST_AS_VALIDATION = ValidationSplit("test")


class Dataset(Protocol):
    """What a `data` config's `_target_` names: read, split and prepare one dataset."""

    def __call__(
        self, data_config: Mapping[str, Any], data_dir: str | Path, split: ValidationSplit
    ) -> PreparedData: ...


def prepare_data(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    validation: str = "test",
    validation_fraction: float = 0.2,
    validation_seed: int = 0,
    cv: Mapping[str, Any] | None = None,
) -> PreparedData:
    """Load, split and prepare the dataset a `data` config names (its `_target_`).

    `cv` is the k-fold config (`k`, `fold`, `seed`); a fold other than null makes `fold` the
    validation part and the other folds the training part (the test set is never split).
    """
    split = ValidationSplit(
        resolve_validation(validation, cv), validation_fraction, validation_seed, cv
    )
    dataset: Dataset = target_of(data_config, "data")
    folder = Path(data_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise DataError(
            f"data_dir={data_dir} is a regular file, not a folder. Pass the folder that holds the "
            "datasets, e.g. data_dir=data."
        )
    data = dataset(data_config, data_dir, split)
    check_test_held_out(data.metadata, cv, str(data_config.get("name")))
    return training_subset(data, data_config)


def training_subset(data: PreparedData, data_config: Mapping[str, Any]) -> PreparedData:
    """Train on part of the training examples (chapter 17's tuning workflow), drawn with
    `data.subset_seed`: `data.overfit_subset=N` examples (can the model learn them perfectly?) or a
    `data.train_fraction` of them (would more data help?). Validation and test data stay whole."""
    overfit, fraction = data_config.get("overfit_subset"), data_config.get("train_fraction")
    if overfit is None and fraction is None:
        return data
    if overfit is not None and fraction is not None:
        raise ConfigError(
            "data.overfit_subset and data.train_fraction both choose a training subset; set one."
        )
    total = row_count(data.y_train)
    keep = int(overfit) if overfit is not None else max(1, round(total * float(fraction or 1.0)))
    if keep > total:
        raise ConfigError(
            f"data.overfit_subset={keep} asks for more examples than the {total} training examples."
        )
    rows = np.sort(np.random.default_rng(int(data_config["subset_seed"])).permutation(total)[:keep])
    return replace(
        data, x_train=take_rows(data.x_train, rows), y_train=take_rows(data.y_train, rows)
    )


def _standardized(
    x_train: Any, x_test: Any, standardize: str
) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
    """`data.standardize` applied with the training data's statistics: (train, test, mean, std,
    the statistics recorded in the run folder)."""
    mean: Any
    std: Any
    if standardize == "global":
        x_train, x_test, mean, std = standardize_global(x_train, x_test)
        statistics: dict[str, Any] = {"mean": float(mean), "std": float(std)}
    elif standardize == "per_feature":
        x_train, x_test, mean, std = standardize_per_feature(x_train, x_test)
        statistics = {"mean": np.asarray(mean).tolist(), "std": np.asarray(std).tolist()}
    elif standardize == "divide_255":  # pixels to [0, 1], e.g. for a sigmoid output (chapter 17)
        x_train, x_test = (
            (x_train / 255.0).astype("float32"),
            (x_test / 255.0).astype("float32"),
        )
        mean, std, statistics = 0.0, 255.0, {"scale": 255.0}
    elif standardize == "none":
        x_train, x_test = x_train.astype("float32"), x_test.astype("float32")
        mean, std, statistics = 0.0, 1.0, {}
    else:
        raise ConfigError(
            f"data.standardize={standardize!r} is not known; use global, per_feature, divide_255 "
            "or none."
        )
    return x_train, x_test, mean, std, statistics


def _scaled_inputs(
    x_train: Any, x_test: Any, x_val: Any, standardize: str, in_pipeline: bool
) -> tuple[Any, Any, Any, dict[str, Any], Callable[[Any, Any], tuple[Any, Any]] | None]:
    """The inputs under `data.standardize`, with the training part's statistics: (train, test,
    validation, the statistics recorded in the run folder, a batch transform or None). With
    `in_pipeline`, 8-bit images under global standardization stay 8-bit and the transform
    standardizes each batch instead (the same numbers)."""
    if in_pipeline and standardize == "global" and x_train.dtype == np.uint8:
        mean, std = global_statistics(x_train, x_test)
        statistics = {"mean": mean, "std": std}
        return x_train, x_test, x_val, statistics, standardizing_transform(mean, std)
    x_train, x_test, mean, std, statistics = _standardized(x_train, x_test, standardize)
    if x_val is not None:
        x_val = ((x_val - mean) / std).astype("float32")
    return x_train, x_test, x_val, statistics, None


def prepare_arrays(
    raw: ArraySplits,
    data_config: Mapping[str, Any],
    split: ValidationSplit,
    standardize_batches: bool = False,
) -> PreparedData:
    """The array datasets (MNIST, Boston Housing): cut to the configured sizes, split, standardize
    with training statistics only, encode the targets as `data.task` says.

    With `standardize_batches`, 8-bit images under global standardization stay 8-bit and the
    pipeline standardizes each batch (`PreparedData.transform`, the same numbers); for callers that
    hand the arrays to ldl's trainer only, not to code of their own.
    """
    raw = raw.head(data_config["max_train_examples"], data_config["max_test_examples"])
    held_out = test_holdout_rows(len(raw.x_train), split.cv)
    if held_out is not None:  # cv.test_fraction, before any statistic is fitted
        raw = raw.test_from_training(*held_out)
    x_train, y_train, x_val, y_val = split.split(raw.x_train, raw.y_train)
    task = data_config["task"]
    # An autoencoder's targets are the standardized images themselves: standardized up front.
    in_pipeline = standardize_batches and task != "reconstruction"
    x_train, x_test, x_val, statistics, transform = _scaled_inputs(
        x_train, raw.x_test, x_val, data_config["standardize"], in_pipeline
    )

    y_test = raw.y_test
    if task == "reconstruction":  # an autoencoder: every target is its own input; labels unused
        y_train, y_val, y_test = x_train, x_val, x_test
        num_outputs = int(np.prod(x_train.shape[1:]))
    elif task == "classification":
        num_outputs = int(data_config["num_classes"])
        if data_config["one_hot"]:
            low, high = target_values(data_config)
            y_train, y_test = (
                one_hot(y_train, num_outputs, low, high),
                one_hot(y_test, num_outputs, low, high),
            )
            y_val = None if y_val is None else one_hot(y_val, num_outputs, low, high)
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
        transform=transform,
        train_transform=training_augmentation(data_config),
        metadata={} if held_out is None else {HELD_OUT: len(held_out[1])},
    )


def target_values(data_config: Mapping[str, Any]) -> tuple[float, float]:
    """`data.target_values` = [off, on] of one-hot targets: [0, 1], or chapter 5's historical
    [0.1, 0.9], which keeps sigmoid outputs away from the flat ends of the curve."""
    values = data_config.get("target_values") or (0.0, 1.0)
    try:
        low, high = (float(value) for value in values)
    except (TypeError, ValueError):
        raise ConfigError(
            f"data.target_values must be two numbers [off, on], e.g. [0.1,0.9], got {values!r}."
        ) from None
    if not low < high:
        raise ConfigError(f"data.target_values must be [off, on] with off < on, got {values!r}.")
    return low, high


def training_augmentation(data_config: Mapping[str, Any]) -> Any:
    """The training-batch augmentation of `data.augmentation` (None when absent or all off); the
    TensorFlow-backed module is imported only when a transform is asked for."""
    from ldl.data.augmentation import build_augmentation, is_active

    config = data_config.get("augmentation")
    return build_augmentation(dict(config)) if config is not None and is_active(config) else None
