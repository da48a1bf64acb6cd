"""Stopping a run or a whole sweep cleanly: SIGINT, SIGTERM, SIGHUP and a closed output pipe.

Schedulers (SLURM, Kubernetes, most batch systems) send SIGTERM some seconds before they kill a job,
Ctrl-C sends SIGINT to every process of the terminal's foreground group, closing the terminal sends
SIGHUP, and `ldl train ... | head` closes ldl's standard output. Python's defaults kill the process at
once (SIGTERM, SIGHUP), raise KeyboardInterrupt wherever the program happens to be (SIGINT) or fail
the next print (a closed pipe), which leaves a run saying `running` with its last epochs lost.

Only the `ldl` command installs ldl's handlers (`install`), in its own process and in the worker
processes of a sweep's launcher; importing ldl or calling `train()` from Python or a test leaves every
signal as it was. Once installed:

- The first signal is a request to stop. Inside a `deferred()` block (the epochs of a training run, a
  sweep waiting for its worker processes) it is only recorded: the run stops at its next epoch end,
  checkpointed, and ends as `interrupted` (`training/recorder.py`). Anywhere else (loading data,
  extracting features, evaluating, writing reports) it raises KeyboardInterrupt at once, so such
  phases stop within moments too.
- In a sweep's main process the request is also written to the sweep's stop file (`LDL_STOP_FILE`,
  set by `ldl train -m` for every job of the sweep, in whatever process it runs), so jobs in worker
  processes that saw no signal themselves (SIGTERM sent to the sweep's main process alone, Ray
  workers) stop at their next epoch end as well, and jobs that have not started yet do not start. A
  signal to one job's worker process stops that job alone.
- A second SIGINT, SIGTERM or SIGHUP stops at once: the last checkpoint stands.
- A closed standard output or error (a broken pipe) stops like a first signal, and what the run still
  prints goes nowhere instead of failing it.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any, Literal, TextIO, cast

# The variable naming the file whose existence asks every job of a sweep to stop.
STOP_FILE_VARIABLE = "LDL_STOP_FILE"
# The variable that tells a sweep's worker processes to install the handlers too (set by `install`).
HANDLERS_VARIABLE = "LDL_STOP_HANDLERS"

FILE_POLL_SECONDS = 0.2

Mode = Literal["immediate", "deferred"]

_SIGNAL_NAMES = {
    signal.SIGINT: "Ctrl-C (SIGINT)",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP (the terminal closed)",
}
BROKEN_PIPE = "a closed output pipe"


class _State:
    def __init__(self) -> None:
        self.installed = False
        self.reason: str | None = None  # why a stop was requested in this process
        self.signals = 0  # stop signals received (a second one stops at once)
        self.owns_stop_file = False  # the sweep's main process: its requests stop every job
        self.file_seen = False
        self.file_checked_at = -1.0
        self.modes: list[Mode] = []
        self.previous: dict[int, Any] = {}


_state = _State()


def install() -> None:
    """Install ldl's stop handlers in this process (the `ldl` command and its sweep workers only).

    Signal handlers can only be installed from the main thread; elsewhere (a thread-pool launcher's
    worker) signals keep their behaviour and a stop still arrives through the sweep's stop file."""
    if _state.installed or threading.current_thread() is not threading.main_thread():
        return
    for number in _SIGNAL_NAMES:
        _state.previous[number] = signal.signal(number, _handle)
    # Python ignores SIGPIPE and raises BrokenPipeError from the write; the guarded streams turn that
    # into a stop request.
    sys.stdout = _guarded(sys.stdout)
    sys.stderr = _guarded(sys.stderr)
    _state.installed = True
    os.environ[HANDLERS_VARIABLE] = "1"  # worker processes started from here install them too


def install_in_worker() -> None:
    """In a sweep job: install the handlers if this process belongs to an `ldl` command (a launcher's
    worker process inherits the variable; a test or notebook calling ldl does not have it)."""
    if os.environ.get(HANDLERS_VARIABLE) == "1":
        install()


def installed() -> bool:
    return _state.installed


