"""Many epochs per call into the graph, for training data held in memory (`trainer.loop`).

The book's small experiments (c6e1: 500 epochs of 26 batches of 16 Boston rows) spend most of their
time around the arithmetic, not in it: every `fit()` epoch opens a tf.data iterator, makes a
validation pass through `evaluate()` and calls Python callbacks. Here one `tf.function` runs a number of
whole epochs — each epoch's shuffle (the same (seed, epoch) permutation as the tf.data pipeline,
`EpochShuffledDataset.epoch_order`), its training steps (Keras's own `train_step`) and its validation
pass (`test_step` in `trainer.eval_batch_size` batches) — and returns every epoch's metrics. They are
then handed, epoch by epoch, to the same callbacks `fit()` would call: the recorder (history,
metrics.json, checkpoints), TensorBoard, NaN detection.

Only callbacks that read nothing but the epoch's logs may see epochs after the fact; `loop_blockers`
names what keeps a run on `fit()` (`trainer.loop=auto` then uses it).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any, Literal

import keras
from omegaconf import DictConfig

from ldl.errors import ConfigError
from ldl.training.backend import tf
from ldl.training.keras_internals import build_for_training, nested_layers
from ldl.training.pipeline import EpochShuffledDataset, SetEpoch
from ldl.training.recorder import RunRecorder
from ldl.training.run_context import RunContext
from ldl.training.tensorboard_logs import EpochScalars

Loop = Literal["auto", "fit", "graph"]
LOOPS: tuple[Loop, ...] = ("auto", "fit", "graph")
# Callbacks that only read each epoch's logs (or nothing at epoch ends), so they may be told about
# an epoch after later epochs have run. A callback class can join with `reads_epoch_logs_only = True`.
REPLAYABLE_CALLBACKS = (
    RunRecorder,
    SetEpoch,
    keras.callbacks.TensorBoard,
    keras.callbacks.TerminateOnNaN,
    keras.callbacks.History,
    keras.callbacks.CSVLogger,
)
# How long one call into the graph should last: long enough that its fixed cost vanishes, short
# enough that a due checkpoint or a stop signal waits at most about this long.
SECONDS_PER_CALL = 1.0


@dataclass(frozen=True)
class LoopSetting:
    """What decides between fit() and the graph loop, besides the config."""

    train: Any  # the training batches: an EpochShuffledDataset or a dataset's own
    augmented: bool  # the dataset transforms its training batches anew every epoch
    convolutional: bool = False  # the model has convolution layers


def has_convolutions(model: keras.Model) -> bool:
    """Whether any layer of `model` (nested models included) is a convolution."""
    return any("Conv" in type(layer).__name__ for layer in nested_layers(model))


def loop_blockers(
    cfg: DictConfig, setting: LoopSetting, callbacks: list[keras.callbacks.Callback]
) -> list[str]:
    """Why this run cannot use the graph loop; empty when it can."""
    reasons = []
    if not isinstance(setting.train, EpochShuffledDataset):
        reasons.append("the dataset loads its batches lazily")
    if setting.augmented:
        reasons.append("the training batches are augmented anew every epoch")
    if setting.convolutional:
        # Measured: the validation loss of a small CIFAR-10 convnet then differs from fit()'s in the
        # last float32 bits (the training numbers do not), and convnet steps are compute-bound, so
        # the graph loop would buy little for a broken equality.
        reasons.append("the model has convolution layers")
    if cfg.trainer.get("distribute"):
        reasons.append("training runs under a tf.distribute strategy")
    if (cfg.get("fine_tune") or {}).get("epochs"):
        reasons.append("transfer learning's second phase recompiles the model")
    if cfg.optimizer.get("schedule"):
        reasons.append("a learning-rate schedule (TensorBoard logs the rate at each epoch's end)")
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.TensorBoard) and (
            callback.histogram_freq or callback.embeddings_freq or callback.write_steps_per_second
        ):
            reasons.append(
                "TensorBoard histograms, embeddings or steps/s need each epoch as it ends"
            )
        elif not (
            isinstance(callback, REPLAYABLE_CALLBACKS)
            or getattr(callback, "reads_epoch_logs_only", False)
        ):
            reasons.append(f"the callback {type(callback).__name__} acts during training")
    return reasons


def uses_graph_loop(
    cfg: DictConfig, setting: LoopSetting, callbacks: list[keras.callbacks.Callback]
) -> bool:
    """`trainer.loop`: auto (the graph loop where it can run), fit, or graph (an error where it cannot)."""
    loop = cfg.trainer.loop
    if loop == "fit":
        return False
    blockers = loop_blockers(cfg, setting, callbacks)
    if loop == "graph" and blockers:
        raise ConfigError(
            "trainer.loop=graph cannot train this run: " + "; ".join(blockers) + ". Use "
            "trainer.loop=auto (which falls back to fit() here) or trainer.loop=fit."
        )
    return not blockers


def _metric_results(model: keras.Model) -> dict[str, Any]:
    """The model's metric values as tensors (Keras's get_metrics_result without the float())."""
    results: dict[str, Any] = {}
    for metric in model.metrics:
        value = metric.result()
        if isinstance(value, dict):
            results.update(value)
        else:
            results[metric.name] = value
    return results


def _gather(train: EpochShuffledDataset, indices: Any) -> tuple[Any, Any]:
    """The training examples at `indices`, as the tf.data pipeline gathers them."""
    x = tf.nest.map_structure(lambda array: tf.gather(array, indices), train.features)
    y = tf.nest.map_structure(lambda array: tf.gather(array, indices), train.targets)
    return x, y


def _rows(structure: Any, start: Any, stop: Any) -> Any:
    return tf.nest.map_structure(lambda tensor: tensor[start:stop], structure)


@dataclass
class _Arrays:
    """Features and targets as tensors (nested for several inputs or outputs)."""

    x: Any
    y: Any
    count: int


def _held_out(batches: Any) -> _Arrays:
    """The validation batches `fit()` would read, joined: the very tensors its tf.data pipeline
    makes (a batch transform such as CIFAR-10's standardization gives the same bits as there)."""
    parts = list(batches)
    x = tf.nest.map_structure(lambda *tensors: tf.concat(tensors, axis=0), *[p[0] for p in parts])
    y = tf.nest.map_structure(lambda *tensors: tf.concat(tensors, axis=0), *[p[1] for p in parts])
    return _Arrays(x, y, int(tf.nest.flatten(x)[0].shape[0]))


class GraphEpochs:
    """A tf.function that trains and validates `count` epochs from `first_epoch` and returns a
    [epochs run, metrics] tensor; it stops after the first epoch with a non-finite number, having
    saved the state before that epoch in the recorder's snapshot."""

    def __init__(
        self,
        model: keras.Model,
        train: EpochShuffledDataset,
        validation: _Arrays | None,
        eval_batch_size: int,
        recorder: RunRecorder,
    ) -> None:
        self.model = model
        self.train = train
        self.validation = validation
        self.eval_batch_size = eval_batch_size
        self.recorder = recorder
        self.names: list[str] = []
        self._function = tf.function(self._epochs)

    def __call__(self, first_epoch: int, count: int) -> list[dict[str, float]]:
        table = self._function(
            tf.constant(first_epoch, dtype=tf.int64), tf.constant(count, dtype=tf.int64)
        ).numpy()
        return [dict(zip(self.names, map(float, row), strict=True)) for row in table]

    def _epochs(self, first_epoch: Any, count: Any) -> Any:
        model, train = self.model, self.train
        batch_size = train.batch_size
        steps = tf.constant(train.steps_per_epoch, dtype=tf.int64)
        names = sorted(_metric_results(model))
        self.names = names + ([f"val_{name}" for name in names] if self.validation else [])
        table = tf.TensorArray(tf.float32, size=tf.cast(count, tf.int32))
        epochs_run = tf.constant(0, dtype=tf.int64)
        snapshot = self.recorder._snapshot()
        for index in tf.range(count):
            snapshot.save_in_graph()  # the state before this epoch, in case it ends non-finite
            model.reset_metrics()
            order = train.epoch_order(first_epoch + index)
            for step in tf.range(steps):
                x, y = _gather(train, order[step * batch_size : (step + 1) * batch_size])
                model.train_step(train.transform(x, y) if train.transform else (x, y))
            results = _metric_results(model)
            row = [tf.cast(results[name], tf.float32) for name in names]
            if self.validation is not None:
                row += self._validate(names)
            values = tf.stack(row)
            table = table.write(tf.cast(index, tf.int32), values)
            epochs_run = index + 1
            if not tf.reduce_all(tf.math.is_finite(values)):
                break
        return table.stack()[: tf.cast(epochs_run, tf.int32)]

    def _validate(self, names: list[str]) -> list[Any]:
        validation = self.validation
        assert validation is not None
        self.model.reset_metrics()
        size = self.eval_batch_size
        for step in tf.range(math.ceil(validation.count / size)):
            x = _rows(validation.x, step * size, (step + 1) * size)
            y = _rows(validation.y, step * size, (step + 1) * size)
            self.model.test_step((x, y))
        results = _metric_results(self.model)
        return [tf.cast(results[name], tf.float32) for name in names]


class CallSizer:
    """How many epochs the next call runs: from 1, doubling until a call lasts about
    `SECONDS_PER_CALL`, then as many as fit in that time."""

    def __init__(self) -> None:
        self.count = 1
        self._calls = 0

    def next(self, remaining: int) -> int:
        return max(1, min(self.count, remaining))

    def measured(self, epochs: int, seconds: float) -> None:
        self._calls += 1
        if self._calls == 1 or seconds <= 0:  # the first call includes tracing the function
            self.count = 2 * epochs
            return
        fitting = max(1, int(SECONDS_PER_CALL * epochs / seconds))
        self.count = min(2 * epochs, fitting)


def _log_line(epoch: int, epochs: int, logs: dict[str, float]) -> str:
    numbers = " - ".join(f"{name}: {value:.4f}" for name, value in logs.items())
    return f"Epoch {epoch + 1}/{epochs} - {numbers}"


def _replay(
    rows: list[dict[str, float]],
    first_epoch: int,
    epochs: int,
    recorder: RunRecorder,
    per_epoch: keras.callbacks.CallbackList,
    verbose: int,
) -> dict[str, float]:
    """Tell the callbacks about each epoch of one call in turn; the last epoch's logs."""
    recorder.holds_epoch = first_epoch + len(rows) - 1  # the model holds the call's last epoch
    logs: dict[str, float] = {}
    try:
        for epoch, logs in enumerate(rows, start=first_epoch):
            per_epoch.on_epoch_begin(epoch)
            per_epoch.on_epoch_end(epoch, logs)
            if verbose:
                print(_log_line(epoch, epochs, logs), file=sys.stdout, flush=True)
    finally:
        recorder.holds_epoch = None
    return logs


def fit_in_graph(context: RunContext, epochs: int, initial_epoch: int, verbose: int) -> None:
    """Train the run's model from `initial_epoch` to `epochs` as `fit()` would, many epochs per call.

    The validation batches are the tf.data dataset `fit()` would validate on (None without validation
    data); they are read once, transformed as `fit()` sees them, and held as tensors."""
    model, callbacks = context.model, context.callbacks
    datasets = context.datasets
    train, validation_batches = datasets.train, datasets.validation_batches
    recorder = next((c for c in callbacks if isinstance(c, RunRecorder)), None)
    if recorder is None:
        raise ValueError("the graph loop keeps its last good state in the run's RunRecorder")
    x, y = train.features, train.targets
    # fit() builds the optimizer and metric variables before its first step; so must we.
    first = (_rows(x, 0, 1), _rows(y, 0, 1))
    build_for_training(model, train.transform(*first) if train.transform else first)
    held_out = _held_out(validation_batches) if validation_batches is not None else None
    settings = {"model": model, "epochs": epochs, "steps": train.steps_per_epoch, "verbose": 0}
    callback_list = keras.callbacks.CallbackList(callbacks, **settings)
    # Keras's TensorBoard callbacks get each call's epochs in one write (tensorboard_logs.EpochScalars);
    # every other callback is told about each epoch in turn.
    tensorboards = [c for c in callbacks if isinstance(c, keras.callbacks.TensorBoard)]
    scalars = [EpochScalars(c.log_dir) for c in tensorboards]
    per_epoch = keras.callbacks.CallbackList(
        [c for c in callbacks if not isinstance(c, keras.callbacks.TensorBoard)], **settings
    )
    model.stop_training = False
    callback_list.on_train_begin()
    run = GraphEpochs(model, train, held_out, datasets.eval_batch_size, recorder)
    sizer = CallSizer()
    epoch, logs = initial_epoch, {}
    while epoch < epochs and not model.stop_training:
        count = sizer.next(epochs - epoch)
        started = time.perf_counter()
        rows = run(epoch, count)
        seconds = time.perf_counter() - started
        sizer.measured(len(rows), seconds)
        for callback in callbacks:  # e.g. EpochLines: the epochs of one call are timed together
            if hasattr(callback, "epoch_seconds"):
                callback.epoch_seconds = seconds / max(1, len(rows))
        learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        for writer in scalars:
            writer.write(epoch, rows, learning_rate)
        logs = _replay(rows, epoch, epochs, recorder, per_epoch, verbose)
        epoch += len(rows)
    model.optimizer.finalize_variable_values(model.trainable_weights)
    for writer in scalars:
        writer.close()
    callback_list.on_train_end(logs)
