"""Resumable checkpoints: a crashed or killed run continues from its newest intact checkpoint.

A checkpoint is the full model (weights and optimizer state, `.keras`), the states of the layers' random
generators (Keras does not save them, and dropout masks depend on them), the callbacks' states (early
stopping's counters and best weights: `training/callback_state.py`) and a state file saying which epoch
it holds. The newest checkpoint's state is `state.json`, the one before it `previous.json`; the
previous checkpoint is deleted only once the next one is completely written. The files of a checkpoint
are written under temporary names and renamed, and its state file is renamed into place last, so a crash
at any moment leaves at least one complete checkpoint.

A checkpoint damaged later (a truncated or emptied file) is skipped: the run resumes from the previous
one, and when none is intact it stops with a message naming the damaged files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from ldl.errors import RunFolderError
from ldl.runs.files import atomic_write_text
from ldl.runs.run_folder import CHECKPOINT_STATE_FILES as STATE_FILES
from ldl.targets import import_defining_module
from ldl.training import callback_state


@dataclass
class CheckpointState:
    """What a resumed run needs besides the model: where it stopped and what it has seen so far."""

    epochs_completed: int
    seed: int
    train_seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    model_file: str = ""
    # How many fit() calls had ended (transfer learning makes two); the checkpoint written when one
    # ends holds the model as its callbacks left it (early stopping's best weights).
    fits_ended: int = 0
    # A callback (early stopping) decided after this epoch that training stops here.
    stop_training: bool = False


def _random_state_variables(model: keras.Model) -> list[Any]:
    return [v for v in model.variables if "seed_generator" in v.path]


class Checkpointer:
    """Writes and reads the checkpoints of one run folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        # What restore() had to skip (damaged newer checkpoints), for the run's output.
        self.skipped: list[str] = []
        # The callbacks' states of the checkpoint restore() loaded (None before, or without one).
        self.callback_states: callback_state.States | None = None

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILES[0]

    def _read_state(self, path: Path) -> CheckpointState:
        """The state in `path`; ValueError (with the reason) if it is damaged."""
        text = path.read_text(errors="replace")
        if not text.strip():
            raise ValueError("it is empty")
        try:
            state = CheckpointState(**json.loads(text))
        except (json.JSONDecodeError, TypeError) as error:
            raise ValueError(f"it is not a checkpoint state ({error})") from None
        if not state.model_file or Path(state.model_file).name != state.model_file:
            raise ValueError("it names no model file")
        return state

    def _states(self) -> list[tuple[Path, CheckpointState | str]]:
        """Every state file there is, newest first, with its state or why it cannot be read."""
        found: list[tuple[Path, CheckpointState | str]] = []
        for name in STATE_FILES:
            path = self.directory / name
            if path.exists():
                try:
                    found.append((path, self._read_state(path)))
                except (OSError, ValueError) as error:
                    found.append((path, str(error)))
        return found

    def exists(self) -> bool:
        return any((self.directory / name).exists() for name in STATE_FILES)

    def load_state(self) -> CheckpointState | None:
        """The newest readable checkpoint state (None when there is none)."""
        return next((s for _, s in self._states() if isinstance(s, CheckpointState)), None)

    def require_state(self) -> CheckpointState:
        """The newest readable checkpoint state; RunFolderError naming the damaged state files when
        there are state files but none can be read (a resume must never silently start over)."""
        states = self._states()
        for _, state in states:
            if isinstance(state, CheckpointState):
                return state
        raise self._none_intact([f"{path} is damaged ({state})" for path, state in states])

    def _none_intact(self, problems: list[str]) -> RunFolderError:
        if not problems:
            return RunFolderError(f"{self.directory} holds no checkpoint to resume from.")
        return RunFolderError(
            f"No intact checkpoint to resume from in {self.directory}: {'; '.join(problems)}. "
            "Delete the checkpoint folder to train the run again from the start (its metrics.json "
            "and history are kept until then), or restore the files from a copy."
        )

    def save(
        self,
        model: keras.Model,
        state: CheckpointState,
        callback_states: callback_state.States | None = None,
    ) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # The checkpoint written when fit() ends has a name of its own: the one of the same epoch,
        # written just before, stays intact until it is complete.
        stem = f"epoch-{state.epochs_completed:05d}" + (
            f"-end{state.fits_ended}" if state.fits_ended else ""
        )
        model_path = self.directory / f"{stem}.keras"
        partial = self.directory / f"{stem}.partial.keras"
        model.save(partial)
        os.replace(partial, model_path)
        random_states: dict[str, Any] = {
            f"state_{i}": np.asarray(v.numpy())
            for i, v in enumerate(_random_state_variables(model))
        }
        partial_random = self.directory / f"{stem}.random.partial.npz"
        np.savez(partial_random, **random_states)
        os.replace(partial_random, self.directory / f"{stem}.random.npz")
        partial_callbacks = self.directory / f"{stem}.callbacks.partial.npz"
        callback_state.save(partial_callbacks, callback_states or {})
        os.replace(partial_callbacks, self.directory / f"{stem}.callbacks.npz")
        state.model_file = model_path.name
        newest = self.directory / STATE_FILES[0]
        if newest.exists():
            current = dict(self._states()).get(newest)
            if isinstance(current, CheckpointState) and current.model_file != model_path.name:
                os.replace(newest, self.directory / STATE_FILES[1])  # it becomes the previous one
        atomic_write_text(newest, json.dumps(asdict(state), indent=1))
        self._remove_unreferenced()

    def _remove_unreferenced(self) -> None:
        """Delete the files of checkpoints neither state file names (older ones, partial writes)."""
        kept = {
            s.model_file.removesuffix(".keras")
            for _, s in self._states()
            if isinstance(s, CheckpointState)
        }
        for path in self.directory.glob("epoch-*"):
            if path.name.split(".", 1)[0] not in kept or ".partial." in path.name:
                path.unlink(missing_ok=True)

    def restore(
        self, model_config: Mapping[str, Any] | None = None
    ) -> tuple[keras.Model, CheckpointState]:
        """The newest intact checkpointed model (with its optimizer and random-generator states) and
        run state; `model_config` names the builder whose module registers the model's custom layers.

        Damaged checkpoints are skipped (listed in `self.skipped`); RunFolderError if none is intact."""
        if model_config is not None:
            import_defining_module(model_config)
        problems: list[str] = []
        for path, state in self._states():
            if not isinstance(state, CheckpointState):
                problems.append(f"{path} is damaged ({state})")
                continue
            try:
                model = self._load(state)
            except _DamagedCheckpointError as damaged:
                problems.append(str(damaged))
                continue
            self.skipped = [f"note: skipped a damaged checkpoint: {p}." for p in problems]
            return model, state
        raise self._none_intact(problems)

    def _load(self, state: CheckpointState) -> keras.Model:
        model_path = self.directory / state.model_file
        stem = state.model_file.removesuffix(".keras")
        random_path = self.directory / f"{stem}.random.npz"
        callbacks_path = self.directory / f"{stem}.callbacks.npz"
        for path in (model_path, random_path):
            if not path.exists():
                raise _DamagedCheckpointError(f"{path} is missing")
            if path.stat().st_size == 0:
                raise _DamagedCheckpointError(f"{path} is empty")
        try:
            model = keras.saving.load_model(model_path)
        except Exception as error:  # zip, HDF5 and deserialization errors all mean "damaged"
            raise _DamagedCheckpointError(
                f"{model_path} cannot be loaded ({type(error).__name__}: {error})"
            ) from None
        try:
            with np.load(random_path) as saved:
                for i, variable in enumerate(_random_state_variables(model)):
                    variable.assign(saved[f"state_{i}"])
        except Exception as error:  # a truncated npz raises zip, EOF or key errors
            raise _DamagedCheckpointError(
                f"{random_path} cannot be read ({type(error).__name__}: {error})"
            ) from None
        self.callback_states = {}
        if callbacks_path.exists():  # checkpoints of earlier ldl versions have none
            try:
                self.callback_states = callback_state.load(callbacks_path)
            except Exception as error:  # a truncated npz raises zip, EOF, key or JSON errors
                raise _DamagedCheckpointError(
                    f"{callbacks_path} cannot be read ({type(error).__name__}: {error})"
                ) from None
        return model


class _DamagedCheckpointError(Exception):
    """One checkpoint cannot be loaded; the message names the file."""
