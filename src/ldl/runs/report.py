"""The files a finished epoch loop leaves in the run folder: history.csv and the learning curve."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator


def error_name(metric: str) -> str | None:
    """The error a metric name gives, 1 - accuracy: `accuracy` -> `error`, and for a model with
    several outputs `digit_accuracy` -> `digit_error`; None for other metrics."""
    if metric == "accuracy":
        return "error"
    if metric.endswith("_accuracy"):
        return metric.removesuffix("accuracy") + "error"
    return None


def with_errors(metrics: dict[str, float], prefix: str) -> dict[str, float]:
    """`{prefix}/<name>` for every Keras metric, plus `{prefix}/<head_>error` for every accuracy."""
    row: dict[str, float] = {}
    for name, value in metrics.items():
        row[f"{prefix}/{name}"] = float(value)
        error = error_name(name)
        if error is not None:
            row[f"{prefix}/{error}"] = 1.0 - float(value)
    return row


def keras_logs_to_row(logs: dict[str, float]) -> dict[str, float]:
    """Keras's `loss`/`val_loss` become `train/loss`/`val/loss`; accuracies also give an error."""
    row: dict[str, float] = {}
    for key, value in logs.items():
        if key == "learning_rate":
            row["learning_rate"] = float(value)
            continue
        split, name = ("val", key[4:]) if key.startswith("val_") else ("train", key)
        row.update(with_errors({name: value}, split))
    return row


def write_history(path: Path, history: list[dict[str, float]]) -> None:
    frame = pd.DataFrame(history)
    frame.insert(0, "epoch", range(1, len(history) + 1))
    frame.to_csv(path, index=False)


def _curve_metrics(frame: pd.DataFrame) -> list[str]:
    """What to plot: every head's error (1 - accuracy), else MAE, else the loss."""
    errors = [
        c.removeprefix("train/") for c in frame if c.startswith("train/") and c.endswith("error")
    ]
    if errors:
        return sorted(errors)
    return ["mae"] if "train/mae" in frame else ["loss"]


def plot_learning_curve(
    path: Path, history: list[dict[str, float]], title: str, validation_label: str
) -> None:
    """Training and validation error per epoch, as the book plots them (error = 1 - accuracy or MAE);
    a model with several outputs gets one pair of curves per head."""
    if not history:
        return
    frame = pd.DataFrame(history)
    metrics = _curve_metrics(frame)
    epochs = range(1, len(frame) + 1)
    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    marker = "o" if len(frame) == 1 else None  # one epoch is a point, not an invisible line
    for index, metric in enumerate(metrics):
        # One head: the book's red training and blue validation curves; several: a colour per head.
        single = len(metrics) == 1
        head = "" if single else f"{metric.removesuffix('error').rstrip('_')} "
        train_colour, val_colour = ("tab:red", "tab:blue") if single else (f"C{index}", f"C{index}")
        axes.plot(epochs, frame[f"train/{metric}"], color=train_colour, marker=marker,
                  label=f"{head}training")  # fmt: skip
        if f"val/{metric}" in frame:
            axes.plot(epochs, frame[f"val/{metric}"], color=val_colour, marker=marker,
                      linestyle="-" if single else "--", label=f"{head}{validation_label}")  # fmt: skip
    is_error = metrics[0].endswith("error")
    axes.set_ylabel(
        "error (1 - accuracy)"
        if is_error
        else {"mae": "mean absolute error"}.get(metrics[0], metrics[0])
    )
    axes.set_xlabel("epoch")
    # The title says what is plotted: an error, the MAE or (without either) the loss.
    plotted = "error" if is_error else {"mae": "mean absolute error"}.get(metrics[0], metrics[0])
    title = f"{title}: {plotted} per epoch"
    if is_error:  # errors are fractions: start the axis at 0 as the book does
        highest = float(frame[[c for c in frame if c.endswith("error")]].max().max())
        axes.set_ylim(0, 1.05 * highest)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
