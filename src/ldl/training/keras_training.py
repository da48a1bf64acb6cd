"""The Keras half of `train`: data pipeline, model, `fit()`, checkpoints, logs and final evaluation."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ldl import tf_setup
from ldl.data.datasets import prepare_data, resolve_validation
from ldl.errors import ConfigError, TrainingDivergedError
from ldl.runs.files import write_json
from ldl.runs.report import keras_logs_to_row, plot_learning_curve, write_history
from ldl.runs.run_folder import RunFolder

tf = tf_setup.import_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from ldl.models import build_model  # noqa: E402
from ldl.training.checkpoint import Checkpointer, CheckpointState  # noqa: E402
from ldl.training.distribution import distribution_strategy  # noqa: E402
from ldl.training.fine_tuning import (  # noqa: E402
    fine_tune_settings,
    phase_two_optimizer,
    unfreeze_top_layers,
)
from ldl.training.optimizers import build_optimizer  # noqa: E402
from ldl.training.pipeline import (  # noqa: E402
    EpochShuffledDataset,
    SetEpoch,
    evaluation_dataset,
    num_examples,
)
from ldl.training.train import draw_seed, hparams_of, is_finite_logs, verbosity  # noqa: E402

MAX_STEPS_PER_EXECUTION = 1000


class RunRecorder(keras.callbacks.Callback):
    """After every epoch: append to the history, refresh metrics.json, and checkpoint.

    A NaN or infinite loss stops training here (before a checkpoint could store the diverged weights).
    """

    def __init__(
        self,
        run: RunFolder,
        checkpointer: Checkpointer,
        state: CheckpointState,
        epochs: int,
        checkpoint_every: int,
        base_metrics: dict[str, Any],
    ) -> None:
        super().__init__()
        self.run = run
        self.checkpointer = checkpointer
        self.state = state
        self.epochs = epochs
        self.checkpoint_every = checkpoint_every
        self.base_metrics = base_metrics
        self.diverged_at: int | None = None
        self._started = 0.0
        self._seconds_before = state.train_seconds

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def seconds(self) -> float:
        return self._seconds_before + time.perf_counter() - self._started

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if logs and not is_finite_logs({"loss": logs.get("loss", 0.0)}):
            self.diverged_at = len(self.state.history) + 1
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        if not is_finite_logs(logs):
            self.diverged_at = epoch + 1
            self.model.stop_training = True
            return
        self.state.history.append(keras_logs_to_row(logs))
        self.state.epochs_completed = epoch + 1
        self.state.train_seconds = self.seconds()
        write_json(
            self.run.metrics_path,
            {
                **self.base_metrics,
                "status": "running",
                "epochs_completed": epoch + 1,
                "train_seconds": self.state.train_seconds,
                **self.state.history[-1],
            },
        )
        if (epoch + 1) % self.checkpoint_every == 0 or epoch + 1 == self.epochs:
            self.checkpointer.save(self.model, self.state)


def _chain(first: Any, second: Any) -> Any:
    """Compose two optional batch transforms."""
    if first is None or second is None:
        return first or second
    return lambda features, targets: second(*first(features, targets))


def _steps_per_execution(setting: int, steps_per_epoch: int) -> int:
    """Run many steps per tf.function call: batch-1 training is dominated by per-call overhead."""
    if setting > 0:
        return setting
    return max(1, min(MAX_STEPS_PER_EXECUTION, steps_per_epoch))


def _lazy_batches(data: Any, validation: str, trainer: Any, seed: int) -> tuple[Any, Any, Any]:
    """(train, validation, test) PyDatasets of a dataset that loads its batches lazily."""
    if validation not in ("test", "none"):
        raise ConfigError(
            f"trainer.validation={validation} cannot be carved from this dataset's lazily loaded "
            "batches; use test (its held-out images are the validation data) or none."
        )
    train = data.batches("train", trainer.batch_size, seed, trainer.shuffle)
    if train is None:
        raise ConfigError("The dataset has no training examples; lower data.test_fraction.")
    test = data.batches("test", trainer.eval_batch_size, seed, False)
    return train, test if validation == "test" else None, test


def _instantiate_callbacks(group: DictConfig | None) -> list[keras.callbacks.Callback]:
    if not group:
        return []
    return [instantiate(spec) for spec in group.values() if spec is not None]


def _write_hparams(log_dir: str, hparams: dict[str, Any], run_name: str) -> None:
    from tensorboard.plugins.hparams import api as hp

    with tf.summary.create_file_writer(log_dir).as_default():
        hp.hparams(hparams, trial_id=run_name)


def _write_model_graph(log_dir: str, model: keras.Model, input_shape: tuple[Any, ...]) -> None:
    """The op-level graph of the forward pass (Keras's callback adds the conceptual Keras graph)."""
    forward = tf.function(lambda inputs: model(inputs, training=False))
    if len(model.inputs) > 1:  # several inputs (e.g. source and decoder input): their own specs
        spec: Any = [tf.TensorSpec(tensor.shape, tensor.dtype) for tensor in model.inputs]
    else:
        dtype = model.inputs[0].dtype if model.inputs else tf.float32  # token ids are integers
        spec = tf.TensorSpec((None, *input_shape), dtype)
    concrete = forward.get_concrete_function(spec)
    with tf.summary.create_file_writer(log_dir).as_default():
        tf.summary.graph(concrete.graph)


def _write_final_scalars(log_dir: str, metrics: dict[str, Any], step: int) -> None:
    with tf.summary.create_file_writer(log_dir).as_default():
        for key, value in metrics.items():
            if key.startswith(("val/", "test/")) and isinstance(value, int | float):
                tf.summary.scalar(key, value, step=step)


def _print_predictions(
    model: keras.Model, data: Any, count: int, say: Callable[[str], None]
) -> None:
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
                f"test example {index}: true value {float(truth.squeeze()):.1f}, predicted {float(predicted[0]):.4f}"
            )


