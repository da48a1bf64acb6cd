"""Checkpoints of the hand-written MNIST network: resume a killed run exactly, keep the best epoch.

A checkpoint holds the weights, the state of the generator that shuffles (its next draws decide every
later epoch), the persistent index list and the printed history. `epoch-NNNNN.npz` holds one
checkpointed epoch's weights (chapter 4's early stopping reloads the one with the lowest held-out
error); `state.npz` the full latest state; `state.json`, written last and atomically, says which
epoch that is. A crash at any moment leaves the previous checkpoint or the new one, never a mix.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from ldl.runs.files import atomic_write_text
from ldl.tasks.classic.mnist_network import EpochResult, TrainingState, TwoLayerNetwork


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    partial = path.with_name(path.stem + ".partial.npz")
    np.savez(partial, **arrays)  # type: ignore[arg-type]  # NumPy's stub types **kwargs as options
    os.replace(partial, path)


class NetworkCheckpoints:
    """Writes and reads the checkpoints of one run folder's `checkpoint/` directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def epoch_path(self, epoch: int) -> Path:
        return self.directory / f"epoch-{epoch:05d}.npz"

    def save(self, state: TrainingState, extra: dict[str, Any]) -> None:
        """Checkpoint the state after its last epoch (`extra`: seed, seconds so far, ...)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        net = state.network
        epoch = state.history[-1].epoch
        _save_npz(self.epoch_path(epoch), hidden=net.hidden_weights, output=net.output_weights)
        kind, keys, position, has_gauss, cached_gaussian = state.rng.get_state()
        _save_npz(
            self.directory / "state.npz",
            hidden=net.hidden_weights,
            output=net.output_weights,
            order=state.order,
            rng_keys=np.asarray(keys),
            rng_numbers=np.array([position, has_gauss], dtype=np.int64),
            rng_gaussian=np.array([cached_gaussian], dtype=np.float64),
        )
        record = {
            "epochs_completed": len(state.history),
            "history": [asdict(result) for result in state.history],
            "rng": kind,
            "activations": [net.hidden_activation, net.output_activation],
            **extra,
        }
        atomic_write_text(self.state_path, json.dumps(record, indent=2) + "\n")

    def load(self) -> tuple[TrainingState, dict[str, Any]] | None:
        """The latest checkpointed state and its record, or None when there is none."""
        if not self.state_path.exists():
            return None
        record = json.loads(self.state_path.read_text())
        with np.load(self.directory / "state.npz") as arrays:
            rng = np.random.RandomState()
            position, has_gauss = (int(v) for v in arrays["rng_numbers"])
            rng.set_state(
                (
                    record["rng"],
                    arrays["rng_keys"],
                    position,
                    has_gauss,
                    float(arrays["rng_gaussian"][0]),
                )
            )
            hidden_activation, output_activation = record["activations"]
            network = TwoLayerNetwork(
                arrays["hidden"].copy(),
                arrays["output"].copy(),
                hidden_activation,
                output_activation,
            )
            order = arrays["order"].copy()
        history = [EpochResult(**result) for result in record["history"]]
        return TrainingState(network, rng, order, history), record

    def load_epoch(self, epoch: int, template: TwoLayerNetwork) -> TwoLayerNetwork:
        """The weights saved after `epoch`, with the activations of `template`."""
        with np.load(self.epoch_path(epoch)) as arrays:
            return TwoLayerNetwork(
                arrays["hidden"].copy(),
                arrays["output"].copy(),
                template.hidden_activation,
                template.output_activation,
            )

    def saved_epochs(self) -> list[int]:
        return sorted(
            int(path.stem.removeprefix("epoch-"))
            for path in self.directory.glob("epoch-*.npz")
            if not path.stem.endswith(".partial")
        )
