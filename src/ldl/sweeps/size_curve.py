"""The learning curve over training-set size: would more data help? (chapter 17)

When the jobs of a sweep trained on different numbers of examples (`data.train_fraction`, e.g.
`hparams_search=learning_curve`), the final training and validation error of each size go into one
plot: a validation error that still falls at the right edge says more data would help; training and
validation errors that have met say the model, not the data, is the limit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

PLOT_NAME = "learning_curve_by_size.png"
TABLE_NAME = "learning_curve_by_size.csv"


def size_curve_frame(job_metrics: list[dict[str, Any]]) -> pd.DataFrame | None:
    """Mean final train/validation error (or MAE) per training-set size over the completed jobs'
    metrics, or None if they all trained on the same number of examples."""
    rows = [row for row in job_metrics if "train_examples" in row]
    if len({row["train_examples"] for row in rows}) < 2:
        return None
    frame = pd.DataFrame(rows)
    metric = "error" if "train/error" in frame else "mae" if "train/mae" in frame else "loss"
    columns = [c for c in (f"train/{metric}", f"val/{metric}") if c in frame]
    table = frame.groupby("train_examples")[columns].agg(["mean", "count"])
    table.columns = [f"{column}_{what}" for column, what in table.columns]
    return table.reset_index()


def write_size_curve(folder: Path, job_metrics: list[dict[str, Any]]) -> Path | None:
    """learning_curve_by_size.png and .csv in the sweep folder; None when the sweep is no such curve."""
    table = size_curve_frame(job_metrics)
    if table is None:
        return None
    table.to_csv(folder / TABLE_NAME, index=False)
    metric = next(c for c in table if c.startswith("train/")).split("/")[1].removesuffix("_mean")
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    for split, colour, label in (
        ("train", "tab:red", "training"),
        ("val", "tab:blue", "validation"),
    ):
        column = f"{split}/{metric}_mean"
        if column in table:
            axes.plot(table["train_examples"], table[column], "o-", color=colour, label=label)
    axes.set_xlabel("training examples")
    axes.set_ylabel(
        {"error": "error (1 - accuracy)", "mae": "mean absolute error"}.get(metric, metric)
    )
    axes.set_title("Final error against training-set size")
    if metric == "error":
        axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path = folder / PLOT_NAME
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
