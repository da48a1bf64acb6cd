"""SIGTERM and SIGINT as requests to stop training at the next safe point.

Schedulers (SLURM, Kubernetes, most batch systems) send SIGTERM some seconds before they kill a job,
and Ctrl-C sends SIGINT. Python's defaults kill the process at once (SIGTERM) or raise
KeyboardInterrupt wherever the program happens to be, possibly halfway through a checkpoint (SIGINT).
While training, ldl records the request instead; the epoch recorder (`training/recorder.py`) then puts
back the state after the last completed epoch, writes it as a checkpoint and ends the run as
interrupted, within one call into the graph. A second signal of the same kind gets the default
behaviour, so a second Ctrl-C still stops at once.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _or_default(handler: Any) -> Any:
    """A handler to reinstall; None means one installed outside Python, which cannot be restored."""
    return signal.SIG_DFL if handler is None else handler


class StopRequests:
    """A context manager that turns SIGTERM/SIGINT into `requested` while it is active.

    Signal handlers can only be installed from the main thread; elsewhere (a thread-pool launcher)
    the signals keep their default behaviour and `requested` stays False.
    """

    def __init__(self) -> None:
        self.signal_number: int | None = None
        self._previous: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return self.signal_number is not None

    def _handle(self, number: int, frame: FrameType | None) -> None:
        self.signal_number = number
        # The next signal of this kind is not deferred.
        signal.signal(number, _or_default(self._previous.get(number)))

    def __enter__(self) -> StopRequests:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for number, previous in self._previous.items():
            signal.signal(number, _or_default(previous))
        self._previous.clear()
