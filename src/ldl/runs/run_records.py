"""Run records: the small part of a run folder that says what it measured and how - metrics.json, the
resolved config.yaml and the overrides a person typed (.hydra/overrides.yaml) - without its model,
checkpoints or logs, and without the paths of the machine that made it. The reproduction report (ldl.runs.book_table) reads them from run folders or from
records kept in the repository; `ldl report <folders> keep=<records folder>` copies them there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ldl.config import natural_key
from ldl.runs.files import DamagedFileError, read_json
from ldl.runs.labels import _is_label_key
from ldl.runs.run_folder import effective_status

# Files that mark a folder as an architecture search's sweep folder: its candidates are not book runs.
_SEARCH_STATE = "search_state.json"
# An absolute path inside a value (a data_dir, a run folder named in an error): a record kept in a
# repository names no folder of the machine that made it.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:/|~/)[\w.+-]+(?:/[\w.+-]*)+")
# Overrides that change neither what a run measures nor how long it trains.
_NEUTRAL_KEYS = ("trainer.seed", "trainer.deterministic", "trainer.loop", "trainer.population")


@dataclass(frozen=True)
class RunRecord:
    folder: Path
    # The folder relative to the folder the report was given (what the page names).
    name: str
    experiment: str
    status: str
    metrics: Mapping[str, Any]
    config: Mapping[str, Any]
    # The overrides typed for the run that change what it measures or how long it trains.
    changes: tuple[str, ...]


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _changes(folder: Path) -> tuple[str, ...]:
    overrides = _read_yaml(folder / ".hydra" / "overrides.yaml")
    if not isinstance(overrides, list):
        return ()
    kept = []
    for override in overrides:
        key, separator, _ = str(override).lstrip("+~").partition("=")
        if (
            not separator
            or key in ("experiment", "hparams_search", "chapter")
            or key in _NEUTRAL_KEYS
        ):
            continue
        if key.startswith(("hydra.", "hydra/")) or not _is_label_key(key):
            continue
        kept.append(str(override))
    return tuple(kept)


def _in_search(folder: Path, root: Path) -> bool:
    """Whether the folder is a candidate of an architecture search (below a search's sweep folder)."""
    for parent in [folder, *folder.parents]:
        if (parent / _SEARCH_STATE).exists():
            return True
        if parent == root:
            break
    return False


def read_records(roots: list[Path]) -> tuple[list[RunRecord], list[str]]:
    """Every run below the folders (sorted), and one line per metrics.json that could not be read."""
    records, problems = [], []
    for root in roots:
        paths = sorted(root.glob("**/metrics.json"), key=lambda p: natural_key(str(p)))
        for metrics_path in paths:
            folder = metrics_path.parent
            if _in_search(folder, root):
                continue
            name = str(folder.relative_to(root)) if folder != root else folder.name
            try:
                metrics = read_json(metrics_path)
            except DamagedFileError as damaged:
                problems.append(f"{name}: {damaged.problem}")
                continue
            config = _read_yaml(folder / "config.yaml")
            records.append(
                RunRecord(
                    folder=folder,
                    name=name,
                    experiment=str(metrics.get("experiment", "?")),
                    status=effective_status(folder, metrics),
                    metrics=metrics,
                    config=config if isinstance(config, Mapping) else {},
                    changes=_changes(folder),
                )
            )
    return records, problems


def _scrubbed(value: Any) -> Any:
    """The value with every absolute path replaced by `<path>`."""
    if isinstance(value, str):
        return _ABSOLUTE_PATH.sub("<path>", value)
    if isinstance(value, Mapping):
        return {key: _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrubbed(item) for item in value]
    return value


def keep_records(roots: list[Path], into: Path) -> list[Path]:
    """Copy the record of every run below `roots` into `into/<experiment>/<run folder name>/`, paths
    of this machine replaced by `<path>` (an existing record of the same run is replaced); returns
    the folders written."""
    written = []
    records, _ = read_records(roots)
    for record in records:
        target = into / record.experiment / record.folder.name
        if target.resolve() == record.folder.resolve() or record.status == "running":
            continue  # already a record in place, or a run still training: keep it once it ends
        (target / ".hydra").mkdir(parents=True, exist_ok=True)
        metrics = _scrubbed(dict(record.metrics))
        (target / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        if record.config:
            text = yaml.safe_dump(_scrubbed(dict(record.config)), sort_keys=False)
            (target / "config.yaml").write_text(text)
        overrides = _read_yaml(record.folder / ".hydra" / "overrides.yaml")
        if isinstance(overrides, list):
            text = yaml.safe_dump(_scrubbed([str(item) for item in overrides]))
            (target / ".hydra" / "overrides.yaml").write_text(text)
        written.append(target)
    return written
