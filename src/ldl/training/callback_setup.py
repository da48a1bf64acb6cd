"""The run's callbacks step: ldl's own callbacks, then the `callbacks` and `logger` config groups'
(tasks plug theirs in there), and the TensorBoard HParams and op graph."""

from __future__ import annotations

import sys
from typing import Any

import keras
from hydra.utils import instantiate
from omegaconf import DictConfig

from ldl.config import hparams_of
from ldl.runs.run_folder import RunFolder
from ldl.training import tensorboard_logs
from ldl.training.epoch_lines import EpochLines
from ldl.training.pipeline import SetEpoch
from ldl.training.recorder import RunRecorder
from ldl.training.run_context import Datasets


def instantiate_callbacks(group: DictConfig | None) -> list[keras.callbacks.Callback]:
    if not group:
        return []
    return [instantiate(spec) for spec in group.values() if spec is not None]


def make_callbacks(
    cfg: DictConfig, run: RunFolder, model: keras.Model, datasets: Datasets, recorder: RunRecorder
) -> list[keras.callbacks.Callback]:
    """ldl's own callbacks, then the `callbacks` and `logger` groups' (tasks plug theirs in there)."""
    callbacks: list[keras.callbacks.Callback] = [
        SetEpoch(datasets.train, datasets.data.train_transform),
        # Keras prints nothing per epoch without a terminal (verbosity); this line stands in for it.
        EpochLines(run, recorder.epochs, echo=verbosity(cfg.trainer.verbose) == 0
                   and cfg.trainer.verbose == "auto"),
    ]  # fmt: skip
    callbacks += instantiate_callbacks(cfg.get("callbacks"))
    callbacks += instantiate_callbacks(cfg.get("logger"))
    # Last, so that its checkpoints hold what every other callback made of each epoch.
    recorder.watch(callbacks)
    callbacks.append(recorder)
    if logs_to_tensorboard(cfg):
        tensorboard_logs.write_hparams(str(run.tensorboard_dir), hparams_of(cfg), run.path.name)
        tensorboard_logs.write_model_graph(
            str(run.tensorboard_dir), model, datasets.data.input_shape
        )
    return callbacks


def logs_to_tensorboard(cfg: DictConfig) -> bool:
    return "tensorboard" in (cfg.get("logger") or {})


def verbosity(setting: Any) -> int:
    """Keras's fit() verbosity: `auto` is a progress bar on a terminal and nothing otherwise (ldl's
    EpochLines then prints one compact line per epoch)."""
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 0
    return int(setting)
