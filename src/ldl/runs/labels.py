"""What tells runs apart for a person: the settings they chose that differ, and whether a run was
shortened below its experiment's own length.

A run trained from the command line records the overrides a person typed (`.hydra/overrides.yaml`); those
are the settings that name its curve. Paths, logging, speed settings and values derived from other keys
(a log folder inside the run folder, everything an `experiment=` choice brings along) never do. A run
without that record (trained from Python) is named by the config keys in which the runs differ, with the
same keys left out. `cv.fold` is a replicate, not a setting: the folds of one configuration share a
curve colour and a legend entry ("5 folds").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ldl.runs.run_folder import RESUME_INDEPENDENT_KEYS

# A chosen setting that is the same kind of thing as a repeat: its runs are grouped, never labelled.
REPLICATE_KEYS = ("cv.fold",)
# Keys that never name a run: where it lives and what it logs, how fast it ran, and bookkeeping.
_NEVER_LABELS = (*RESUME_INDEPENDENT_KEYS, "hydra", "hparams_search", "experiment_id", "callbacks")
_PATH_ENDINGS = ("dir", "path", "file", "root", "folder")
# Settings whose lowering shortens a run below its experiment: (key, what it counts).
_EPOCH_KEY = "trainer.epochs"
_DATA_KEYS = ("data.max_train_examples", "data.overfit_subset", "data.train_fraction")


def flat(config: Any, prefix: str = "") -> dict[str, str]:
    """A nested config as {dotted key: value text}."""
    if isinstance(config, Mapping):
        items: dict[str, str] = {}
        for key, value in config.items():
            items.update(flat(value, f"{prefix}{key}."))
        return items
    return {prefix.rstrip("."): str(config)}


def _is_label_key(key: str) -> bool:
    if any(key == k or key.startswith(k + ".") for k in _NEVER_LABELS):
        return False
    if key.startswith(("book.", "deviations.")):
        return False
    return not key.split(".")[-1].lower().endswith(_PATH_ENDINGS)


def _parse_override(text: str) -> tuple[str, str] | None:
    key, separator, value = str(text).partition("=")
    if not separator:
        return None
    return key.lstrip("+~"), value


@dataclass
class RunSettings:
    """One run folder as a comparison needs it."""

    folder: Path
    experiment: str
    # The overrides a person typed, {key: value}; None when the run has no such record.
    chosen: dict[str, str] | None
    config: dict[str, str] = field(default_factory=dict)
    # Hydra's record of the config group options the run was composed of ({group: option}).
    choices: dict[str, str] = field(default_factory=dict)

    def value(self, key: str) -> str:
        if self.chosen is not None and key in self.chosen:
            return self.chosen[key]
        return self.choices.get(key) or self.config.get(key, "default")


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _chosen_overrides(folder: Path, root: Path) -> dict[str, str] | None:
    """The run's recorded overrides: its own `.hydra/overrides.yaml`, or that of the job folder
    holding it (a fold of `cv.fold=all` trains in `<job>/fold_<i>/`)."""
    for candidate in (folder, folder.parent):
        recorded = _read_yaml(candidate / ".hydra" / "overrides.yaml")
        if isinstance(recorded, list):
            pairs = (_parse_override(str(item)) for item in recorded)
            chosen = dict(pair for pair in pairs if pair is not None)
            if candidate != folder and folder.name.startswith("fold_"):
                chosen["cv.fold"] = folder.name.removeprefix("fold_")
            return chosen
        if candidate == root:
            break
    return None


def read_run(folder: Path, root: Path) -> RunSettings:
    config = _read_yaml(folder / "config.yaml")
    config_flat = flat(config) if isinstance(config, Mapping) else {}
    hydra_record = _read_yaml(folder / ".hydra" / "hydra.yaml")
    choices = flat(hydra_record).items() if isinstance(hydra_record, Mapping) else []
    prefix = "hydra.runtime.choices."
    return RunSettings(
        folder=folder,
        experiment=config_flat.get("experiment_id", "?"),
        chosen=_chosen_overrides(folder, root),
        config=config_flat,
        choices={k.removeprefix(prefix): v for k, v in choices if k.startswith(prefix)},
    )


def differing_settings(runs: list[RunSettings]) -> list[str]:
    """The setting keys that tell the runs apart (replicates such as cv.fold left out)."""
    if len(runs) < 2:
        return []
    keys: set[str] = set()
    if all(run.chosen is not None for run in runs):
        for run in runs:
            keys.update(run.chosen or {})
    elif len({run.experiment for run in runs}) == 1:
        # No record of what was typed: the config keys that differ (between runs of different
        # experiments nearly everything differs because of the experiment; its id says enough).
        keys = set(runs[0].config).intersection(*(run.config for run in runs[1:]))
    keys.discard("experiment")
    return [
        key
        for key in sorted(keys)
        if _is_label_key(key)
        and key not in REPLICATE_KEYS
        and len({run.value(key) for run in runs}) > 1
    ]


def short_keys(keys: list[str]) -> dict[str, str]:
    """The last part of each dotted key (`optimizer.learning_rate` -> `learning_rate`) where that
    is unambiguous among `keys`, else the whole key."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {
        key: name if last.count(name) == 1 else key for key, name in zip(keys, last, strict=True)
    }


