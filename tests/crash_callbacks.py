"""Callbacks that end a training run abruptly, plugged in through the real `callbacks` config dict."""

from __future__ import annotations

import keras


class CrashAfterEpoch(keras.callbacks.Callback):
    """Raise after `epoch` epochs have completed (and been checkpointed), like a crash or a Ctrl-C."""

    def __init__(self, epoch: int, interrupt: bool = False) -> None:
        super().__init__()
        self.epoch = epoch
        self.interrupt = interrupt

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch + 1 == self.epoch:
            if self.interrupt:
                raise KeyboardInterrupt
            raise RuntimeError("simulated crash")
