"""The members of a population trained in one graph: many epochs of every member per call.

A population (`training/population.py`) is K models of one configuration — the k folds of a
cross-validation, or K seeds — each with its own weights, optimizer (and so its own Adam moments),
training examples, shuffle order, dropout generators and validation data. One `tf.function` runs a
number of whole epochs of all of them: each epoch, every member draws its own (seed, epoch)
permutation, takes its own training steps with Keras's own `train_step` and validates on its own
held-out data, exactly as the single-model graph loop (`training/graph_loop.py`) does for one model.
The members share nothing but the call: the per-call and per-step overhead that dominates the book's
small networks is paid once per step instead of once per member, and the members' operations are
independent, so each member computes bit for bit what it computes alone.

Members of different sizes (folds of 80 and 81 rows) need no padding or masks: the steps every
member takes run in one loop, and a member with more steps per epoch takes its extra steps in a loop
of its own after that, so no member's batches change. Members may also be at different epochs (a
resumed population whose members' checkpoints were written at different epochs).

After each call, each member's epochs are handed to that member's callbacks in turn, as the graph
loop does for one model: recorder (history, metrics.json, checkpoints), epoch lines, TensorBoard.

Where the model allows (`stacks`, `trainer.population`), the epochs run stacked instead
(`training/stacked_loop.py`: the members' weights one variable, one optimizer update), with the same
tables, callbacks and results.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras

from ldl.training.backend import tf
from ldl.training.graph_loop import (
    CallSizer,
    _Arrays,
    _gather,
    _held_out,
    _metric_results,
    _replay,
    _rows,
)
from ldl.training.keras_internals import build_for_training
from ldl.training.pipeline import EpochShuffledDataset
from ldl.training.recorder import RunRecorder
from ldl.training.tensorboard_logs import EpochScalars


@dataclass
class LoopMember:
    """One member as the loop sees it: its compiled model, data and callbacks, and where it is."""

    model: keras.Model
    train: EpochShuffledDataset
    validation_batches: Any  # the tf.data dataset fit() would validate on, or None
    eval_batch_size: int
    callbacks: list[keras.callbacks.Callback]
    epochs: int  # train until this epoch
    epoch: int  # the epochs completed so far
    held_out: _Arrays | None = None
    names: list[str] = field(default_factory=list)
    recorder: RunRecorder | None = None
    per_epoch: Any = None
    scalars: list[EpochScalars] = field(default_factory=list)
    callback_list: Any = None
    interrupted: bool = False

    @property
    def active(self) -> bool:
        return (
            self.epoch < self.epochs
            and not self.model.stop_training
            and not self.interrupted
            and (self.recorder is None or self.recorder.diverged_at is None)
        )


class PopulationEpochs:
    """A tf.function that trains and validates `count` epochs of every member, member k from its
    own first epoch, and returns one [epochs run, metrics] table per member; it stops after the
    first epoch in which any member's numbers are not finite (each member's recorder holds the state
    before that epoch in its snapshot)."""

    def __init__(self, members: list[LoopMember]) -> None:
        self.members = members
        self._function = tf.function(self._epochs)

    def __call__(self, count: int) -> list[list[dict[str, float]]]:
        first = tf.constant([m.epoch for m in self.members], dtype=tf.int64)
        table = self._function(first, tf.constant(count, dtype=tf.int64)).numpy()
        tables, start = [], 0
        for member in self.members:  # each member's columns of the joint table
            stop = start + len(member.names)
            tables.append(
                [dict(zip(member.names, map(float, row[start:stop]), strict=True)) for row in table]
            )
            start = stop
        return tables

    def _epochs(self, first_epochs: Any, count: Any) -> Any:
        members = self.members
        for member in members:
            names = sorted(_metric_results(member.model))
            member.names = names + ([f"val_{n}" for n in names] if member.held_out else [])
        # One row per epoch: every member's metrics side by side (a Python list of tensor arrays
        # would not be a loop variable of the compiled loop).
        table = tf.TensorArray(tf.float32, size=tf.cast(count, tf.int32))
        epochs_run = tf.constant(0, dtype=tf.int64)
        snapshots = [m.recorder._snapshot() for m in members if m.recorder is not None]
        common_steps = min(m.train.steps_per_epoch for m in members)
        for index in tf.range(count):
            for snapshot in snapshots:
                snapshot.save_in_graph()  # the state before this epoch, in case it ends non-finite
            orders = []
            for k, member in enumerate(members):
                member.model.reset_metrics()
                orders.append(member.train.epoch_order(first_epochs[k] + index))
            # The steps all members take, in one loop; then each member's extra steps alone.
            for step in tf.range(tf.constant(common_steps, dtype=tf.int64)):
                for member, order in zip(members, orders, strict=True):
                    _train_step(member, order, step)
            for member, order in zip(members, orders, strict=True):
                extra = member.train.steps_per_epoch - common_steps
                if extra:
                    for step in tf.range(
                        tf.constant(common_steps, dtype=tf.int64),
                        tf.constant(member.train.steps_per_epoch, dtype=tf.int64),
                    ):
                        _train_step(member, order, step)
            values = tf.concat([_epoch_row(member) for member in members], axis=0)
            table = table.write(tf.cast(index, tf.int32), values)
            epochs_run = index + 1
            if not tf.reduce_all(tf.math.is_finite(values)):
                break
        return table.stack()[: tf.cast(epochs_run, tf.int32)]


def _train_step(member: LoopMember, order: Any, step: Any) -> None:
    train = member.train
    size = train.batch_size
    x, y = _gather(train, order[step * size : (step + 1) * size])
    member.model.train_step(train.transform(x, y) if train.transform else (x, y))


def _epoch_row(member: LoopMember) -> Any:
    """The member's training metrics of the epoch, then its validation pass's."""
    model = member.model
    names = sorted(_metric_results(model))
    results = _metric_results(model)
    row = [tf.cast(results[name], tf.float32) for name in names]
    held_out = member.held_out
    if held_out is not None:
        model.reset_metrics()
        size = member.eval_batch_size
        for step in tf.range(math.ceil(held_out.count / size)):
            x = _rows(held_out.x, step * size, (step + 1) * size)
            y = _rows(held_out.y, step * size, (step + 1) * size)
            model.test_step((x, y))
        results = _metric_results(model)
        row += [tf.cast(results[name], tf.float32) for name in names]
    return tf.stack(row)


def _begin(member: LoopMember) -> None:
    """What fit_in_graph does before its first call, for one member."""
    model, train = member.model, member.train
    member.recorder = next((c for c in member.callbacks if isinstance(c, RunRecorder)), None)
    if member.recorder is None:
        raise ValueError("a population member keeps its last good state in its RunRecorder")
    first = (_rows(train.features, 0, 1), _rows(train.targets, 0, 1))
    build_for_training(model, train.transform(*first) if train.transform else first)
    if member.validation_batches is not None:
        member.held_out = _held_out(member.validation_batches)
    settings = {"model": model, "epochs": member.epochs, "steps": train.steps_per_epoch}
    member.callback_list = keras.callbacks.CallbackList(member.callbacks, **settings, verbose=0)
    tensorboards = [c for c in member.callbacks if isinstance(c, keras.callbacks.TensorBoard)]
    member.scalars = [EpochScalars(c.log_dir) for c in tensorboards]
    member.per_epoch = keras.callbacks.CallbackList(
        [c for c in member.callbacks if not isinstance(c, keras.callbacks.TensorBoard)],
        **settings,
        verbose=0,
    )
    model.stop_training = False
    member.callback_list.on_train_begin()


def _report(member: LoopMember, rows: list[dict[str, float]], seconds: float, verbose: int) -> None:
    """Hand one call's epochs to the member's callbacks; a stop request marks it interrupted."""
    for callback in member.callbacks:
        if hasattr(callback, "epoch_seconds"):
            callback.epoch_seconds = seconds / max(1, len(rows))
    learning_rate = float(keras.ops.convert_to_numpy(member.model.optimizer.learning_rate))
    for writer in member.scalars:
        writer.write(member.epoch, rows, learning_rate)
    assert member.recorder is not None
    try:
        _replay(rows, member.epoch, member.epochs, member.recorder, member.per_epoch, verbose)
    except KeyboardInterrupt:  # the recorder checkpointed the member; the others get their turn
        member.interrupted = True
    member.epoch += len(rows)


def _end(member: LoopMember, logs: dict[str, float]) -> None:
    member.model.optimizer.finalize_variable_values(member.model.trainable_weights)
    for writer in member.scalars:
        writer.close()
    member.callback_list.on_train_end(logs)


def stacks(members: list[LoopMember], population: str, say: Callable[[str], None]) -> bool:
    """`trainer.population`: whether the members train stacked (training/stacked.py). auto stacks
    members that can be stacked and have at most STACKED_PARAMETERS parameters, and says in one line
    why not otherwise; stacked stacks whatever the size and refuses members that cannot be."""
    from ldl.training.stacked import STACKED_PARAMETERS, stacking_blockers, unstackable
    from ldl.training.stacked_loop import data_blockers

    if population == "separate" or not members:
        return False
    blockers = stacking_blockers([m.model for m in members], data_blockers(members))
    parameters = sum(math.prod(w.shape) for w in members[0].model.trainable_weights)
    if population == "auto" and not blockers and parameters > STACKED_PARAMETERS:
        say(
            f"The members train as separate models in one graph, not stacked: {parameters:,} "
            f"parameters per member (stacking is faster up to {STACKED_PARAMETERS:,}; "
            "trainer.population=stacked stacks them anyway)."
        )
        return False
    if blockers and population == "stacked":
        raise unstackable(blockers)
    if blockers:
        say(
            f"The members train as separate models in one graph, not stacked: {'; '.join(blockers)}."
        )
    return not blockers


def _epochs_of(active: list[LoopMember], stacked: bool) -> Any:
    """The tf.function running the active members' epochs, stacked or as separate models."""
    if not stacked:
        return PopulationEpochs(active)
    from ldl.training.stacked_loop import StackedEpochs

    return StackedEpochs(active)


