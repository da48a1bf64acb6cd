"""The run's model step: a new model (or the checkpointed one, with its optimizer state), compiled
with the config's loss and metrics."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from omegaconf import DictConfig

from ldl.errors import ConfigError
from ldl.models import build_model
from ldl.runs.reporter import Say
from ldl.targets import plain
from ldl.training.checkpoint import Checkpointer, CheckpointState
from ldl.training.losses import fused_cross_entropy_on_cpu, smoothed_loss
from ldl.training.metrics import metric_objects
from ldl.training.optimizers import build_optimizer
from ldl.training.pipeline import num_examples
from ldl.training.run_context import Datasets, Runtime

MAX_STEPS_PER_EXECUTION = 1000


def steps_per_execution(setting: int, steps_per_epoch: int, replicas: int = 1) -> int:
    """Run many steps per tf.function call: batch-1 training is dominated by per-call overhead.

    Over several replicas, one step per call: Keras 3's multi-step loop fails under
    MirroredStrategy ("You must feed a value for placeholder tensor", keras-team/keras#19246;
    reproduced with TensorFlow 2.21 / Keras 3.15 on two logical CPU devices).
    """
    if replicas > 1:
        return 1
    if setting > 0:
        return setting
    return max(1, min(MAX_STEPS_PER_EXECUTION, steps_per_epoch))


def build_or_restore(
    cfg: DictConfig, runtime: Runtime, datasets: Datasets, checkpointer: Checkpointer, say: Say
) -> tuple[keras.Model, CheckpointState, dict[str, Any]]:
    """A new model (or the checkpointed one, with its optimizer state), compiled; the compile
    arguments are returned for the fine-tuning phase's recompile."""
    data = datasets.data
    with runtime.strategy.scope():
        if runtime.saved:
            model, state = checkpointer.restore(cfg.model)
            for note in checkpointer.skipped:
                say(note)
            optimizer = model.optimizer
            say(
                f"Resuming after epoch {state.epochs_completed} of {cfg.trainer.epochs} "
                f"(seed {runtime.seed})."
            )
        else:
            model = build_model(cfg.model, cfg.initializer, data.input_shape, data.num_outputs)
            set_initial_weights(model, data.initial_weights)
            optimizer = build_optimizer(cfg.optimizer)
            state = CheckpointState(epochs_completed=0, seed=runtime.seed, train_seconds=0.0)
        compile_arguments = {
            **loss_and_metrics(cfg),
            "steps_per_execution": steps_per_execution(
                cfg.trainer.steps_per_execution,
                datasets.train.steps_per_epoch,
                runtime.strategy.num_replicas_in_sync,
            ),
            "jit_compile": cfg.trainer.jit_compile,
        }
        model.compile(optimizer=optimizer, **compile_arguments)
    if cfg.trainer.print_summary:
        model.summary(print_fn=lambda line, **_: say(line))
    validating = num_examples(data.x_val) if data.x_val is not None else 0
    if datasets.validation == "test":
        validating = num_examples(data.x_test)
    say(
        f"device: {runtime.device} | seed: {runtime.seed} | parameters: {model.count_params():,} | "
        f"train/validation/test examples: {num_examples(data.x_train)}/{validating}"
        f"/{num_examples(data.x_test)}"
    )
    return model, state, compile_arguments


def set_initial_weights(model: keras.Model, weights: dict[str, list[np.ndarray]]) -> None:
    """Give named layers of a new model the dataset's starting weights (pretrained embeddings)."""
    for name, values in weights.items():
        names = [layer.name for layer in model.layers]
        if name not in names:
            raise ConfigError(
                f"The data supplies starting weights for a layer '{name}', but the model has none "
                f"(its layers: {', '.join(names)}); use a model with that layer."
            )
        layer = model.get_layer(name)
        expected = [tuple(weight.shape) for weight in layer.get_weights()]
        given = [tuple(np.shape(value)) for value in values]
        if expected != given:
            raise ConfigError(
                f"The data's starting weights for layer '{name}' have shapes {given}, the model's "
                f"{expected}; make the model's widths match them (e.g. model.embedding_dim = the "
                "vectors' dimension)."
            )
        layer.set_weights(values)


def loss_and_metrics(cfg: DictConfig) -> dict[str, Any]:
    """compile()'s loss, metrics and loss weights: one of each, or a mapping by output name for a
    model with several outputs (e.g. chapter 17's digit and answer heads)."""
    metrics = plain(cfg.metrics)
    loss = plain(cfg.loss)
    return {
        "loss": fused_cross_entropy_on_cpu(smoothed_loss(loss, cfg.get("label_smoothing", 0.0))),
        "metrics": metrics if isinstance(metrics, dict) else metric_objects(list(metrics), loss),
        "loss_weights": plain(cfg.get("loss_weights")),
    }
