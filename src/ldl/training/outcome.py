"""The run's last step: test metrics and the task's report, the saved artefacts (model.keras,
history.csv, the learning curve, the final TensorBoard scalars), and the run's flat metrics."""

from __future__ import annotations

import math
import shutil
from typing import Any

import keras
import numpy as np
from omegaconf import OmegaConf

from ldl.data.datasets import PreparedData
from ldl.errors import TrainingDivergedError
from ldl.runs.report import plot_learning_curve, write_history
from ldl.runs.reporter import Say
from ldl.training import tensorboard_logs
from ldl.training.callback_setup import logs_to_tensorboard
from ldl.training.evaluate import measure_test_metrics
from ldl.training.pipeline import evaluation_dataset
from ldl.training.run_context import RunContext

# What the validation data of each kind are called in the learning-curve legend.
VALIDATION_LABELS = {
    "test": "test",
    "holdout": "validation",
    "last_fraction": "validation",
    "kfold": "validation fold",
}


def refuse_diverged(context: RunContext) -> None:
    """A run whose loss turned NaN or infinite ends failed, pointing at its last good epoch."""
    if context.recorder.diverged_at is not None:
        raise TrainingDivergedError(
            "Training diverged: the loss became NaN or infinite in epoch "
            f"{context.recorder.diverged_at}, so the run was stopped and marked failed. Lower "
            "optimizer.learning_rate, add gradient clipping (optimizer.clipnorm=1.0), or check the "
            f"inputs for NaN; the last good epoch is in {context.run.checkpoint_dir}."
        )


def evaluate_and_save(context: RunContext) -> dict[str, Any]:
    """Test metrics and the task's report, the saved artefacts, and the run's flat metrics."""
    cfg, run, model, say = context.cfg, context.run, context.model, context.say
    datasets = context.datasets
    data, cross_validating = datasets.data, datasets.validation == "kfold"
    # Cross-validation chooses configurations; the test set is measured once, on the final model
    # (ldl retrain-best), never by the runs that take part in the choice (docs/sweeps.md).
    test_metrics = {} if cross_validating else _test_metrics(model, data, datasets.eval_batch_size)
    if data.test_report is not None and not cross_validating:
        test_metrics.update(data.test_report(model, run.path))
    if cfg.trainer.print_predictions and not cross_validating:
        _print_predictions(model, data, int(cfg.trainer.print_predictions), say)

    save_artifacts(context, test_metrics)
    history = context.recorder.state.history
    base_metrics = context.base_metrics
    if cfg.data.get("overfit_subset") and history:
        test_metrics.update(overfitting_check(history[-1], base_metrics["train_examples"], say))
    return {
        **base_metrics,
        "status": "completed",
        "epochs_completed": len(history),
        "train_seconds": context.recorder.state.train_seconds,
        **(history[-1] if history else {}),
        **test_metrics,
        "data_statistics": data.statistics,
    }


def save_artifacts(context: RunContext, test_metrics: dict[str, float]) -> None:
    """model.keras, history.csv, the learning curve and the final TensorBoard scalars; the checkpoint
    goes (unless trainer.keep_checkpoint) since model.keras now holds the finished run."""
    cfg, run = context.cfg, context.run
    history = context.recorder.state.history
    context.model.save(run.model_path)
    write_history(run.history_path, history)
    plot_learning_curve(
        run.learning_curve_path,
        history,
        title=cfg.experiment_id,
        validation_label=VALIDATION_LABELS.get(context.datasets.validation, ""),
    )
    if logs_to_tensorboard(cfg):
        last_epoch = history[-1] if history else {}
        final_validation = {k: v for k, v in last_epoch.items() if k.startswith("val/")}
        tensorboard_logs.write_final_scalars(
            str(run.tensorboard_dir), {**final_validation, **test_metrics}, len(history)
        )
    if OmegaConf.select(cfg, "trainer.keep_checkpoint", default=False) is False:
        shutil.rmtree(run.checkpoint_dir, ignore_errors=True)


def overfitting_check(last_epoch: dict[str, Any], examples: int, say: Say) -> dict[str, Any]:
    """Chapter 17's first debugging step: a model that cannot fit a handful of examples perfectly
    has a bug or too little capacity. Reached when every head's training accuracy is >= 99 %."""
    accuracies = {k: v for k, v in last_epoch.items() if k.startswith("train/") and "accuracy" in k}
    if not accuracies:
        say(
            f"Overfitting check on {examples} examples: final training loss {last_epoch['train/loss']:.4g}."
        )
        return {}
    reached = all(value >= 0.99 for value in accuracies.values())
    shown = ", ".join(f"{k} {v:.1%}" for k, v in accuracies.items())
    say(
        f"Overfitting check on {examples} examples: {shown} - "
        + ("reached ~100 %, the model can fit them." if reached else "NOT ~100 %: train longer, "
           "raise the learning rate or the capacity, or look for a bug.")
    )  # fmt: skip
    return {"overfit/reached": reached}


def _test_metrics(model: keras.Model, data: PreparedData, batch_size: int) -> dict[str, float]:
    """`test/<metric>` for the trained model (plus `test/error` for accuracy), all finite."""
    metrics = measure_test_metrics(model, data, batch_size)
    if not all(math.isfinite(v) for v in metrics.values()):
        raise TrainingDivergedError(
            f"The trained model gives non-finite test metrics {metrics}; the run is marked failed. "
            "Lower optimizer.learning_rate or add gradient clipping (optimizer.clipnorm=1.0)."
        )
    return metrics


def _print_predictions(model: keras.Model, data: PreparedData, count: int, say: Say) -> None:
    """The first test examples next to the model's predictions, as the book prints them (chapter 6)."""
    count = min(count, len(data.x_test))
    batch = evaluation_dataset(data.x_test[:count], data.y_test[:count], count, data.transform)
    predictions = model.predict(batch, verbose=0)
    for index in range(count):
        truth, predicted = np.asarray(data.y_test[index]), predictions[index]
        if data.task == "classification":
            label = int(truth.argmax()) if truth.size > 1 else int(truth.reshape(-1)[0])
            say(f"test example {index}: label {label}, predicted {int(predicted.argmax())}")
        else:
            say(
                f"test example {index}: true value {float(truth.squeeze()):.1f}, "
                f"predicted {float(predicted[0]):.4f}"
            )