def common_settings(runs: list[RunSettings]) -> list[str]:
    """`key=value` for the chosen settings every run shares (said once, in the title)."""
    if not runs or any(run.chosen is None for run in runs):
        return []
    first = runs[0].chosen or {}
    return [
        f"{key}={value}"
        for key, value in first.items()
        if key != "experiment"
        and _is_label_key(key)
        and key not in REPLICATE_KEYS
        and all((run.chosen or {}).get(key) == value for run in runs)
    ]


def run_labels(runs: list[RunSettings]) -> list[str]:
    """A short label per run: its experiment (when the runs are of several) and the chosen settings
    that differ, e.g. `c6e1: dropout=0.2`, `lr=0.1`; runs alike in both get the same label."""
    keys = differing_settings(runs)
    names = short_keys(keys)
    several_experiments = len({run.experiment for run in runs}) > 1
    labels = []
    for run in runs:
        settings = ", ".join(f"{names[key]}={run.value(key)}" for key in keys)
        if several_experiments:
            labels.append(f"{run.experiment}: {settings}" if settings else run.experiment)
        else:
            labels.append(settings or run.experiment)
    return labels


@cache
def _experiment_defaults(experiment: str) -> dict[str, str]:
    """The experiment's own values of the settings that can shorten a run ({} if unknown)."""
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from ldl.config import experiment_ids
    from ldl.config.experiments import experiment_config

    if experiment not in experiment_ids():
        return {}
    try:
        cfg = experiment_config(experiment)
    except (HydraException, OmegaConfBaseException):
        return {}
    return {
        key: str(OmegaConf.select(cfg, key, default=None))
        for key in (_EPOCH_KEY, *_DATA_KEYS, "data.max_test_examples")
    }


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def shortened(config: Mapping[str, Any]) -> str | None:
    """How a run was shortened below its experiment's own epochs or data, in words (e.g. `2 of 20
    epochs`, `first 1000 training examples`), or None when it trained as its experiment does."""
    values = flat(config)
    own = _experiment_defaults(values.get("experiment_id", ""))
    if not own:
        return None
    notes = []
    epochs, own_epochs = _number(values.get(_EPOCH_KEY, "")), _number(own.get(_EPOCH_KEY, ""))
    if epochs is not None and own_epochs is not None and epochs < own_epochs:
        notes.append(f"{epochs:g} of {own_epochs:g} epochs")
    for key, wording in (
        ("data.max_train_examples", "first {} training examples"),
        ("data.overfit_subset", "{} training examples"),
        ("data.train_fraction", "{} of the training data"),
    ):
        value, default = _number(values.get(key, "None")), _number(own.get(key, "None"))
        if value is not None and (default is None or value < default):
            notes.append(wording.format(values[key]))
    return ", ".join(notes) or None


def shortened_run(folder: Path) -> str | None:
    """`shortened` for the run folder's config.yaml (None without one)."""
    config = _read_yaml(folder / "config.yaml")
    return shortened(config) if isinstance(config, Mapping) else None
