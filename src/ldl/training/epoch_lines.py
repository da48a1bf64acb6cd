"""One line per epoch, in the run's output.txt and, without a terminal, on standard output.

On a terminal Keras's progress bar shows the epoch as it goes; in a log file (a sweep, a batch job,
`ldl train ... > log`) Keras's own per-epoch output is two lines (`Epoch 3/20` and the metrics), so
ldl prints this compact line instead. output.txt always gets it, so the run folder records the
per-epoch numbers the run printed.
"""

from __future__ import annotations

import time
from typing import Any

import keras

from ldl.runs.run_folder import RunFolder


def format_epoch_line(epoch: int, epochs: int, seconds: float, logs: dict[str, Any]) -> str:
    """`epoch 3/20 - 2.1s - loss: 0.3494 - accuracy: 0.8957 - val_loss: 0.2180 - ...`."""
    parts = [f"epoch {epoch}/{epochs}", f"{seconds:.1f}s"]
    for key, value in logs.items():
        if isinstance(value, int | float) and key != "learning_rate":
            parts.append(f"{key}: {float(value):.4f}")
    return " - ".join(parts)


class EpochLines(keras.callbacks.Callback):
    """Write each finished epoch's line to output.txt, and print it when `echo` is set.

    It reads nothing but each epoch's logs, so the multi-epoch graph loop may tell it about epochs
    after the fact (`reads_epoch_logs_only`); the loop then sets `epoch_seconds` to its calls'
    seconds per epoch, since the epochs of one call are not timed one by one."""

    reads_epoch_logs_only = True
    # Nothing it keeps between epochs matters to a resumed run (training/callback_state.py).
    stateless = True

    def __init__(self, run: RunFolder, epochs: int, echo: bool) -> None:
        super().__init__()
        self.run = run
        self.epochs = epochs
        self.echo = echo
        self.epoch_seconds: float | None = None
        self._started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = self.epoch_seconds
        if seconds is None:
            seconds = time.perf_counter() - self._started
        line = format_epoch_line(epoch + 1, self.epochs, seconds, dict(logs or {}))
        if self.echo:
            print(line, flush=True)
        with self.run.log_path.open("a") as log:
            log.write(line + "\n")
