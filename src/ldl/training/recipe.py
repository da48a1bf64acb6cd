"""The keras_fit runner: a short recipe of named steps from config to a trained, evaluated run folder.

    set up the runtime -> datasets -> build or restore the model -> validation batches (sized for the
    model) -> callbacks -> fit (both phases of transfer learning through one helper) -> evaluate and save

Tasks take part through their configs: a dataset's `test_report` and `metadata`, Keras callbacks named
in the `callbacks` config group. This module imports no task.
"""

from __future__ import annotations

import math
import secrets
import shutil
import sys
from dataclasses import dataclass, replace
from typing import Any

from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ldl import tf_setup
from ldl.config import hparams_of
from ldl.data.datasets import PreparedData, Validation, prepare_data, resolve_validation
from ldl.errors import ConfigError, TrainingDivergedError
from ldl.runs.files import write_json
from ldl.runs.report import plot_learning_curve, write_history
from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode
from ldl.targets import plain

tf = tf_setup.import_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from ldl.models import build_model  # noqa: E402
from ldl.training import callback_state, stop_signals, tensorboard_logs  # noqa: E402
from ldl.training.checkpoint import Checkpointer, CheckpointState  # noqa: E402
from ldl.training.distribution import distribution_strategy  # noqa: E402
from ldl.training.epoch_lines import EpochLines  # noqa: E402
from ldl.training.evaluate import measure_test_metrics  # noqa: E402
from ldl.training.evaluation_batch import evaluation_batch_size  # noqa: E402
from ldl.training.fine_tuning import (  # noqa: E402
    fine_tune_settings,
    phase_two_optimizer,
    unfreeze_top_layers,
)
from ldl.training.graph_loop import (  # noqa: E402
    LoopSetting,
    fit_in_graph,
    has_convolutions,
    uses_graph_loop,
)
from ldl.training.losses import fused_cross_entropy_on_cpu, smoothed_loss  # noqa: E402
from ldl.training.metrics import metric_objects  # noqa: E402
from ldl.training.optimizers import build_optimizer  # noqa: E402
from ldl.training.pipeline import (  # noqa: E402
    BatchTransform,
    EpochShuffledDataset,
    SetEpoch,
    evaluation_dataset,
    num_examples,
)
from ldl.training.recorder import CheckpointPolicy, RunRecorder  # noqa: E402

MAX_STEPS_PER_EXECUTION = 1000
# What the validation data of each kind are called in the learning-curve legend.
VALIDATION_LABELS = {
    "test": "test",
    "holdout": "validation",
    "last_fraction": "validation",
    "kfold": "validation fold",
}


@dataclass
class Runtime:
    seed: int
    saved: CheckpointState | None  # the checkpoint to resume from, if any
    strategy: Any  # tf.distribute.Strategy; the model is built under its scope
    device: str


@dataclass(frozen=True)
class Datasets:
    data: PreparedData
    validation: Validation
    train: Any  # EpochShuffledDataset, or a dataset's own lazily loaded batches (same interface)
    seed: int
    # Set once the model exists (batch_validation): trainer.eval_batch_size as a number, and the
    # validation data in batches of that size (a tf.data.Dataset, or None without validation data).
    eval_batch_size: int = 0
    validation_batches: Any = None


