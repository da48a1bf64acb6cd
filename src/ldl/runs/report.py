"""The files a finished epoch loop leaves in the run folder: history.csv and the learning curve."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator


def keras_logs_to_row(logs: dict[str, float]) -> dict[str, float]:
    """Keras's `loss`/`val_loss` become `train/loss`/`val/loss`; accuracies also give an error."""
    row: dict[str, float] = {}
    for key, value in logs.items():
        if key == "learning_rate":
            row["learning_rate"] = float(value)
            continue
        split, name = ("val", key[4:]) if key.startswith("val_") else ("train", key)
        row[f"{split}/{name}"] = float(value)
        if name == "accuracy":
            row[f"{split}/error"] = 1.0 - float(value)
    return row


def write_history(path: Path, history: list[dict[str, float]]) -> None:
    frame = pd.DataFrame(history)
    frame.insert(0, "epoch", range(1, len(history) + 1))
    frame.to_csv(path, index=False)


def plot_learning_curve(
    path: Path, history: list[dict[str, float]], title: str, validation_label: str
) -> None:
    """Training and validation error per epoch, as the book plots them (error = 1 - accuracy or MAE)."""
    if not history:
        return
    frame = pd.DataFrame(history)
    metric = "error" if "train/error" in frame else "mae" if "train/mae" in frame else "loss"
    epochs = range(1, len(frame) + 1)
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    axes.plot(epochs, frame[f"train/{metric}"], color="tab:red", label="training")
    if f"val/{metric}" in frame:
        axes.plot(epochs, frame[f"val/{metric}"], color="tab:blue", label=validation_label)
    axes.set_xlabel("epoch")
    axes.set_ylabel(
        {"error": "error (1 - accuracy)", "mae": "mean absolute error"}.get(metric, metric)
    )
    if metric == "error":  # errors are fractions: start the axis at 0 as the book does
        highest = float(frame[[c for c in frame if c.endswith("/error")]].max().max())
        axes.set_ylim(0, 1.05 * highest)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
