"""After training a forecaster: the naive baseline, scale-free ratios, and predictions in real units.

A forecaster's MSE means little on its own (it depends on how the series was scaled, and the book's
printed numbers used a buggy scaling, chapter 9). Its ratio to the naive "next month = this month"
baseline does not depend on the scaling, so every book-sales run reports both, plus errors in
millions of dollars and a plot of predicted against actual sales.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

PLOT_NAME = "predictions.png"
TABLE_NAME = "predictions.csv"


def error_metrics(predicted: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """(MSE, MAE) of two equally shaped arrays; shapes are checked because (N, 1) - (N,) would
    broadcast to N x N and give a wrong MSE without any error (chapter 9)."""
    predicted, actual = np.asarray(predicted, np.float64), np.asarray(actual, np.float64)
    if predicted.shape != actual.shape:
        raise ValueError(f"prediction shape {predicted.shape} differs from target {actual.shape}")
    difference = predicted - actual
    return float(np.mean(difference**2)), float(np.mean(np.abs(difference)))


class ForecastReport:
    """Called by the trainer with the trained model and the run folder; returns `test/...` metrics."""

    def __init__(
        self,
        x_test: np.ndarray,
        y_test: np.ndarray,
        months: list[str],
        mean: float,
        scale: float,
        naive: np.ndarray | None = None,
    ) -> None:
        self.x_test, self.y_test, self.months = x_test, y_test, months
        self.mean, self.scale = mean, scale
        # The month before each target; the last input step unless the windows are post-padded.
        self.naive = x_test[:, -1, :1] if naive is None else naive

    def to_units(self, values: np.ndarray) -> np.ndarray:
        """Scaled values back to millions of dollars (x scale + mean)."""
        return np.asarray(values, np.float64) * self.scale + self.mean

    def __call__(self, model: Any, run_dir: Path | str) -> dict[str, float]:
        # One forward pass over the few test windows (model.predict's graph optimizer logs spurious
        # errors for ReLU SimpleRNNs in TF 2.21).
        predicted = np.asarray(model(self.x_test, training=False)).reshape(self.y_test.shape)
        naive = self.naive
        mse, mae = error_metrics(predicted, self.y_test)
        naive_mse, naive_mae = error_metrics(naive, self.y_test)
        actual_units, predicted_units, naive_units = (
            self.to_units(v) for v in (self.y_test, predicted, naive)
        )
        mse_units, mae_units = error_metrics(predicted_units, actual_units)
        naive_mse_units, naive_mae_units = error_metrics(naive_units, actual_units)
        self._write(Path(run_dir), actual_units, predicted_units, naive_units)
        # Several target months (data.horizon with horizon_targets=all): the error of each step ahead.
        columns = int(np.shape(predicted)[-1])
        steps = {}
        for k in range(columns if columns > 1 else 0):
            step_mse = error_metrics(predicted[:, k], self.y_test[:, k])[0]
            step_naive = error_metrics(naive[:, k], self.y_test[:, k])[0]
            steps[f"test/mse_ratio_to_naive_step_{k + 1}"] = step_mse / max(step_naive, 1e-12)
        return {
            **steps,
            "test/mse": mse,
            "test/naive_mse": naive_mse,
            "test/naive_mae": naive_mae,
            "test/mse_ratio_to_naive": mse / naive_mse if naive_mse else float("nan"),
            "test/mae_ratio_to_naive": mae / naive_mae if naive_mae else float("nan"),
            "test/rmse_millions": float(np.sqrt(mse_units)),
            "test/mae_millions": mae_units,
            "test/naive_rmse_millions": float(np.sqrt(naive_mse_units)),
            "test/naive_mae_millions": naive_mae_units,
        }

    def _write(
        self, run_dir: Path, actual: np.ndarray, predicted: np.ndarray, naive: np.ndarray
    ) -> None:
        with (run_dir / TABLE_NAME).open("w", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(["month", "actual", "predicted", "naive"])
            for row in zip(self.months, actual[:, 0], predicted[:, 0], naive[:, 0], strict=True):
                writer.writerow([row[0], *(f"{value:.2f}" for value in row[1:])])
        figure, axes = plt.subplots(figsize=(8.0, 4.0))
        steps = np.arange(len(self.months))
        axes.plot(steps, actual[:, 0], color="tab:blue", label="actual")
        axes.plot(steps, predicted[:, 0], color="tab:red", label="model")
        axes.plot(steps, naive[:, 0], color="tab:gray", linestyle=":", label="naive (last month)")
        ticks = steps[:: max(1, len(steps) // 8)]
        axes.set_xticks(ticks, [self.months[i] for i in ticks], rotation=30)
        axes.set_ylabel("Sales (millions $)")
        axes.set_title("Test months: predicted vs actual book-store sales")
        axes.grid(alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(run_dir / PLOT_NAME, dpi=100)
        plt.close(figure)
