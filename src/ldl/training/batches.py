"""The run's data step: the prepared data, the epoch-shuffled training batches, and (once the model
exists) the validation batches."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import keras
from omegaconf import DictConfig

from ldl.data.datasets import PreparedData, Validation, prepare_data, resolve_validation
from ldl.runs.files import write_json
from ldl.runs.run_folder import RunFolder
from ldl.training.evaluation_batch import evaluation_batch_size
from ldl.training.pipeline import BatchTransform, EpochShuffledDataset, evaluation_dataset
from ldl.training.run_context import Datasets


def _chain(first: BatchTransform | None, second: BatchTransform | None) -> BatchTransform | None:
    """Compose two optional batch transforms."""
    if first is None or second is None:
        return first or second
    return lambda features, targets: second(*first(features, targets))


def prepare_run_data(cfg: DictConfig) -> PreparedData:
    """The dataset `cfg` names, split as its trainer and cv options say."""
    trainer = cfg.trainer
    return prepare_data(
        cfg.data,
        cfg.data_dir,
        validation=trainer.validation,
        validation_fraction=trainer.validation_fraction,
        validation_seed=trainer.validation_seed,
        cv=cfg.get("cv"),
    )


def load_datasets(cfg: DictConfig, seed: int, run: RunFolder) -> Datasets:
    """The prepared data and the epoch-shuffled training batches (the validation batches follow
    the model: batch_validation)."""
    trainer = cfg.trainer
    data = prepare_run_data(cfg)
    validation = resolve_validation(trainer.validation, cfg.get("cv"))
    if data.metadata:
        write_json(run.path / "data.json", data.metadata)
    if (
        data.batches is not None
    ):  # the dataset loads its batches itself (e.g. cached image features)
        train = data.batches("train", trainer.batch_size, seed, trainer.shuffle)
        return Datasets(data, validation, train, seed)
    train = EpochShuffledDataset(
        data.x_train,
        data.y_train,
        trainer.batch_size,
        seed=seed,
        shuffle=trainer.shuffle,
        transform=_chain(data.transform, data.train_transform),
    )
    return Datasets(data, validation, train, seed)


def batch_validation(datasets: Datasets, cfg: DictConfig, model: keras.Model) -> Datasets:
    """`datasets` with trainer.eval_batch_size resolved for `model` (training/evaluation_batch.py)
    and the validation data in batches of that size."""
    size = evaluation_batch_size(cfg.trainer.eval_batch_size, model, cfg.trainer.batch_size)
    data = datasets.data
    if data.batches is not None:  # the dataset loads its batches itself
        held_out = data.batches("test", size, datasets.seed, False)
        batches = held_out if datasets.validation == "test" else None
    else:
        x_val, y_val = validation_arrays(data, datasets.validation)
        batches = (
            evaluation_dataset(x_val, y_val, size, data.transform) if x_val is not None else None
        )
    return replace(datasets, eval_batch_size=size, validation_batches=batches)


def validation_arrays(data: PreparedData, validation: Validation) -> tuple[Any, Any]:
    """The validation features and targets; (None, None) without validation data."""
    if validation == "test":
        return data.x_test, data.y_test
    # holdout, last_fraction, kfold carve it from the training data; none has nothing
    return data.x_val, data.y_val
