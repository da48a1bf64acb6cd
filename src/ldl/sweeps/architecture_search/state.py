"""Where an architecture search keeps its state and finds its candidates' results."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ldl.runs.files import DamagedFileError, read_json

# The search's own record in the sweep folder: settings, every candidate (index, phase, layers,
# estimated weights), the final retraining's job index, the best definition.
STATE_FILE = "search_state.json"


def read_state(sweep_dir: Path) -> dict[str, Any]:
    """The search's state file, checked: its settings and a list of well-formed candidates."""
    path = sweep_dir / STATE_FILE
    state = read_json(path)
    hint = (
        f"It is the architecture search's own record: restore it from a copy, or delete {sweep_dir} "
        "and run the search again."
    )
    for key, kind in (
        ("strategy", str),
        ("seed", int),
        ("experiment_id", str),
        ("candidates", list),
    ):
        if not isinstance(state.get(key), kind):
            problem = "it has no" if key not in state else "it has a malformed"
            raise DamagedFileError(path, f"{problem} '{key}'", hint)
    for position, candidate in enumerate(state["candidates"]):
        if (
            not isinstance(candidate, dict)
            or candidate.get("index") != position
            or not isinstance(candidate.get("phase"), str)
            or not isinstance(candidate.get("layers"), list)
            or not isinstance(candidate.get("estimated_weights"), int)
        ):
            raise DamagedFileError(path, f"its candidate {position} is malformed", hint)
    return state


def job_folder(sweep_dir: Path, index: int, experiment_id: str) -> Path:
    """Where the sweep's job `index` lives (hydra.sweep.subdir is `<job number>_<experiment_id>`)."""
    return sweep_dir / f"{index}_{experiment_id}"


def finished_score(folder: Path) -> float | None:
    """A completed job's score (its last validation accuracy), 0.0 for a failed one, None if it has
    not finished (never started, or killed: it is launched again and resumes)."""
    metrics_path = folder / "metrics.json"
    if not metrics_path.exists():
        return None
    return score_of(read_json(metrics_path))


def score_of(metrics: Mapping[str, Any]) -> float | None:
    """finished_score of a job whose metrics.json holds `metrics`."""
    if metrics.get("status") == "completed":
        return float(metrics.get("val/accuracy", 0.0))
    if metrics.get("status") == "failed":
        return 0.0
    return None


def failure_of(folder: Path) -> str | None:
    """What a failed job recorded as its error; None for a job that did not fail."""
    metrics_path = folder / "metrics.json"
    if not metrics_path.exists():
        return None
    metrics = read_json(metrics_path)
    if metrics.get("status") != "failed":
        return None
    error = str(metrics.get("error") or "no error recorded").strip()
    return error if error.endswith(".") else error + "."
