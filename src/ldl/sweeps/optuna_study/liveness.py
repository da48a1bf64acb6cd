"""Who is working on a shared Optuna study, and what to do with trials whose process died.

Every process that runs trials of a study marks each trial with its worker name (host and process id)
and records a heartbeat for it in the study's storage while the trial's job runs. A trial stays
`RUNNING` in the storage when its process is killed; it is taken back when

- its worker ran on this machine and that process no longer exists (found at once), or
- its heartbeat is older than the storage's grace period (a process on another machine).

Taking a trial back marks it failed and enqueues a retry with the same parameters (Optuna's
`RetryFailedTrialCallback`), which remembers the first attempt's number: the retry runs in the first
attempt's run folder, so its job resumes at the fold and epoch where the killed one stopped.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The system attribute that names the process running a trial: "host:pid".
WORKER_ATTRIBUTE = "ldl_worker"
# RetryFailedTrialCallback's attribute: the number of the first attempt of a retried trial.
RETRY_OF_ATTRIBUTE = "failed_trial"


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def first_attempt(trial: Any) -> int:
    """The number of the first attempt of `trial` (its own number unless it is a retry)."""
    return int(trial.system_attrs.get(RETRY_OF_ATTRIBUTE, trial.number))


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


def take_back_dead_trials(study: Any) -> list[int]:
    """Fail (and enqueue a retry of) every running trial whose process is gone; their numbers."""
    import optuna
    from optuna.trial import TrialState

    storage = study._storage  # the storage the study caches; writes must go through it
    taken = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.system_attrs.get(WORKER_ATTRIBUTE)
        if worker is None or not _process_is_gone(str(worker)):
            continue
        if storage.set_trial_state(trial._trial_id, TrialState.FAIL):
            callback = storage.get_failed_trial_callback()
            if callback is not None:
                callback(study, storage.get_trial(trial._trial_id))
            taken.append(trial.number)
    # Workers on other machines: their heartbeats tell (the storage's grace period).
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    optuna.storages.fail_stale_trials(study)
    after = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    return taken + sorted(after - before)


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
        self.storage.record_heartbeat(trial_id)

    def remove(self, trial_id: int) -> None:
        with self._guard:
            self.trial_ids.discard(trial_id)

    def _beat(self) -> None:
        while not self._stopped.wait(self.interval):
            with self._guard:
                trial_ids = list(self.trial_ids)
            for trial_id in trial_ids:
                with contextlib.suppress(Exception):  # a busy database misses one beat, not the job
                    self.storage.record_heartbeat(trial_id)

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=self.interval + 1)
