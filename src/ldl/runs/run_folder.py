"""The layout of a run folder and the rules for continuing one.

A run folder holds: config.yaml (the resolved config), metrics.json (flat metrics plus status), history.csv,
model.keras, learning_curve.png, tensorboard/ and checkpoint/. `status` in metrics.json is running,
completed, failed or interrupted; a run killed outright stays `running` (its lock file names a process
that is gone) and can be resumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ldl.config import flatten
from ldl.runs.files import DamagedFileError, atomic_write_text, read_json, read_yaml
from ldl.runs.lock import owner_is_alive, read_owner

# The checkpoint's state files, newest first (ldl.training.checkpoint writes them).
CHECKPOINT_STATE_FILES = ("state.json", "previous.json")

# Keys that may differ between the first start of a run and its resumption: where things are read and
# written and how fast, but nothing that changes the numbers.
RESUME_INDEPENDENT_KEYS = (
    "run_dir",
    "data_dir",
    "output_root",
    "logger",
    "trainer.resume",
    "trainer.verbose",
    "trainer.threads",
    "trainer.eval_batch_size",
    "trainer.steps_per_execution",
    "trainer.jit_compile",
    "trainer.checkpoint_every",
    "trainer.checkpoint_seconds",
    "trainer.print_predictions",
    "trainer.population",
    "description",
    "book",
    "deviations",
)


class RunFolder:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.yaml")
    metrics_path = property(lambda self: self.path / "metrics.json")
    history_path = property(lambda self: self.path / "history.csv")
    model_path = property(lambda self: self.path / "model.keras")
    learning_curve_path = property(lambda self: self.path / "learning_curve.png")
    tensorboard_dir = property(lambda self: self.path / "tensorboard")
    checkpoint_dir = property(lambda self: self.path / "checkpoint")
    log_path = property(lambda self: self.path / "output.txt")

    def exists(self) -> bool:
        return self.config_path.exists()

    def read_config(self) -> dict[str, Any]:
        """config.yaml as plain values; a DamagedFileError naming it if it cannot be read."""
        return {str(key): value for key, value in read_yaml(self.config_path).items()}

    def write_config(self, config: Mapping[str, Any]) -> None:
        atomic_write_text(self.config_path, OmegaConf.to_yaml(OmegaConf.create(dict(config))))

    def read_metrics(self) -> dict[str, Any]:
        return read_json(self.metrics_path) if self.metrics_path.exists() else {}

    def status(self) -> str | None:
        return self.read_metrics().get("status")

    def has_checkpoint(self) -> bool:
        return any((self.checkpoint_dir / name).exists() for name in CHECKPOINT_STATE_FILES)

    def checkpoint_time(self) -> int:
        """When the newest checkpoint state was written (ns), 0 without one."""
        times = [
            (self.checkpoint_dir / name).stat().st_mtime_ns
            for name in CHECKPOINT_STATE_FILES
            if (self.checkpoint_dir / name).exists()
        ]
        return max(times, default=0)


def config_differences(first: Mapping[str, Any], second: Mapping[str, Any]) -> list[str]:
    """Keys whose values differ, ignoring the keys that cannot change a run's numbers."""
    a, b = flatten(first), flatten(second)
    keys = sorted(set(a) | set(b))
    return [
        key
        for key in keys
        if a.get(key) != b.get(key)
        and not any(key == k or key.startswith(k + ".") for k in RESUME_INDEPENDENT_KEYS)
        and not key.endswith(".run_dir")  # e.g. a callback told where the run folder is
    ]


def find_resumable_run(output_root: Path, config: Mapping[str, Any]) -> Path | None:
    """The most recent run under `output_root` with this config that did not complete."""
    candidates: list[tuple[int, Path]] = []
    for config_path in Path(output_root).glob("**/config.yaml"):
        folder = RunFolder(config_path.parent)
        try:
            if folder.status() == "completed" or not folder.has_checkpoint():
                continue
            if config_differences(folder.read_config(), config):
                continue
        except DamagedFileError:  # a damaged folder is not the run to resume; others may be
            continue
        candidates.append((folder.checkpoint_time(), folder.path))
    return max(candidates)[1] if candidates else None


def effective_status(folder: Path, metrics: Mapping[str, Any], default: str = "?") -> str:
    """The status metrics.json records, except that `running` without a live process holding the
    folder's lock (a run killed with -9, a crashed machine) is `interrupted`: it resumes as one."""
    status = str(metrics.get("status", default))
    if status == "running":
        owner = read_owner(folder)
        if owner is None or not owner_is_alive(owner):
            return "interrupted"
    return status
