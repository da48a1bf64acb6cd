"""Where an architecture search keeps its state and finds its candidates' results."""

from __future__ import annotations

from pathlib import Path

from ldl.runs.files import read_json

# The search's own record in the sweep folder: settings, every candidate (index, phase, layers,
# estimated weights), the final retraining's job index, the best definition.
STATE_FILE = "search_state.json"


def job_folder(sweep_dir: Path, index: int, experiment_id: str) -> Path:
    """Where the sweep's job `index` lives (hydra.sweep.subdir is `<job number>_<experiment_id>`)."""
    return sweep_dir / f"{index}_{experiment_id}"


def finished_score(folder: Path) -> float | None:
    """A completed job's score (its last validation accuracy), 0.0 for a failed one, None if it has
    not finished (never started, or killed: it is launched again and resumes)."""
    metrics_path = folder / "metrics.json"
    if not metrics_path.exists():
        return None
    metrics = read_json(metrics_path)
    if metrics.get("status") == "completed":
        return float(metrics.get("val/accuracy", 0.0))
    if metrics.get("status") == "failed":
        return 0.0
    return None
