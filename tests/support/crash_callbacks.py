"""Callbacks that end a training run abruptly, plugged in through the real `callbacks` config dict."""

from __future__ import annotations

import keras

from ldl.training.periodic_writer import PeriodicWriter


class CrashAfterEpoch(keras.callbacks.Callback):
    """Raise after this process has completed epoch `epoch` (and checkpointed it), like a crash or a
    Ctrl-C: when the next epoch begins, so that every callback, the recorder included, has seen epoch
    `epoch`. A run resumed from epoch `epoch`'s checkpoint trains on.

    With `fresh_only`, only a run that started at epoch 1 crashes (a resumed one, from whatever
    checkpoint, trains on to the end)."""

    def __init__(self, epoch: int, interrupt: bool = False, fresh_only: bool = False) -> None:
        super().__init__()
        self.epoch = epoch
        self.interrupt = interrupt
        self.fresh_only = fresh_only
        self._first_epoch: int | None = None
        self._ended_here = 0  # epochs this process completed

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._first_epoch is None:
            self._first_epoch = epoch
        if self.fresh_only and self._first_epoch != 0:
            return
        if epoch == self.epoch and self._ended_here == self.epoch:
            if self.interrupt:
                raise KeyboardInterrupt
            raise RuntimeError("simulated crash")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._ended_here = epoch + 1


class SignalAfterEpoch(keras.callbacks.Callback):
    """Send this process `signal_name` (SIGTERM, SIGINT) after `epoch` epochs, as a scheduler would."""

    def __init__(self, epoch: int, signal_name: str = "SIGTERM") -> None:
        super().__init__()
        self.epoch = epoch
        self.signal_name = signal_name

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epoch:
            import os
            import signal

            os.kill(os.getpid(), getattr(signal, self.signal_name))


class PoisonWeightsAfterEpoch(keras.callbacks.Callback):
    """Fill the first kernel with NaN after `epoch` epochs: the next epoch's loss is NaN."""

    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epoch:
            kernel = self.model.trainable_variables[0]
            kernel.assign(keras.ops.full(kernel.shape, float("nan")))


class SlowReport(PeriodicWriter):
    """A report at the end of epoch `epoch` that takes minutes (as attention figures can): it says it
    has started in `marker`, then sleeps."""

    def __init__(self, epoch: int, marker: str) -> None:
        super().__init__(every_epochs=epoch)
        self.marker = marker

    def write(self, epoch: int) -> None:
        import pathlib
        import time

        pathlib.Path(self.marker).write_text(str(epoch))
        time.sleep(600)


class FillDiskAfterEpoch(keras.callbacks.Callback):
    """Fill the file system of `folder` (a file `filler` in it) after `epoch` epochs of a run that
    started at epoch 1, so the run's next write meets a real full disk; a test frees it again by
    deleting the filler. Only once: the file `marker` (elsewhere) records that it happened."""

    def __init__(self, epoch: int, folder: str, marker: str) -> None:
        super().__init__()
        self.epoch = epoch
        self.folder = folder
        self.marker = marker
        self._first_epoch: int | None = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self._first_epoch is None:
            self._first_epoch = epoch

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        import contextlib
        import os

        if self._first_epoch != 0 or epoch + 1 != self.epoch or os.path.exists(self.marker):
            return
        open(self.marker, "w").close()
        with (
            contextlib.suppress(OSError),
            open(os.path.join(self.folder, "filler"), "wb", buffering=0) as filler,
        ):
            while True:
                filler.write(b"\0" * 65536)