def fit_population_in_graph(
    members: list[LoopMember],
    verbose: int,
    population: str = "separate",
    say: Callable[[str], None] = print,
) -> None:
    """Train every member from its `epoch` to its `epochs` as `fit()` would train it alone, all of
    them in each call (`population`: auto, stacked or separate, see `stacks`). A member that diverges
    or is stopped leaves the population; the others go on. KeyboardInterrupt once every member has
    been checkpointed after a stop request."""
    for member in members:
        _begin(member)
    stacked = stacks(members, population, say)
    last_logs: dict[int, dict[str, float]] = {}
    ended: set[int] = set()
    while any(m.active for m in members):
        active = [m for m in members if m.active]
        run = _epochs_of(
            active, stacked
        )  # made anew (from the members) when the population changes
        sizer = CallSizer()
        while all(m.active for m in active):
            count = sizer.next(min(m.epochs - m.epoch for m in active))
            started = time.perf_counter()
            tables = run(count)
            seconds = time.perf_counter() - started
            sizer.measured(len(tables[0]), seconds)
            for member, rows in zip(active, tables, strict=True):
                _report(member, rows, seconds, verbose)
                if rows:
                    last_logs[id(member)] = rows[-1]
            if any(m.interrupted for m in members):
                break
        for member in active:  # its fit() would end here: its last checkpoint is written now
            if not member.active and not member.interrupted and id(member) not in ended:
                ended.add(id(member))
                _end(member, last_logs.get(id(member), {}))
        if any(m.interrupted for m in members):
            # Every member still training has been told about the stop request at its last epoch.
            for member in members:
                if member.active and member.recorder is not None:
                    member.recorder.stop_at_last_completed_epoch()
            raise KeyboardInterrupt
    for member in members:
        if id(member) not in ended:
            _end(member, last_logs.get(id(member), {}))