def train_keras(
    cfg: DictConfig, run: RunFolder, mode: str, say: Callable[[str], None]
) -> dict[str, Any]:
    """Fit the configured Keras model and return the run's flat metrics (status completed)."""
    trainer = cfg.trainer
    checkpointer = Checkpointer(run.checkpoint_dir)
    saved = checkpointer.load_state() if mode == "resume" else None
    seed = saved.seed if saved else trainer.seed if trainer.seed is not None else draw_seed()

    keras.backend.clear_session()
    tf_setup.configure_threads(trainer.threads)
    tf_setup.configure_precision(trainer.precision)
    tf_setup.configure_determinism(seed, trainer.deterministic)
    # Created before the model, which is built under its scope (replicated on every local GPU).
    strategy = distribution_strategy(trainer.get("distribute"))
    device = tf_setup.device_description()
    if strategy.num_replicas_in_sync > 1:
        device += f" ({strategy.num_replicas_in_sync} replicas, {type(strategy).__name__})"

    data = prepare_data(
        cfg.data,
        cfg.data_dir,
        validation=trainer.validation,
        validation_fraction=trainer.validation_fraction,
        validation_seed=trainer.validation_seed,
        cv=cfg.get("cv"),
    )
    validation = resolve_validation(trainer.validation, cfg.get("cv"))
    test_data = None
    if data.batches is not None:
        train_data, validation_data, test_data = _lazy_batches(data, validation, trainer, seed)
    else:
        train_data = EpochShuffledDataset(
            data.x_train,
            data.y_train,
            trainer.batch_size,
            seed=seed,
            shuffle=trainer.shuffle,
            transform=_chain(data.transform, data.train_transform),
        )
        if validation == "test":
            validation_data = evaluation_dataset(
                data.x_test, data.y_test, trainer.eval_batch_size, data.transform
            )
        elif data.x_val is not None:  # holdout, last_fraction
            validation_data = evaluation_dataset(
                data.x_val, data.y_val, trainer.eval_batch_size, data.transform
            )
        else:
            validation_data = None
    if data.metadata:
        write_json(run.path / "data.json", data.metadata)

    with strategy.scope():
        if saved:
            model, saved = checkpointer.restore()
            optimizer = model.optimizer
            say(f"Resuming after epoch {saved.epochs_completed} of {trainer.epochs} (seed {seed}).")
        else:
            model = build_model(cfg.model, cfg.initializer, data.input_shape, data.num_outputs)
            optimizer = build_optimizer(cfg.optimizer)
            saved = CheckpointState(epochs_completed=0, seed=seed, train_seconds=0.0)
        compile_arguments = {
            "loss": cfg.loss,
            "metrics": list(cfg.metrics),
            "steps_per_execution": _steps_per_execution(
                trainer.steps_per_execution, train_data.steps_per_epoch
            ),
            "jit_compile": trainer.jit_compile,
        }
        model.compile(optimizer=optimizer, **compile_arguments)
    parameters = model.count_params()
    say(
        f"device: {device} | seed: {seed} | parameters: {parameters:,} | "
        f"train/validation/test examples: {num_examples(data.x_train)}/"
        f"{num_examples(data.x_val) if data.x_val is not None else (num_examples(data.x_test) if validation_data is not None else 0)}"
        f"/{num_examples(data.x_test)}"
    )
    base_metrics = {
        "experiment": cfg.experiment_id,
        "seed": seed,
        "device": device,
        "parameters": parameters,
    }
    # Transfer learning's fine-tuning phase continues the same run after trainer.epochs.
    fine_tune_epochs, unfreeze_top, fine_tune_rate = fine_tune_settings(cfg.get("fine_tune"))
    total_epochs = trainer.epochs + fine_tune_epochs
    resumed_after = saved.epochs_completed
    recorder = RunRecorder(
        run, checkpointer, saved, total_epochs, trainer.checkpoint_every, base_metrics
    )
    callbacks: list[keras.callbacks.Callback] = [
        SetEpoch(train_data, data.train_transform),
        recorder,
    ]
    callbacks += _instantiate_callbacks(cfg.get("callbacks"))
    loggers = _instantiate_callbacks(cfg.get("logger"))
    callbacks += loggers
    tensorboard = "tensorboard" in (cfg.get("logger") or {})
    if tensorboard:
        _write_hparams(str(run.tensorboard_dir), hparams_of(cfg), run.path.name)
        _write_model_graph(str(run.tensorboard_dir), model, data.input_shape)

    if saved.epochs_completed < trainer.epochs:
        model.fit(
            train_data.dataset,
            epochs=trainer.epochs,
            initial_epoch=saved.epochs_completed,
            validation_data=validation_data,
            callbacks=callbacks,
            shuffle=False,  # the pipeline shuffles, keyed by (seed, epoch)
            verbose=verbosity(trainer.verbose),
        )
    if fine_tune_epochs and recorder.diverged_at is None:
        with strategy.scope():
            unfrozen = unfreeze_top_layers(model, unfreeze_top)
            if resumed_after < trainer.epochs:  # else the checkpoint holds the phase-2 optimizer
                model.compile(
                    optimizer=phase_two_optimizer(model, fine_tune_rate), **compile_arguments
                )
            else:
                model.compile(optimizer=model.optimizer, **compile_arguments)
        say(
            f"Fine-tuning: {unfrozen} layers of the pretrained base unfrozen, learning rate "
            f"{fine_tune_rate:g}, epochs {trainer.epochs + 1}-{total_epochs}."
        )
        model.fit(
            train_data.dataset,
            epochs=total_epochs,
            initial_epoch=max(recorder.state.epochs_completed, trainer.epochs),
            validation_data=validation_data,
            callbacks=callbacks,
            shuffle=False,
            verbose=verbosity(trainer.verbose),
        )
    history = recorder.state.history
    if recorder.diverged_at is not None:
        raise TrainingDivergedError(
            f"Training diverged: the loss became NaN or infinite in epoch {recorder.diverged_at}, so "
            "the run was stopped and marked failed. Lower optimizer.learning_rate, add gradient "
            "clipping (optimizer.clipnorm=1.0), or check the inputs for NaN; the last good epoch is in "
            f"{run.checkpoint_dir}."
        )

    if data.batches is not None and test_data is None:  # nothing held out (e.g. the book's c16e2)
        test_metrics: dict[str, float] = {}
    elif validation == "kfold":
        # Cross-validation chooses configurations; the test set is measured once, on the final model
        # (ldl retrain-best), never by the runs that take part in the choice (spec section 4).
        test_metrics = {}
    else:
        test_logs = model.evaluate(
            test_data
            if test_data is not None
            else evaluation_dataset(
                data.x_test, data.y_test, trainer.eval_batch_size, data.transform
            ),
            verbose=0,
            return_dict=True,
        )
        test_metrics = {f"test/{k}": float(v) for k, v in test_logs.items()}
    if "test/accuracy" in test_metrics:
        test_metrics["test/error"] = 1.0 - test_metrics["test/accuracy"]
    if not all(math.isfinite(v) for v in test_metrics.values()):
        raise TrainingDivergedError(
            f"The trained model gives non-finite test metrics {test_metrics}; the run is marked failed. "
            "Lower optimizer.learning_rate or add gradient clipping (optimizer.clipnorm=1.0)."
        )

    if data.test_report is not None and validation != "kfold":
        test_metrics.update(data.test_report(model, run.path))
    if trainer.print_predictions and validation != "kfold":
        _print_predictions(model, data, int(trainer.print_predictions), say)

    model.save(run.model_path)
    write_history(run.history_path, history)
    validation_label = {
        "test": "test",
        "holdout": "validation",
        "last_fraction": "validation",
        "kfold": "validation fold",
    }.get(validation, "")
    plot_learning_curve(
        run.learning_curve_path,
        history,
        title=f"{cfg.experiment_id}: error per epoch",
        validation_label=validation_label,
    )
    if tensorboard:
        final_validation = {
            k: v for k, v in (history[-1] if history else {}).items() if k.startswith("val/")
        }
        _write_final_scalars(
            str(run.tensorboard_dir), {**final_validation, **test_metrics}, len(history)
        )
    metrics = {
        **base_metrics,
        "status": "completed",
        "epochs_completed": len(history),
        "train_seconds": recorder.state.train_seconds,
        **(history[-1] if history else {}),
        **test_metrics,
        "data_statistics": data.statistics,
    }
    if OmegaConf.select(cfg, "trainer.keep_checkpoint", default=False) is False:
        import shutil

        shutil.rmtree(run.checkpoint_dir, ignore_errors=True)
    return metrics
