"""A base for callbacks that report on the model as it trains (sample translations, captions, text)."""

from __future__ import annotations

import keras

from ldl.training import stop_signals


class PeriodicWriter(keras.callbacks.Callback):
    """Calls `write(epoch)` after every `every_epochs` epochs (0: not during training) and once more
    when training ends, unless the last epoch was just written. Subclasses implement `write`."""

    def __init__(self, every_epochs: int) -> None:
        super().__init__()
        self.every_epochs = int(every_epochs)
        self.epochs_done = 0
        self.written_at = -1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epochs_done = epoch + 1
        if self.every_epochs > 0 and self.epochs_done % self.every_epochs == 0:
            self._write(self.epochs_done)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.written_at != self.epochs_done and self.epochs_done > 0:
            self._write(self.epochs_done)

    def _write(self, epoch: int) -> None:
        # Writing samples (translations, captions with attention figures) can take long: a stop
        # signal ends it at once, and the run keeps its last completed epoch (training/recipe.py).
        with stop_signals.immediate():
            self.write(epoch)
        self.written_at = epoch

    def checkpoint_state(self) -> dict[str, int]:
        """Saved with each checkpoint (training/callback_state.py)."""
        return {"epochs_done": self.epochs_done, "written_at": self.written_at}

    def restore_checkpoint_state(self, state: dict[str, int]) -> None:
        self.epochs_done = int(state["epochs_done"])
        self.written_at = int(state["written_at"])

    def write(self, epoch: int) -> None:
        raise NotImplementedError
