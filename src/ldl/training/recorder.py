"""The epoch recorder: the history row and metrics.json after every epoch; checkpoints by time and event.

A checkpoint (a `.keras` file plus the random-generator states) costs far more than a small network's
epoch: writing one after each of c6e1's 500 epochs was about 40 % of its run time. So checkpoints are
written

- when `trainer.checkpoint_seconds` have passed since the last one (0: after every epoch), and every
  `trainer.checkpoint_every` epochs if that is set;
- after the last epoch;
- when a NaN or infinite loss appears: the state after the last good epoch, taken from memory;
- when a fit() call ends (its last epoch, or early stopping): the model as the callbacks leave it
  (early stopping may have put the best epoch's weights back);
- on a stop request (SIGINT, SIGTERM, SIGHUP, a closed output pipe, the sweep's stop file:
  `training/stop_signals.py`): the state after the last completed epoch, then the run ends as
  interrupted.

Every checkpoint also holds the state of the run's callbacks (`training/callback_state.py`: early
stopping's counters and best weights, ...), taken after every callback has seen the epoch: the recorder
is the last callback of a run.

A resumed run is exact whichever checkpoint it starts from, because the training data's order is a
function of (seed, epoch) (`training/pipeline.py`). history.csv (written from the checkpointed history
plus the epochs after it) gets a row at every epoch's end: a resumed run rewrites it from its
checkpoint's history, repeats the epochs after the checkpoint and records them again.
"""

from __future__ import annotations

import contextlib
import csv
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import keras
from omegaconf import DictConfig

from ldl.runs.files import write_json
from ldl.runs.report import keras_logs_to_row, write_history
from ldl.runs.run_folder import RunFolder
from ldl.training import callback_state, stop_signals
from ldl.training.checkpoint import Checkpointer, CheckpointState
from ldl.training.snapshot import StateSnapshot

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
            # No defaults here: configs/trainer/default.yaml declares both (30 s, null).
            seconds=float(trainer.checkpoint_seconds),
            every_epochs=trainer.checkpoint_every,
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
    The recorder must be the run's last callback (`watch` is given the others), so that what it saves
    at an epoch's end includes what every other callback made of that epoch.
    """

    # What it keeps between epochs is the checkpoint it writes, which a resume starts from: nothing for
    # training/callback_state.py to save, nor to name at resume as starting afresh.
    stateless = True

    def __init__(
        self,
        run: RunFolder,
        checkpointer: Checkpointer,
        state: CheckpointState,
        epochs: int,
        policy: CheckpointPolicy,
        base_metrics: dict[str, Any],
    ) -> None:
        super().__init__()
        self.run = run
        self.checkpointer = checkpointer
        self.state = state
        self.epochs = epochs
        self.policy = policy
        self.base_metrics = base_metrics
        self.diverged_at: int | None = None
        self.holds_epoch: int | None = None
        self.snapshot: StateSnapshot | None = None
        self.callbacks: list[keras.callbacks.Callback] = []
        # The callbacks' states from the checkpoint a resumed run starts from, put back once.
        self._saved_callback_states = checkpointer.callback_states
        self._callback_states: callback_state.States = {}  # as of the snapshot
        self._history_columns: list[str] | None = None
        self._started = 0.0
        self._seconds_before = state.train_seconds
        self._checkpointed_epochs = state.epochs_completed  # a resumed run starts from it
        self._checkpointed_at = 0.0

    def watch(self, callbacks: list[keras.callbacks.Callback]) -> None:
        """The run's other callbacks, whose state every checkpoint holds."""
        self.callbacks = [c for c in callbacks if c is not self]

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = self._checkpointed_at = time.perf_counter()
        if self._saved_callback_states is not None:
            # After the other callbacks' own on_train_begin, which resets them.
            callback_state.restore(self.callbacks, self._saved_callback_states)
            self._saved_callback_states = None
        # Anew for every fit() call: transfer learning's second phase compiles a new optimizer.
        self.snapshot = StateSnapshot(self.model)
        self._save_snapshot()
        self._rewrite_history()

    def seconds(self) -> float:
        return self._seconds_before + time.perf_counter() - self._started

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if logs and not is_finite_logs({"loss": logs.get("loss", 0.0)}):
            self.diverged_at = len(self.state.history) + 1
            self.model.stop_training = True
        if stop_signals.requested():
            self.stop_at_last_completed_epoch()
            raise KeyboardInterrupt

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        if not is_finite_logs(logs):
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            self.stop_at_last_completed_epoch()
            return
        self.state.history.append(keras_logs_to_row(logs))
        self.state.epochs_completed = epoch + 1
        self.state.train_seconds = self.seconds()
        self._append_history()
        if any([listener(epoch, self.state.history[-1]) for listener in _epoch_listeners]):
            self.model.stop_training = True
        if self.holds_epoch is not None and self.holds_epoch != epoch:
            # An earlier epoch of a multi-epoch call: the model already holds a later state, and
            # metrics.json is refreshed at the call's last epoch.
            return
        # Early stopping decided to stop after this epoch: a resume must not train on.
        self.state.stop_training = bool(self.model.stop_training)
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
        self._save_snapshot()
        stopping = stop_signals.requested()
        due = self.policy.due(epoch + 1, time.perf_counter() - self._checkpointed_at)
        # The last epoch's checkpoint is written when fit() ends (on_train_end).
        if stopping or (due and epoch + 1 < self.epochs):
            self._checkpoint(capture=False)
        if stopping:
            raise KeyboardInterrupt

    def on_train_end(self, logs: dict | None = None) -> None:
        """fit() ended (its last epoch, or early stopping, which may have restored the best weights):
        checkpoint the model as the callbacks leave it, so a resume goes on from exactly here."""
        if self.diverged_at is not None:
            return
        self.state.fits_ended += 1
        self.state.stop_training = False
        self._callback_states = callback_state.capture(self.callbacks)
        self._checkpoint(capture=False)

    def stop_at_last_completed_epoch(self) -> None:
        """Give the model back the state after the last completed epoch and make sure a checkpoint
        holds it (a NaN loss, a stop request during an epoch or a report)."""
        if self.snapshot is None:  # training never began: the last checkpoint stands
            return
        self.snapshot.restore()
        if self.state.epochs_completed > self._checkpointed_epochs:
            self._checkpoint(capture=False)

    def _snapshot(self) -> StateSnapshot:
        if self.snapshot is None:
            raise RuntimeError("the recorder's on_train_begin was not called")
        return self.snapshot

    def _save_snapshot(self) -> None:
        self._snapshot().save()
        self._callback_states = callback_state.capture(self.callbacks)

    def _checkpoint(self, capture: bool = True) -> None:
        if capture:
            self._save_snapshot()
        self.checkpointer.save(self.model, self.state, self._callback_states)
        self._checkpointed_epochs = self.state.epochs_completed
        self._checkpointed_at = time.perf_counter()

    def _rewrite_history(self) -> None:
        """history.csv as the checkpoint knows it (a resumed run drops the epochs it repeats)."""
        if self.state.history:
            write_history(self.run.history_path, self.state.history)
            self._history_columns = ["epoch", *self.state.history[-1]]
        else:
            self.run.history_path.unlink(missing_ok=True)
            self._history_columns = None

    def _append_history(self) -> None:
        """One more row in history.csv; the whole file again when the columns change."""
        row = self.state.history[-1]
        columns = ["epoch", *row]
        if columns != self._history_columns:
            self._rewrite_history()
            return
        with self.run.history_path.open("a", newline="") as stream:
            csv.writer(stream).writerow([len(self.state.history), *row.values()])
