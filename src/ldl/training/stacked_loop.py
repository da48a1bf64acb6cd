"""Epochs of a stacked population (`training/stacked.py`) in one tf.function.

`StackedEpochs` is what `population_loop.PopulationEpochs` is for K separate models, with the same
call and the same table: each epoch, every member draws its own (seed, epoch) permutation, and each
training step takes every member's next batch through its own forward pass and loss, and one
optimizer update then moves all members. A member with fewer steps per epoch (folds of 80 and 81
rows) sits out the steps it does not take: no optimizer step, no dropout draw, nothing added to its
metrics. The validation pass takes each member's held-out rows in `eval_batch_size` batches.

The members' Keras models get their rows back after each call (checkpoints, callbacks), and each
member's recorder snapshot gets the state before the call's last epoch (kept for a non-finite epoch:
the recorder saves the state after a good epoch itself).
"""

from __future__ import annotations

import math
from typing import Any

from ldl.training.backend import tf
from ldl.training.graph_loop import _gather, _metric_results
from ldl.training.stacked import StackedNetwork, arrays_blockers


def data_blockers(members: list[Any]) -> list[str]:
    """Why the members' data keep them from being stacked: several input or output arrays (a model
    with several inputs or outputs), or training batches transformed in the graph."""
    reasons = []
    for member in members:
        parts = [member.train.features, member.train.targets]
        if member.held_out is not None:
            parts += [member.held_out.x, member.held_out.y]
        reasons += arrays_blockers(parts)
        if member.train.transform is not None:
            reasons.append("the training batches are transformed")
    return sorted(set(reasons))


