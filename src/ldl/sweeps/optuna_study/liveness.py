"""Who is working on a shared Optuna study, and what to do with trials whose process died.

Every process that runs trials of a study marks each trial with its worker name (host and process id)
and records a heartbeat for it in the study's storage while the trial's job runs. A trial stays
`RUNNING` in the storage when its process is killed; it is taken back when

- its worker ran on this machine and that process no longer exists (found at once), or
- its heartbeat (a system attribute every `heartbeat_interval` seconds, so that SQLite, a journal
  file and a database server all carry it) is older than `grace_period` (a process on another
  machine).

Taking a trial back marks it failed and enqueues a retry with the same parameters (Optuna's
`RetryHeartbeatStaleTrialCallback`), which remembers the first attempt's number: the retry runs in the first
attempt's run folder, so its job resumes at the fold and epoch where the killed one stopped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ldl.sweeps.optuna_study.pruning import PRUNED_AT_ATTRIBUTE

# The system attribute that names the process running a trial: "host:pid".
WORKER_ATTRIBUTE = "ldl_worker"
# RetryHeartbeatStaleTrialCallback's attribute: the number of the first attempt of a retried trial.
RETRY_OF_ATTRIBUTE = "failed_trial"
# The system attribute with the time (seconds since the epoch) of a running trial's last heartbeat.
HEARTBEAT_ATTRIBUTE = "ldl_heartbeat"
# Set on a trial whose job a stop signal interrupted (its retry resumes it; it failed at nothing).
INTERRUPTED_ATTRIBUTE = "ldl_interrupted"


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def first_attempt(trial: Any) -> int:
    """The number of the first attempt of `trial` (its own number unless it is a retry); `trial` is
    a FrozenTrial or a running Trial (whose system attributes only its storage holds)."""
    if hasattr(trial, "system_attrs"):
        attributes = trial.system_attrs
    else:
        attributes = trial.study._storage.get_trial_system_attrs(trial._trial_id)
    return int(attributes.get(RETRY_OF_ATTRIBUTE, trial.number))


def _process_is_gone(worker: str) -> bool:
    """True when `worker` ran on this machine and its process no longer exists."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, owned by another user
        return False
    return False


def _is_stale(trial: Any, grace_period: float) -> bool:
    beat = trial.system_attrs.get(HEARTBEAT_ATTRIBUTE)
    return isinstance(beat, int | float) and time.time() - beat > grace_period


def take_back_dead_trials(study: Any, grace_period: float, max_retries: int) -> list[int]:
    """Fail (and enqueue a retry of) every running trial whose process is gone or silent; their
    numbers."""
    import optuna
    from optuna.trial import TrialState

    storage = study._storage  # the storage the study caches; writes must go through it
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retries)
    taken = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.system_attrs.get(WORKER_ATTRIBUTE)
        gone = worker is not None and _process_is_gone(str(worker))
        if not gone and not _is_stale(trial, grace_period):
            continue
        if PRUNED_AT_ATTRIBUTE in trial.user_attrs:  # its job was pruned, then its sweeper killed
            storage.set_trial_state_values(trial._trial_id, TrialState.PRUNED)
            continue
        if storage.set_trial_state_values(trial._trial_id, TrialState.FAIL):
            retry(study, storage.get_trial(trial._trial_id))
            taken.append(trial.number)
    return taken


@contextlib.contextmanager
def study_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on the sweep folder, so that counting the study's trials and asking for new
    ones is one step for all processes sharing the folder (on one machine or on a shared file
    system that supports POSIX locks)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".optuna_study.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Heartbeat:
    """Records a heartbeat for each trial this process is running, every `interval` seconds."""

    def __init__(self, storage: Any, interval: float) -> None:
        self.storage = storage
        self.interval = interval
        self.trial_ids: set[int] = set()
        self._guard = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="optuna-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def add(self, trial_id: int) -> None:
        with self._guard:
            self.trial_ids.add(trial_id)
        self._record(trial_id)

    def _record(self, trial_id: int) -> None:
        self.storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTRIBUTE, time.time())

    def remove(self, trial_id: int) -> None:
        with self._guard:
            self.trial_ids.discard(trial_id)

    def _beat(self) -> None:
        while not self._stopped.wait(self.interval):
            with self._guard:
                trial_ids = list(self.trial_ids)
            for trial_id in trial_ids:
                # A busy database misses one beat, not the job; a finished trial takes none.
                with contextlib.suppress(Exception):
                    self._record(trial_id)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.interval + 1)