def requested() -> bool:
    """Whether this process was asked to stop, or its sweep was (the stop file exists)."""
    if _state.reason is not None or _state.file_seen:
        return True
    stop_file = os.environ.get(STOP_FILE_VARIABLE)
    if not stop_file:
        return False
    # Polled after every batch: the file system is asked at most every FILE_POLL_SECONDS.
    now = time.monotonic()
    if now - _state.file_checked_at >= FILE_POLL_SECONDS:
        _state.file_checked_at = now
        _state.file_seen = Path(stop_file).exists()
    return _state.file_seen


def reason() -> str:
    """What asked to stop, in words (`Ctrl-C (SIGINT)`, `SIGTERM`, ...)."""
    if _state.reason is not None:
        return _state.reason
    stop_file = os.environ.get(STOP_FILE_VARIABLE)
    if stop_file and Path(stop_file).exists():
        with contextlib.suppress(OSError):
            written = Path(stop_file).read_text().strip()
            if written:
                return written
        return "a stop request for the whole sweep"
    return "no stop request"


def request(why: str) -> None:
    """Record a request to stop (and pass it on to the sweep's other jobs)."""
    if _state.reason is None:
        _state.reason = why
        _write_stop_file(why)


def watch_sweep(stop_file: Path) -> None:
    """Make `stop_file` the sweep's stop file for this process and every job it starts; a stale one
    (left by an earlier, interrupted run of the same command) is removed."""
    Path(stop_file).unlink(missing_ok=True)
    os.environ[STOP_FILE_VARIABLE] = str(stop_file)
    _state.owns_stop_file = True


def forget_sweep() -> None:
    """The sweep is over: remove its stop file, so the same command continues it next time."""
    stop_file = os.environ.pop(STOP_FILE_VARIABLE, None)
    if stop_file and _state.owns_stop_file:
        Path(stop_file).unlink(missing_ok=True)
    _state.owns_stop_file = False


def at_once() -> bool:
    """Whether a second signal asked to stop at once (no more checkpoint is written)."""
    return _state.signals > 1


def reset() -> None:
    """Forget a recorded request (a new command in the same process, e.g. a test's)."""
    _state.reason = None
    _state.signals = 0
    _state.file_seen = False
    _state.file_checked_at = -1.0


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """A block in which a first signal is only recorded; the code in it polls `requested()`."""
    with _mode("deferred"):
        yield


@contextlib.contextmanager
def immediate() -> Iterator[None]:
    """A block inside a deferred one (a long report written at an epoch's end) in which a first
    signal raises KeyboardInterrupt at once."""
    if requested() and _state.installed:
        raise KeyboardInterrupt
    with _mode("immediate"):
        yield


@contextlib.contextmanager
def _mode(mode: Mode) -> Iterator[None]:
    _state.modes.append(mode)
    try:
        yield
    finally:
        _state.modes.pop()


def _handle(number: int, frame: FrameType | None) -> None:
    _state.signals += 1
    first = _state.signals == 1
    request(_SIGNAL_NAMES.get(signal.Signals(number), f"signal {number}"))
    deferring = bool(_state.modes) and _state.modes[-1] == "deferred"
    if not first or not deferring:
        raise KeyboardInterrupt


def _write_stop_file(why: str) -> None:
    """Pass the sweep's main process's request on to every job (a job's own signal stops only it)."""
    stop_file = os.environ.get(STOP_FILE_VARIABLE)
    if not stop_file or not _state.owns_stop_file:
        return
    # A sweep folder on a full or read-only disk: the jobs of this process still stop.
    with contextlib.suppress(OSError):
        Path(stop_file).write_text(why + "\n")


def _guarded(stream: TextIO) -> TextIO:
    guarded = stream if isinstance(stream, _PipeGuard) else _PipeGuard(stream)
    return cast(TextIO, guarded)


class _PipeGuard(io.TextIOBase):
    """A text stream that, when its reader has gone (EPIPE), requests a stop and then discards output."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed_pipe = False

    def write(self, text: str) -> int:
        if not self.closed_pipe:
            try:
                self.stream.write(text)
            except BrokenPipeError:
                self._reader_gone()
        return len(text)

    def flush(self) -> None:
        if not self.closed_pipe:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._reader_gone()

    def _reader_gone(self) -> None:
        self.closed_pipe = True
        request(BROKEN_PIPE)
        # Whatever Python still holds for the pipe would fail again at exit: point the descriptor at
        # /dev/null instead.
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    def writable(self) -> bool:
        return True