def train_keras(cfg: DictConfig, run: RunFolder, mode: RunMode, say: Say) -> dict[str, Any]:
    """Fit the configured Keras model and return the run's flat metrics (status completed)."""
    checkpointer = Checkpointer(run.checkpoint_dir)
    runtime = set_up_runtime(cfg, checkpointer if mode is RunMode.RESUME else None)
    datasets = load_datasets(cfg, runtime.seed, run)
    model, state, compile_arguments = build_or_restore(cfg, runtime, datasets, checkpointer, say)
    datasets = batch_validation(datasets, cfg, model)
    base_metrics = {
        "experiment": cfg.experiment_id,
        "seed": runtime.seed,
        "device": runtime.device,
        "parameters": model.count_params(),
        "train_examples": num_examples(datasets.data.x_train),
    }
    fine_tune_epochs = fine_tune_settings(cfg.get("fine_tune"))[0]
    recorder = RunRecorder(
        run,
        checkpointer,
        state,
        cfg.trainer.epochs + fine_tune_epochs,
        CheckpointPolicy.from_trainer(cfg.trainer),
        base_metrics,
    )
    callbacks = make_callbacks(cfg, run, model, datasets, recorder)
    if runtime.saved:
        for name in callback_state.unsaved(callbacks):
            say(f"note: the callback {name} keeps no saved state; it starts afresh at this resume.")
    # A first stop signal waits for the epoch's end (stop_signals.py); one that ends training
    # elsewhere (a report written at an epoch's end) still leaves the last completed epoch saved.
    with stop_signals.deferred():
        try:
            fit_phases(cfg, model, runtime, datasets, callbacks, recorder, compile_arguments, say)
        except KeyboardInterrupt:
            if not stop_signals.at_once():
                recorder.stop_at_last_completed_epoch()
            raise
    if recorder.diverged_at is not None:
        raise TrainingDivergedError(
            f"Training diverged: the loss became NaN or infinite in epoch {recorder.diverged_at}, so "
            "the run was stopped and marked failed. Lower optimizer.learning_rate, add gradient "
            "clipping (optimizer.clipnorm=1.0), or check the inputs for NaN; the last good epoch is in "
            f"{run.checkpoint_dir}."
        )
    return evaluate_and_save(cfg, run, model, datasets, recorder, base_metrics, say)


def set_up_runtime(cfg: DictConfig, resume_from: Checkpointer | None) -> Runtime:
    """Seed, threads, precision and determinism, and the distribution strategy, before any model."""
    trainer = cfg.trainer
    saved = resume_from.require_state() if resume_from else None
    if saved:
        seed = saved.seed
    else:
        # An unseeded run (the book's behaviour) draws a seed and records it, so it can be repeated.
        seed = trainer.seed if trainer.seed is not None else secrets.randbelow(2**31 - 1)
    # Fresh layer names for every run of a process (sweep jobs), so checkpoints match their models.
    # Without the full garbage collection Keras adds by default: about 0.4 s a job, and Python
    # collects the previous job's objects anyway.
    keras.backend.clear_session(free_memory=False)
    tf_setup.configure_threads(trainer.threads)
    tf_setup.configure_precision(trainer.precision)
    tf_setup.configure_determinism(seed, trainer.deterministic)
    # Created before the model, which is built under its scope (replicated on every local GPU).
    strategy = distribution_strategy(trainer.get("distribute"))
    device = tf_setup.device_description()
    if strategy.num_replicas_in_sync > 1:
        device += f" ({strategy.num_replicas_in_sync} replicas, {type(strategy).__name__})"
    return Runtime(seed, saved, strategy, device)


def _chain(first: BatchTransform | None, second: BatchTransform | None) -> BatchTransform | None:
    """Compose two optional batch transforms."""
    if first is None or second is None:
        return first or second
    return lambda features, targets: second(*first(features, targets))


def load_datasets(cfg: DictConfig, seed: int, run: RunFolder) -> Datasets:
    """The prepared data and the epoch-shuffled training batches (the validation batches follow
    the model: batch_validation)."""
    trainer = cfg.trainer
    data = prepare_data(
        cfg.data,
        cfg.data_dir,
        validation=trainer.validation,
        validation_fraction=trainer.validation_fraction,
        validation_seed=trainer.validation_seed,
        cv=cfg.get("cv"),
    )
    validation = resolve_validation(trainer.validation, cfg.get("cv"))
    if data.metadata:
        write_json(run.path / "data.json", data.metadata)
    if (
        data.batches is not None
    ):  # the dataset loads its batches itself (e.g. cached image features)
        train = data.batches("train", trainer.batch_size, seed, trainer.shuffle)
        return Datasets(data, validation, train, seed)
    train = EpochShuffledDataset(
        data.x_train,
        data.y_train,
        trainer.batch_size,
        seed=seed,
        shuffle=trainer.shuffle,
        transform=_chain(data.transform, data.train_transform),
    )
    return Datasets(data, validation, train, seed)


def batch_validation(datasets: Datasets, cfg: DictConfig, model: keras.Model) -> Datasets:
    """`datasets` with trainer.eval_batch_size resolved for `model` (training/evaluation_batch.py)
    and the validation data in batches of that size."""
    size = evaluation_batch_size(cfg.trainer.eval_batch_size, model, cfg.trainer.batch_size)
    data = datasets.data
    if data.batches is not None:  # the dataset loads its batches itself
        held_out = data.batches("test", size, datasets.seed, False)
        batches = held_out if datasets.validation == "test" else None
    else:
        x_val, y_val = validation_arrays(data, datasets.validation)
        batches = (
            evaluation_dataset(x_val, y_val, size, data.transform) if x_val is not None else None
        )
    return replace(datasets, eval_batch_size=size, validation_batches=batches)


