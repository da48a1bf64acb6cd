"""One writer per folder: a lock file holding the owner's process id and host.

`ldl train` takes the lock of its run folder (and `ldl train -m` the lock of its sweep folder) before it
writes anything there, and gives it back when it ends, however it ends. A second writer is refused with
one line naming the owner. A lock whose process is gone (killed with -9, a crashed machine) is stale: on
the same host that is checked and the lock taken over; a lock taken on another host cannot be checked
from here, so the message says which file to delete once that process is known to be gone.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from ldl.errors import RunFolderError

LOCK_FILE = "ldl.lock"


class FolderBusyError(RunFolderError):
    """Another live process is writing the folder."""


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this host (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: no process has so large an id
        return False
    except PermissionError:  # it exists but belongs to someone else
        return True
    try:  # Linux: a killed child that was not yet reaped is a zombie, not a writer
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_owner(folder: Path | str) -> dict | None:
    """The lock's owner ({"pid", "host", "since"}), or None when the folder is not locked.

    An unreadable lock file (truncated by a crash while it was written), or one whose process id is
    not a whole number (no ldl wrote it), counts as a stale lock."""
    path = Path(folder) / LOCK_FILE
    stale = {"pid": -1, "host": socket.gethostname(), "since": 0.0}
    try:
        owner = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return stale
    if not isinstance(owner, dict):
        return stale
    pid, host, since = owner.get("pid"), owner.get("host"), owner.get("since")
    if isinstance(pid, bool) or not isinstance(pid, int) or not isinstance(host, str):
        return stale
    if isinstance(since, bool) or not isinstance(since, int | float):
        since = 0.0
    return {**owner, "since": since}


def owner_is_alive(owner: dict) -> bool:
    """A lock held by a live process; a lock from another host is taken to be alive."""
    if owner.get("host") != socket.gethostname():
        return True
    return process_alive(owner.get("pid", -1))


def describe_owner(owner: dict) -> str:
    since = owner.get("since")
    try:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else "?"
    except (OverflowError, ValueError, OSError):  # a time no clock can show
        started = "?"
    return f"process {owner.get('pid')} on host {owner.get('host')} (since {started})"


class FolderLock:
    """`with FolderLock(folder, what="run folder"):` holds the folder's lock file for the block."""

    def __init__(self, folder: Path | str, what: str = "run folder") -> None:
        self.folder = Path(folder)
        self.what = what
        self.path = self.folder / LOCK_FILE
        self.held = False

    def acquire(self) -> None:
        record = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        )
        for _ in range(3):  # a stale lock is removed and the exclusive create retried
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = read_owner(self.folder)
                if owner is None:
                    continue  # released between our attempt and the read
                if owner_is_alive(owner):
                    raise FolderBusyError(self._busy_message(owner)) from None
                self.path.unlink(missing_ok=True)  # stale: its process is gone
                continue
            with os.fdopen(descriptor, "w") as stream:
                stream.write(record)
            self.held = True
            return
        raise FolderBusyError(
            f"The {self.what} {self.folder} is locked ({self.path}) and the lock could not be taken."
        )

    def _busy_message(self, owner: dict) -> str:
        message = (
            f"The {self.what} {self.folder} is being written by {describe_owner(owner)}; nothing "
            "was changed. Wait for it to finish (or stop it), then run the command again."
        )
        if owner.get("host") != socket.gethostname():
            message += (
                f" If that process is gone, delete {self.path} (it is on another host, so ldl cannot "
                "check)."
            )
        return message

    def release(self) -> None:
        if self.held:
            owner = read_owner(self.folder)
            if owner is not None and owner.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self.held = False

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
