"""What the steps of a Keras run share: one object instead of long parameter lists.

`RunContext` is filled in by `recipe.start_run` (runtime, data, model, recorder, callbacks) and read by
the later steps (`fit.py`, `outcome.py`); the population of `population.py` keeps one per member.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import keras
from omegaconf import DictConfig

from ldl.data.datasets import PreparedData, Validation
from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.training.checkpoint import Checkpointer, CheckpointState
from ldl.training.recorder import RunRecorder


@dataclass
class Runtime:
    seed: int
    saved: CheckpointState | None  # the checkpoint to resume from, if any
    strategy: Any  # tf.distribute.Strategy; the model is built under its scope
    device: str


@dataclass(frozen=True)
class Datasets:
    data: PreparedData
    validation: Validation
    train: Any  # EpochShuffledDataset, or a dataset's own lazily loaded batches (same interface)
    seed: int
    # Set once the model exists (batch_validation): trainer.eval_batch_size as a number, and the
    # validation data in batches of that size (a tf.data.Dataset, or None without validation data).
    eval_batch_size: int = 0
    validation_batches: Any = None


@dataclass
class RunContext:
    """One Keras run: its config and folder, and what the steps before fit() made of them."""

    cfg: DictConfig
    run: RunFolder
    say: Say
    checkpointer: Checkpointer
    runtime: Runtime
    datasets: Datasets
    model: keras.Model
    recorder: RunRecorder
    # compile()'s arguments besides the optimizer, for the fine-tuning phase's recompile.
    compile_arguments: dict[str, Any] = field(default_factory=dict)
    callbacks: list[keras.callbacks.Callback] = field(default_factory=list)
    # experiment, seed, device, parameters, train_examples: the start of the run's metrics.
    base_metrics: dict[str, Any] = field(default_factory=dict)
