"""The epoch recorder: the history row and metrics.json after every epoch; checkpoints by time and event.

A checkpoint (a `.keras` file plus the random-generator states) costs far more than a small network's
epoch: writing one after each of c6e1's 500 epochs was about 40 % of its run time. So checkpoints are
written

- when `trainer.checkpoint_seconds` have passed since the last one (0: after every epoch), and every
  `trainer.checkpoint_every` epochs if that is set;
- after the last epoch;
- when a NaN or infinite loss appears: the state after the last good epoch, taken from memory;
- on SIGTERM or SIGINT (`training/stop_signals.py`): the state after the last completed epoch, then
  the run ends as interrupted.

A resumed run is exact whichever checkpoint it starts from, because the training data's order is a
function of (seed, epoch) (`training/pipeline.py`). history.csv (written from the checkpointed history
plus the epochs after it) still has every epoch: a resumed run repeats the epochs after its
checkpoint and records them again.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import keras
from omegaconf import DictConfig

from ldl.runs.files import write_json
from ldl.runs.report import keras_logs_to_row
from ldl.runs.run_folder import RunFolder
from ldl.training.checkpoint import Checkpointer, CheckpointState
from ldl.training.snapshot import StateSnapshot
from ldl.training.stop_signals import StopRequests

# Told after every completed epoch (its index and history row); one that returns True ends training
# after that epoch, as early stopping would (an Optuna trial its pruner stops: ldl.sweeps.optuna_study).
EpochListener = Callable[[int, dict[str, float]], bool]
_epoch_listeners: list[EpochListener] = []


@contextlib.contextmanager
def listening_to_epochs(listener: EpochListener) -> Iterator[None]:
    """Tell `listener` about every epoch the runs trained inside this block complete."""
    _epoch_listeners.append(listener)
    try:
        yield
    finally:
        _epoch_listeners.remove(listener)


def is_finite_logs(logs: dict[str, Any]) -> bool:
    return all(math.isfinite(float(v)) for v in logs.values() if isinstance(v, int | float))


@dataclass(frozen=True)
class CheckpointPolicy:
    """When a completed epoch is also written as a checkpoint (besides the last epoch and events)."""

    seconds: float  # at least this long after the previous checkpoint; 0 = after every epoch
    every_epochs: int | None = None  # also every N epochs

    @classmethod
    def from_trainer(cls, trainer: DictConfig) -> CheckpointPolicy:
        return cls(
            seconds=float(trainer.get("checkpoint_seconds", 0.0)),
            every_epochs=trainer.get("checkpoint_every"),
        )

    def due(self, epochs_completed: int, seconds_since_checkpoint: float) -> bool:
        if self.every_epochs and epochs_completed % self.every_epochs == 0:
            return True
        return seconds_since_checkpoint >= self.seconds


class RunRecorder(keras.callbacks.Callback):
    """After every epoch: append to the history, refresh metrics.json, checkpoint when due.

    A NaN or infinite loss stops training; the model gets back the state of the last good epoch, which
    becomes the checkpoint. `holds_epoch` serves the multi-epoch graph loop (`training/graph_loop.py`),
    which reports several epochs after one call: while it is set, only that epoch's end finds the model
    in the state it describes, so only there may a checkpoint be written or a stop request be served.
    """

    def __init__(
        self,
        run: RunFolder,
        checkpointer: Checkpointer,
        state: CheckpointState,
        epochs: int,
        policy: CheckpointPolicy,
        base_metrics: dict[str, Any],
        stop_requests: StopRequests | None = None,
    ) -> None:
        super().__init__()
        self.run = run
        self.checkpointer = checkpointer
        self.state = state
        self.epochs = epochs
        self.policy = policy
        self.base_metrics = base_metrics
        self.stop_requests = stop_requests or StopRequests()
        self.diverged_at: int | None = None
        self.holds_epoch: int | None = None
        self.snapshot: StateSnapshot | None = None
        self._started = 0.0
        self._seconds_before = state.train_seconds
        self._checkpointed_epochs = (
            state.epochs_completed
        )  # a resumed run starts from its checkpoint
        self._checkpointed_at = 0.0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = self._checkpointed_at = time.perf_counter()
        # Anew for every fit() call: transfer learning's second phase compiles a new optimizer.
        self.snapshot = StateSnapshot(self.model)
        self.snapshot.save()

    def seconds(self) -> float:
        return self._seconds_before + time.perf_counter() - self._started

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if logs and not is_finite_logs({"loss": logs.get("loss", 0.0)}):
            self.diverged_at = len(self.state.history) + 1
            self.model.stop_training = True
        if self.stop_requests.requested:
            self._stop_at_last_completed_epoch()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        if not is_finite_logs(logs):
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            self._stop_at_last_completed_epoch(interrupt=False)
            return
        self.state.history.append(keras_logs_to_row(logs))
        self.state.epochs_completed = epoch + 1
        self.state.train_seconds = self.seconds()
        if any([listener(epoch, self.state.history[-1]) for listener in _epoch_listeners]):
            self.model.stop_training = True
        if self.holds_epoch is not None and self.holds_epoch != epoch:
            # An earlier epoch of a multi-epoch call: the model already holds a later state, and
            # metrics.json is refreshed at the call's last epoch.
            return
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
        last = epoch + 1 == self.epochs
        due = self.policy.due(epoch + 1, time.perf_counter() - self._checkpointed_at)
        if last or due or self.stop_requests.requested:
            self._checkpoint()
        else:
            self._snapshot().save()
        if self.stop_requests.requested:
            raise KeyboardInterrupt

    def on_train_end(self, logs: dict | None = None) -> None:
        # Training ended early (e.g. early stopping) after epochs that no checkpoint holds yet.
        if self.diverged_at is None and self.state.epochs_completed > self._checkpointed_epochs:
            self._checkpoint()

    def _snapshot(self) -> StateSnapshot:
        if self.snapshot is None:
            raise RuntimeError("the recorder's on_train_begin was not called")
        return self.snapshot

    def _checkpoint(self) -> None:
        self.checkpointer.save(self.model, self.state)
        self._checkpointed_epochs = self.state.epochs_completed
        self._checkpointed_at = time.perf_counter()
        self._snapshot().save()

    def _stop_at_last_completed_epoch(self, interrupt: bool = True) -> None:
        """Give the model back the state after the last completed epoch and make sure a checkpoint
        holds it; then, for a stop request, end the run as interrupted."""
        self._snapshot().restore()
        if self.state.epochs_completed > self._checkpointed_epochs:
            self._checkpoint()
        if interrupt:
            raise KeyboardInterrupt