class StackedEpochs:
    """A tf.function that trains and validates `count` epochs of every member, stacked; one
    [epochs run, metrics] table per member, as PopulationEpochs returns."""

    def __init__(self, members: list[Any]) -> None:
        self.members = members
        self.network = StackedNetwork([m.model for m in members])
        self.batch_size = members[0].train.batch_size
        if any(m.train.batch_size != self.batch_size for m in members):
            raise ValueError("the members of a stacked population share one batch size")
        self.examples = tf.constant([m.train.num_examples for m in members], dtype=tf.int32)
        self.steps = tf.constant([m.train.steps_per_epoch for m in members], dtype=tf.int32)
        self.most_steps = max(m.train.steps_per_epoch for m in members)
        # Only members of unequal steps per epoch ever sit out a step (and so skip a dropout draw).
        self.unequal = len({m.train.steps_per_epoch for m in members}) > 1
        self.held_out = members[0].held_out is not None
        if self.held_out:
            self._size_validation()
        self._function = tf.function(self._epochs)

    def _size_validation(self) -> None:
        """The validation batches: each member's held-out rows in eval_batch_size batches."""
        members = self.members
        size = members[0].eval_batch_size
        counts = [m.held_out.count for m in members]
        self.eval_size = size
        self.eval_steps = math.ceil(max(counts) / size)
        self.held_out_counts = tf.constant(counts, dtype=tf.int32)

    def __call__(self, count: int) -> list[list[dict[str, float]]]:
        first = tf.constant([m.epoch for m in self.members], dtype=tf.int64)
        table = self._function(first, tf.constant(count, dtype=tf.int64)).numpy()
        tables, start = [], 0
        for member in self.members:
            stop = start + len(member.names)
            tables.append(
                [dict(zip(member.names, map(float, row[start:stop]), strict=True)) for row in table]
            )
            start = stop
        return tables

    def _names(self) -> list[str]:
        names = sorted(["loss", *self.network.metric_names])
        for member in self.members:
            if sorted(_metric_results(member.model)) != names:
                raise ValueError("a stacked member's metrics are its loss and its compiled metrics")
            member.names = names + ([f"val_{n}" for n in names] if self.held_out else [])
        return names

    def _epochs(self, first_epochs: Any, count: Any) -> Any:
        network = self.network
        self._names()
        table = tf.TensorArray(tf.float32, size=tf.cast(count, tf.int32))
        epochs_run = tf.constant(0, dtype=tf.int64)
        for index in tf.range(count):
            network.save_in_graph()  # the state before this epoch, in case it ends non-finite
            orders = [
                m.train.epoch_order(first_epochs[k] + index) for k, m in enumerate(self.members)
            ]
            totals = tf.zeros([1 + len(network.metrics), len(self.members)])
            for step in tf.range(self.most_steps):
                totals += self._train_step(orders, step)
            values = self._row(totals)
            table = table.write(tf.cast(index, tf.int32), values)
            epochs_run = index + 1
            if not tf.reduce_all(tf.math.is_finite(values)):
                break
        network.write_back(saved=True)
        for member in self.members:
            if member.recorder is not None:
                member.recorder._snapshot().save_in_graph()
        network.write_back()
        return table.stack()[: tf.cast(epochs_run, tf.int32)]

    @tf.autograph.experimental.do_not_convert
    def _train_step(self, orders: list[Any], step: Any) -> Any:
        """One step of every member; what it adds to the epoch's means (`_sums`)."""
        size, network = self.batch_size, self.network
        sizes = tf.clip_by_value(self.examples - step * size, 0, size)
        active = step < self.steps
        with tf.GradientTape() as tape:
            weights = network.pieces()
            losses, metrics = [], []
            for k, (member, order) in enumerate(zip(self.members, orders, strict=True)):
                # The member's own batch, gathered as the graph loop gathers it alone (a member
                # sitting out this step gets no rows): every operation sees the shapes it sees alone.
                start = tf.cast(step * size, tf.int64)
                x, y = _gather(member.train, order[start : start + size])
                takes_step = active[k] if self.unequal else None
                predictions = network.forward(weights[k], x, k, True, takes_step)
                losses.append(network.loss(weights[k], y, predictions, k))
                metrics.append(network.metric_sums(y, predictions))
            objective = tf.reduce_sum(tf.where(active, tf.stack(losses), 0.0))
        network.apply(tape.gradient(objective, network.weights), active, masked=self.unequal)
        return self._sums(losses, metrics, sizes)

    @tf.autograph.experimental.do_not_convert
    def _sums(self, losses: list[Any], metrics: list[list[Any]], sizes: Any) -> Any:
        """What one batch adds to every member's Keras means, [loss and metrics, K]: the loss times
        the batch's rows (Keras's loss tracker), then each metric's sum over the rows."""
        rows = tf.cast(sizes, tf.float32)
        columns = []
        for k, (loss, sums) in enumerate(zip(losses, metrics, strict=True)):
            weighted = tf.where(sizes[k] > 0, loss * rows[k], 0.0)
            columns.append(tf.stack([weighted, *sums]))
        return tf.stack(columns, axis=1)

    def _row(self, totals: Any) -> Any:
        """Every member's training means, then its validation pass's, side by side."""
        names = ["loss", *self.network.metric_names]
        order = sorted(range(len(names)), key=lambda i: names[i])
        training = tf.math.divide_no_nan(totals, tf.cast(self.examples, tf.float32)[None])
        validation = self._validate() if self.held_out else None
        row = []
        for k in range(len(self.members)):
            row += [training[i, k] for i in order]
            if validation is not None:
                row += [validation[i, k] for i in order]
        return tf.stack(row)

    def _validate(self) -> Any:
        """Every member's validation means [loss and metrics, K] over its held-out rows, in
        `eval_batch_size` batches as the graph loop validates one model."""
        network, size, members = self.network, self.eval_size, self.members
        totals = tf.zeros([1 + len(network.metrics), len(members)])
        weights = network.pieces()
        for step in tf.range(self.eval_steps):
            start, stop = step * size, (step + 1) * size
            sizes = tf.clip_by_value(self.held_out_counts - start, 0, size)
            losses, metrics = [], []
            for k, member in enumerate(members):
                x, y = member.held_out.x[start:stop], member.held_out.y[start:stop]
                predictions = network.forward(weights[k], x, k, False, None)
                losses.append(network.loss(weights[k], y, predictions, k))
                metrics.append(network.metric_sums(y, predictions))
            totals += self._sums(losses, metrics, sizes)
        return tf.math.divide_no_nan(totals, tf.cast(self.held_out_counts, tf.float32)[None])
