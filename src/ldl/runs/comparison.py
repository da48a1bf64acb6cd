"""The book's comparison figures (e.g. chapter 5's test error of several configurations in one chart):
one curve per run folder below a folder, read from the runs' history.csv files.

In the book's runs the test set is the validation data, so its per-epoch test error is the history's
`val/error` column (the default metric); any other history column can be chosen.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ldl.errors import ConfigError
from ldl.runs.files import read_json

DEFAULT_METRIC = "val/error"


def run_curves(root: Path, metric: str = DEFAULT_METRIC) -> dict[str, pd.Series]:
    """{label: the metric per epoch} for every run below `root` whose history has the metric; the
    label is the experiment id and the run folder's path below `root`."""
    curves: dict[str, pd.Series] = {}
    for history_path in sorted(root.glob("**/history.csv")):
        frame = pd.read_csv(history_path)
        if metric not in frame or frame.empty:
            continue
        metrics_path = history_path.parent / "metrics.json"
        experiment = read_json(metrics_path).get("experiment") if metrics_path.exists() else None
        run = str(history_path.parent.relative_to(root)) or root.name
        label = f"{experiment}: {run}" if experiment else run
        curves[label] = pd.Series(frame[metric].to_numpy(), index=frame["epoch"].to_numpy())
    return curves


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
