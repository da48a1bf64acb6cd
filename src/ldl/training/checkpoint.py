"""Resumable checkpoints: a crashed or killed run continues from its last completed epoch.

A checkpoint is the full model (weights and optimizer state, `.keras`), the states of the layers' random
generators (Keras does not save them, and dropout masks depend on them) and `state.json`. The model file is
named by its epoch and `state.json` is replaced atomically last, so a crash at any moment leaves either the
previous checkpoint or the new one, never a mix.
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

from ldl.runs.files import atomic_write_text
from ldl.targets import import_defining_module


@dataclass
class CheckpointState:
    """What a resumed run needs besides the model: where it stopped and what it has seen so far."""

    epochs_completed: int
    seed: int
    train_seconds: float
    history: list[dict[str, float]] = field(default_factory=list)
    model_file: str = ""


def _random_state_variables(model: keras.Model) -> list[Any]:
    return [v for v in model.variables if "seed_generator" in v.path]


class Checkpointer:
    """Writes and reads the checkpoints of one run folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def load_state(self) -> CheckpointState | None:
        if not self.state_path.exists():
            return None
        return CheckpointState(**json.loads(self.state_path.read_text()))

    def save(self, model: keras.Model, state: CheckpointState) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"epoch-{state.epochs_completed:05d}"
        model_path = self.directory / f"{stem}.keras"
        partial = self.directory / f"{stem}.partial.keras"
        model.save(partial)
        os.replace(partial, model_path)
        random_states: dict[str, Any] = {
            f"state_{i}": np.asarray(v.numpy())
            for i, v in enumerate(_random_state_variables(model))
        }
        np.savez(self.directory / f"{stem}.random.npz", **random_states)
        state.model_file = model_path.name
        previous = self.load_state()
        atomic_write_text(self.state_path, json.dumps(asdict(state), indent=1))
        if previous and previous.model_file and previous.model_file != model_path.name:
            old_stem = previous.model_file.removesuffix(".keras")
            for old in (f"{old_stem}.keras", f"{old_stem}.random.npz"):
                (self.directory / old).unlink(missing_ok=True)

    def restore(
        self, model_config: Mapping[str, Any] | None = None
    ) -> tuple[keras.Model, CheckpointState]:
        """The checkpointed model (with its optimizer and random-generator states) and run state;
        `model_config` names the builder whose module registers the model's custom layers."""
        state = self.load_state()
        if state is None:
            raise FileNotFoundError(self.state_path)
        if model_config is not None:
            import_defining_module(model_config)
        model = keras.saving.load_model(self.directory / state.model_file)
        stem = state.model_file.removesuffix(".keras")
        with np.load(self.directory / f"{stem}.random.npz") as saved:
            for i, variable in enumerate(_random_state_variables(model)):
                variable.assign(saved[f"state_{i}"])
        return model, state
