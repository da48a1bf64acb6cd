"""Run records: the small part of a run folder that says what it measured and how - metrics.json, the
resolved config.yaml, the overrides a person typed (.hydra/overrides.yaml) and a text task's final
sampled completions (samples.txt, its last block) - without its model,
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
from ldl.runs.files import SAMPLES_FILE, SAMPLES_HEADER, DamagedFileError, read_json
from ldl.runs.labels import _is_label_key
from ldl.runs.run_folder import effective_status

# Files that mark a folder as an architecture search's sweep folder: its candidates are not book runs;
# its final model is, with the search's settings kept beside it in SEARCH_RECORD.
_SEARCH_STATE = "search_state.json"
SEARCH_RECORD = "search.json"
# What a search record keeps of the search's state: its settings, not its candidates.
_SEARCH_DROPPED = ("candidates", "random_state", "arguments", "best")
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
    # An architecture search's settings and how many candidates it evaluated (its final model's
    # run is the record's metrics); None for a run.
    search: Mapping[str, Any] | None = None
    # A text task's completions sampled at the end of training (the last block of samples.txt).
    samples: str = ""


def final_samples(folder: Path) -> str:
    """The last block of the folder's samples.txt (the completions sampled after the final epoch),
    or "" without one."""
    try:
        text = (folder / SAMPLES_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
    start = text.rfind(SAMPLES_HEADER)
    return text[max(start, 0) :].strip()


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


def _search_settings(sweep: Path) -> tuple[Path, dict[str, Any]] | None:
    """An architecture search's final job folder and its settings, or None before its final model."""
    from ldl.sweeps.architecture_search.state import job_folder, read_state, score_of

    state = read_state(sweep)
    if state.get("final_index") is None:
        return None
    final = job_folder(sweep, int(state["final_index"]), state["experiment_id"])
    searched = [candidate for candidate in state["candidates"] if candidate["phase"] != "final"]
    # The best score so far at the end of each phase, as the book reports its searches (59 % after
    # the random search, 74 % after hill climbing).
    best: dict[str, float] = {}
    top = 0.0
    seconds = 0.0  # the candidates' training time, which the final model's record does not hold
    for candidate in searched:
        path = job_folder(sweep, candidate["index"], state["experiment_id"]) / "metrics.json"
        metrics = read_json(path) if path.exists() else {}
        score = score_of(metrics)
        top = max(top, score or 0.0)
        best[candidate["phase"]] = top
        trained = metrics.get("train_seconds") if score is not None else None
        seconds += float(trained) if isinstance(trained, int | float) else 0.0
    settings = {k: v for k, v in state.items() if k not in _SEARCH_DROPPED}
    found = {"evaluated": len(searched), "best_so_far_by_phase": best}
    return final, {**settings, **found, "candidates_train_seconds": round(seconds, 1)}


def read_records(roots: list[Path]) -> tuple[list[RunRecord], list[str]]:
    """Every run below the folders (sorted), and one line per metrics.json that could not be read.
    An architecture search is one record, its final model's, with the search's settings."""
    records, problems = [], []
    for root in roots:
        paths = sorted(root.glob("**/metrics.json"), key=lambda p: natural_key(str(p)))
        searches: dict[Path, tuple[Path, dict[str, Any]] | None] = {}
        for sweep in sorted(root.glob(f"**/{_SEARCH_STATE}")):
            try:
                searches[sweep.parent] = _search_settings(sweep.parent)
            except DamagedFileError as damaged:
                problems.append(f"{sweep.parent.name}: {damaged.problem}")
        finals = {found[0]: (sweep, found[1]) for sweep, found in searches.items() if found}
        for metrics_path in paths:
            folder = metrics_path.parent
            search: Mapping[str, Any] | None = None
            if folder in finals:
                sweep, search = finals[folder]
                name = str(sweep.relative_to(root)) if sweep != root else sweep.name
            elif _in_search(folder, root):
                continue
            else:
                name = str(folder.relative_to(root)) if folder != root else folder.name
            try:
                metrics = read_json(metrics_path)
                if search is None and (folder / SEARCH_RECORD).is_file():
                    search = read_json(folder / SEARCH_RECORD)  # a kept search's record
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
                    changes=() if search else _changes(folder),
                    search=search,
                    samples=final_samples(folder),
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
    """Copy the record of every run below `roots` into `into/<experiment>/<run folder name>/` (a
    search's into `<experiment>/<sweep folder name>/`), paths of this machine replaced by `<path>`
    (an existing record of the same run is replaced); returns the folders written."""
    written = []
    records, _ = read_records(roots)
    for record in records:
        target = into / record.experiment / Path(record.name).name
        if target.resolve() == record.folder.resolve() or record.status == "running":
            continue  # already a record in place, or a run still training: keep it once it ends
        target.mkdir(parents=True, exist_ok=True)
        metrics = _scrubbed(dict(record.metrics))
        (target / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        if record.config:
            text = yaml.safe_dump(_scrubbed(dict(record.config)), sort_keys=False)
            (target / "config.yaml").write_text(text)
        if record.search is not None:
            text = json.dumps(_scrubbed(dict(record.search)), indent=2)
            (target / SEARCH_RECORD).write_text(text + "\n")
        if record.samples:
            (target / SAMPLES_FILE).write_text(_scrubbed(record.samples) + "\n", encoding="utf-8")
        overrides = _read_yaml(record.folder / ".hydra" / "overrides.yaml")
        if record.search is None and isinstance(overrides, list):
            (target / ".hydra").mkdir(exist_ok=True)
            text = yaml.safe_dump(_scrubbed([str(item) for item in overrides]))
            (target / ".hydra" / "overrides.yaml").write_text(text)
        written.append(target)
    return written
