"""The book's comparison figures (e.g. chapter 5's test error of several configurations in one chart):
one curve per run folder below a folder, read from the runs' history.csv files.

In the book's runs the test set is the validation data, so its per-epoch test error is the history's
`val/error` column (the default metric); any other history column can be chosen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import yaml
from matplotlib.ticker import MaxNLocator

from ldl.errors import ConfigError

DEFAULT_METRIC = "val/error"


# Keys that differ between any two runs without saying how they were configured.
_IGNORED = ("run_dir", "output_root", "data_dir", "description", "experiment_id")
MAX_LABEL_SETTINGS = 4


def _flat(config: Any, prefix: str = "") -> dict[str, str]:
    """A nested config as {dotted key: value text}."""
    if isinstance(config, dict):
        flat: dict[str, str] = {}
        for key, value in config.items():
            flat.update(_flat(value, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): str(config)}


def _differences(configs: list[dict[str, str]]) -> list[str]:
    """The dotted keys every run has but not with the same value (the book's comparison block and
    bookkeeping keys left out)."""
    if not configs:
        return []
    common = set(configs[0]).intersection(*configs[1:])
    return [
        key
        for key in sorted(common)
        if key.split(".")[-1] not in _IGNORED
        and not key.startswith(("book.", "deviations.", "hydra."))
        and len({config[key] for config in configs}) > 1
    ]


def _config_of(run: Path) -> dict[str, str]:
    path = run / "config.yaml"
    return _flat(yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def run_curves(root: Path, metric: str = DEFAULT_METRIC) -> dict[str, pd.Series]:
    """{label: the metric per epoch} for every run below `root` whose history has the metric.

    A run's label is its experiment id and the settings in which the runs differ (as a comparison
    figure names its curves), or its folder below `root` when the settings tell the runs apart no
    better."""
    runs: list[tuple[Path, pd.Series]] = []
    for history_path in sorted(root.glob("**/history.csv")):
        frame = pd.read_csv(history_path)
        if metric in frame and not frame.empty:
            series = pd.Series(frame[metric].to_numpy(), index=frame["epoch"].to_numpy())
            runs.append((history_path.parent, series))
    configs = [_config_of(run) for run, _ in runs]
    differing = _differences(configs)[:MAX_LABEL_SETTINGS]
    labels = []
    for (run, _), config in zip(runs, configs, strict=True):
        experiment = config.get("experiment_id")
        settings = ", ".join(f"{key}={config.get(key, '-')}" for key in differing)
        name = settings or str(run.relative_to(root)) or root.name
        labels.append(f"{experiment}: {name}" if experiment else name)
    if len(set(labels)) < len(labels):  # settings alike: the folders tell the runs apart
        labels = [
            f"{label} ({run.relative_to(root)})"
            for label, (run, _) in zip(labels, runs, strict=True)
        ]
    return {label: series for label, (_, series) in zip(labels, runs, strict=True)}


def plot_run_comparison(root: Path, path: Path, metric: str = DEFAULT_METRIC) -> int:
    """Draw every run's `metric` per epoch in one chart at `path`; returns the number of curves."""
    curves = run_curves(root, metric)
    if not curves:
        raise ConfigError(
            f"No run below {root} has a history.csv with a '{metric}' column; name another column "
            "with metric=<column> (e.g. val/loss, train/error) or another folder."
        )
    figure, axes = plt.subplots(figsize=(7.2, 4.4))
    for label, curve in curves.items():
        axes.plot(
            curve.index, curve.to_numpy(), marker="o" if len(curve) == 1 else None, label=label
        )
    axes.set_xlabel("epoch")
    axes.set_ylabel("test error (1 - accuracy)" if metric == DEFAULT_METRIC else metric)
    if metric.endswith("error"):
        axes.set_ylim(0, 1.05 * max(float(curve.max()) for curve in curves.values()))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"{metric} of {len(curves)} run(s) below {root.name}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return len(curves)
