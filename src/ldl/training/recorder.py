"""The epoch recorder: after every epoch, the history row, a fresh metrics.json and the checkpoint."""

from __future__ import annotations

import math
import time
from typing import Any

import keras

from ldl.runs.files import write_json
from ldl.runs.report import keras_logs_to_row
from ldl.runs.run_folder import RunFolder
from ldl.training.checkpoint import Checkpointer, CheckpointState


def is_finite_logs(logs: dict[str, Any]) -> bool:
    return all(math.isfinite(float(v)) for v in logs.values() if isinstance(v, int | float))


class RunRecorder(keras.callbacks.Callback):
    """After every epoch: append to the history, refresh metrics.json, and checkpoint.

    A NaN or infinite loss stops training here (before a checkpoint could store the diverged weights).
    """

    def __init__(
        self,
        run: RunFolder,
        checkpointer: Checkpointer,
        state: CheckpointState,
        epochs: int,
        checkpoint_every: int,
        base_metrics: dict[str, Any],
    ) -> None:
        super().__init__()
        self.run = run
        self.checkpointer = checkpointer
        self.state = state
        self.epochs = epochs
        self.checkpoint_every = checkpoint_every
        self.base_metrics = base_metrics
        self.diverged_at: int | None = None
        self._started = 0.0
        self._seconds_before = state.train_seconds

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def seconds(self) -> float:
        return self._seconds_before + time.perf_counter() - self._started

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if logs and not is_finite_logs({"loss": logs.get("loss", 0.0)}):
            self.diverged_at = len(self.state.history) + 1
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        if not is_finite_logs(logs):
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            return
        self.state.history.append(keras_logs_to_row(logs))
        self.state.epochs_completed = epoch + 1
        self.state.train_seconds = self.seconds()
        write_json(
            self.run.metrics_path,
            {
                **self.base_metrics,
                "status": "running",
                "epochs_completed": epoch + 1,
                "train_seconds": self.state.train_seconds,
                **self.state.history[-1],
            },
        )
        if (epoch + 1) % self.checkpoint_every == 0 or epoch + 1 == self.epochs:
            self.checkpointer.save(self.model, self.state)