def validation_arrays(data: PreparedData, validation: Validation) -> tuple[Any, Any]:
    """The validation features and targets; (None, None) without validation data."""
    if validation == "test":
        return data.x_test, data.y_test
    # holdout, last_fraction, kfold carve it from the training data; none has nothing
    return data.x_val, data.y_val


def _steps_per_execution(setting: int, steps_per_epoch: int, replicas: int = 1) -> int:
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
    cfg: DictConfig,
    runtime: Runtime,
    datasets: Datasets,
    checkpointer: Checkpointer,
    say: Say,
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
            "steps_per_execution": _steps_per_execution(
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


def _instantiate_callbacks(group: DictConfig | None) -> list[keras.callbacks.Callback]:
    if not group:
        return []
    return [instantiate(spec) for spec in group.values() if spec is not None]


def make_callbacks(
    cfg: DictConfig,
    run: RunFolder,
    model: keras.Model,
    datasets: Datasets,
    recorder: RunRecorder,
) -> list[keras.callbacks.Callback]:
    """ldl's own callbacks, then the `callbacks` and `logger` groups' (tasks plug theirs in there)."""
    callbacks: list[keras.callbacks.Callback] = [
        SetEpoch(datasets.train, datasets.data.train_transform),
        # Keras prints nothing per epoch without a terminal (verbosity); this line stands in for it.
        EpochLines(run, recorder.epochs, echo=verbosity(cfg.trainer.verbose) == 0
                   and cfg.trainer.verbose == "auto"),
    ]  # fmt: skip
    callbacks += _instantiate_callbacks(cfg.get("callbacks"))
    callbacks += _instantiate_callbacks(cfg.get("logger"))
    # Last, so that its checkpoints hold what every other callback made of each epoch.
    recorder.watch(callbacks)
    callbacks.append(recorder)
    if _logs_to_tensorboard(cfg):
        tensorboard_logs.write_hparams(str(run.tensorboard_dir), hparams_of(cfg), run.path.name)
        tensorboard_logs.write_model_graph(
            str(run.tensorboard_dir), model, datasets.data.input_shape
        )
    return callbacks


def _logs_to_tensorboard(cfg: DictConfig) -> bool:
    return "tensorboard" in (cfg.get("logger") or {})


def verbosity(setting: Any) -> int:
    """Keras's fit() verbosity: `auto` is a progress bar on a terminal and nothing otherwise (ldl's
    EpochLines then prints one compact line per epoch)."""
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 0
    return int(setting)


def fit_phases(
    cfg: DictConfig,
    model: keras.Model,
    runtime: Runtime,
    datasets: Datasets,
    callbacks: list[keras.callbacks.Callback],
    recorder: RunRecorder,
    compile_arguments: dict[str, Any],
    say: Say,
) -> None:
    """Train up to trainer.epochs; then, for transfer learning, unfreeze the top of the pretrained base
    and continue to trainer.epochs + fine_tune.epochs at the smaller learning rate (chapter 8)."""
    epochs = cfg.trainer.epochs
    resumed_after = recorder.state.epochs_completed
    if recorder.state.fits_ended == 0:
        fit(model, cfg, datasets, callbacks, _last_epoch(recorder, epochs), resumed_after)
    fine_tune_epochs, unfreeze_top, fine_tune_rate = fine_tune_settings(cfg.get("fine_tune"))
    if not fine_tune_epochs or recorder.diverged_at is not None or recorder.state.fits_ended > 1:
        return
    with runtime.strategy.scope():
        unfrozen = unfreeze_top_layers(model, unfreeze_top)
        # A run resumed inside phase 2 restored the phase-2 optimizer from its checkpoint.
        phase_two = recorder.state.epochs_completed <= epochs
        optimizer = phase_two_optimizer(model, fine_tune_rate) if phase_two else model.optimizer
        model.compile(optimizer=optimizer, **compile_arguments)
    say(
        f"Fine-tuning: {unfrozen} layers of the pretrained base unfrozen, learning rate "
        f"{fine_tune_rate:g}, epochs {epochs + 1}-{recorder.epochs}."
    )
    initial_epoch = max(recorder.state.epochs_completed, epochs)
    fit(model, cfg, datasets, callbacks, _last_epoch(recorder, recorder.epochs), initial_epoch)


def _last_epoch(recorder: RunRecorder, epochs: int) -> int:
    """Where a fit() call ends: `epochs`, or at once for a resumed run whose early stopping had
    already decided to stop (fit() then only runs the callbacks' train end: the best weights)."""
    state = recorder.state
    return state.epochs_completed if state.stop_training else epochs


def fit(
    model: keras.Model,
    cfg: DictConfig,
    datasets: Datasets,
    callbacks: list[keras.callbacks.Callback],
    epochs: int,
    initial_epoch: int,
) -> None:
    """One fit() call from `initial_epoch` to `epochs` (used by both transfer-learning phases), or
    the same epochs many per call into the graph where `trainer.loop` allows (training/graph_loop.py)."""
    if train_in_graph(model, cfg, datasets, callbacks, epochs, initial_epoch):
        return
    model.fit(
        datasets.train.dataset,
        epochs=epochs,
        initial_epoch=initial_epoch,
        validation_data=datasets.validation_batches,
        callbacks=callbacks,
        shuffle=False,  # the pipeline shuffles, keyed by (seed, epoch)
        verbose=verbosity(cfg.trainer.verbose),
    )


def train_in_graph(
    model: keras.Model,
    cfg: DictConfig,
    datasets: Datasets,
    callbacks: list[keras.callbacks.Callback],
    epochs: int,
    initial_epoch: int,
) -> bool:
    """Run the epochs through the multi-epoch graph loop if `trainer.loop` chooses it; say whether."""
    setting = LoopSetting(
        train=datasets.train,
        augmented=datasets.data.train_transform is not None,
        convolutional=has_convolutions(model),
    )
    if not uses_graph_loop(cfg, setting, callbacks):
        return False
    fit_in_graph(
        model,
        datasets.train,
        datasets.validation_batches,
        datasets.eval_batch_size,
        callbacks,
        epochs,
        initial_epoch,
        verbosity(cfg.trainer.verbose),
    )
    return True


def evaluate_and_save(
    cfg: DictConfig,
    run: RunFolder,
    model: keras.Model,
    datasets: Datasets,
    recorder: RunRecorder,
    base_metrics: dict[str, Any],
    say: Say,
) -> dict[str, Any]:
    """Test metrics and the task's report, the saved artefacts, and the run's flat metrics."""
    data, cross_validating = datasets.data, datasets.validation == "kfold"
    # Cross-validation chooses configurations; the test set is measured once, on the final model
    # (ldl retrain-best), never by the runs that take part in the choice (docs/sweeps.md).
    test_metrics = {} if cross_validating else _test_metrics(model, data, datasets.eval_batch_size)
    if data.test_report is not None and not cross_validating:
        test_metrics.update(data.test_report(model, run.path))
    if cfg.trainer.print_predictions and not cross_validating:
        _print_predictions(model, data, int(cfg.trainer.print_predictions), say)

    save_artifacts(cfg, run, model, datasets.validation, recorder.state.history, test_metrics)
    history = recorder.state.history
    if cfg.data.get("overfit_subset") and history:
        test_metrics.update(overfitting_check(history[-1], base_metrics["train_examples"], say))
    return {
        **base_metrics,
        "status": "completed",
        "epochs_completed": len(history),
        "train_seconds": recorder.state.train_seconds,
        **(history[-1] if history else {}),
        **test_metrics,
        "data_statistics": data.statistics,
    }


def save_artifacts(
    cfg: DictConfig,
    run: RunFolder,
    model: keras.Model,
    validation: Validation,
    history: list[dict[str, Any]],
    test_metrics: dict[str, float],
) -> None:
    """model.keras, history.csv, the learning curve and the final TensorBoard scalars; the checkpoint
    goes (unless trainer.keep_checkpoint) since model.keras now holds the finished run."""
    model.save(run.model_path)
    write_history(run.history_path, history)
    plot_learning_curve(
        run.learning_curve_path,
        history,
        title=cfg.experiment_id,
        validation_label=VALIDATION_LABELS.get(validation, ""),
    )
    if _logs_to_tensorboard(cfg):
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
