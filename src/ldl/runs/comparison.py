"""The book's comparison figures (e.g. chapter 5's test error of several configurations in one chart):
one curve per run folder below a folder, read from the runs' history.csv files.

In the book's runs the test set is the validation data, so its per-epoch test error is the history's
`val/error` column (the default metric; runs without one, regressions, show `val/mae`); any other
history column can be chosen. Curves are named by the settings a person chose that differ between the
runs (ldl.runs.labels); runs that differ only in a replicate (the folds of a k-fold sweep) share a colour
and one legend entry. A run shortened below its experiment's epochs or data says so in its label.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ldl.config import natural_key
from ldl.errors import ConfigError
from ldl.runs.labels import common_settings, read_run, run_labels, shortened_run

DEFAULT_METRIC = "val/error"
# Without a val/error column (a regression), the first of these that the histories have.
_FALLBACK_METRICS = ("val/mae", "val/loss")
# Up to this many legend entries stand beside the axes; more go below them in columns.
_BESIDE_AT_MOST = 8


@dataclass(frozen=True)
class Curve:
    label: str
    series: pd.Series
    folder: Path


def _histories(root: Path) -> list[tuple[Path, pd.DataFrame]]:
    found = []
    # 2_c6e1 before 10_c6e1: the sweep's job order.
    for history_path in sorted(root.glob("**/history.csv"), key=lambda p: natural_key(str(p))):
        try:
            frame = pd.read_csv(history_path)
        except (OSError, ValueError):
            continue  # an unreadable history is no curve; ldl report's table names the run
        if not frame.empty and "epoch" in frame:
            found.append((history_path.parent, frame))
    return found


def default_metric(root: Path) -> str:
    """val/error when some run has it, else val/mae, else val/loss."""
    columns = {column for _, frame in _histories(root) for column in frame}
    for metric in (DEFAULT_METRIC, *_FALLBACK_METRICS):
        if metric in columns:
            return metric
    return DEFAULT_METRIC


def run_curves(root: Path, metric: str = DEFAULT_METRIC) -> list[Curve]:
    """One curve per run below `root` whose history has `metric`, labelled for a person."""
    found = [(folder, frame) for folder, frame in _histories(root) if metric in frame]
    runs = [read_run(folder, root) for folder, _ in found]
    labels = run_labels(runs)
    notes = [shortened_run(folder) for folder, _ in found]
    if len(set(notes)) > 1:  # runs shortened differently: each label says how
        labels = [
            f"{label} [{note}]" if note else label
            for label, note in zip(labels, notes, strict=True)
        ]
    return [
        Curve(label, pd.Series(frame[metric].to_numpy(), index=frame["epoch"].to_numpy()), folder)
        for label, (folder, frame) in zip(labels, found, strict=True)
    ]


def _title(root: Path, metric: str, curves: list[Curve]) -> str:
    runs = [read_run(curve.folder, root) for curve in curves]
    experiments = sorted({run.experiment for run in runs})
    notes = {shortened_run(curve.folder) for curve in curves}
    lines = [f"{metric} of {len(curves)} run(s): {', '.join(experiments)}"]
    shared = common_settings(runs)
    if shared:
        lines.append("all runs: " + ", ".join(shared))
    if len(notes) == 1 and None not in notes:
        lines.append(f"shortened: {notes.pop()} (not the book's setup)")
    return "\n".join(textwrap.fill(line, 70) for line in lines)


def plot_run_comparison(root: Path, path: Path, metric: str | None = None) -> int:
    """Draw every run's `metric` per epoch in one chart at `path`; returns the number of curves."""
    metric = metric or default_metric(root)
    curves = run_curves(root, metric)
    if not curves:
        raise ConfigError(
            f"No run below {root} has a history.csv with a '{metric}' column; name another column "
            "with metric=<column> (e.g. val/loss, train/error) or another folder."
        )
    groups: dict[str, list[Curve]] = {}
    for curve in curves:
        groups.setdefault(curve.label, []).append(curve)
    beside = len(groups) <= _BESIDE_AT_MOST
    columns = 1 if beside else min(3, max(1, 90 // max(len(label) for label in groups)))
    legend_rows = 0 if beside else -(-len(groups) // columns)
    figure, axes = plt.subplots(figsize=(7.2 if beside else 8.0, 4.4 + 0.22 * legend_rows))
    colours = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    for index, (label, members) in enumerate(groups.items()):
        style = ("-", "--", ":", "-.")[index // 20 % 4]
        count = f" ({len(members)} runs)" if len(members) > 1 else ""
        for number, curve in enumerate(members):
            axes.plot(
                curve.series.index,
                curve.series.to_numpy(),
                color=colours(index % colours.N),
                linestyle=style,
                marker="o" if len(curve.series) == 1 else None,
                alpha=0.8 if len(members) > 1 else 1.0,
                label=f"{label}{count}" if number == 0 else None,
            )
    axes.set_xlabel("epoch")
    axes.set_ylabel("test error (1 - accuracy)" if metric == DEFAULT_METRIC else metric)
    if metric.endswith("error"):
        axes.set_ylim(0, 1.05 * max(float(curve.series.max()) for curve in curves))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(_title(root, metric, curves), fontsize="medium")
    axes.grid(alpha=0.3)
    if beside:
        axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    else:
        axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=columns)
    path.parent.mkdir(parents=True, exist_ok=True)
    # "tight": the figure grows to hold the legend and the title; nothing is cut at its edges.
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return len(curves)
