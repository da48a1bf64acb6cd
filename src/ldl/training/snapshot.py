"""An in-memory copy of everything a checkpoint stores: weights, optimizer slots, random-generator states.

Checkpoints are written by time, not after every epoch (`training/recorder.py`), so when a run must
stop between two of them (a NaN loss, SIGTERM) the state after the last good epoch has to come from
memory. Copying the variables into twin variables is one small graph call per epoch (a few
microseconds for the book's small networks), far cheaper than writing a `.keras` file, and it can also
run inside a compiled multi-epoch loop (`training/graph_loop.py`).
"""

from __future__ import annotations

from typing import Any

import keras

from ldl.training.backend import tf


def state_variables(model: keras.Model) -> list[Any]:
    """The model's variables (weights, batch-norm statistics, seed-generator states) and its
    optimizer's (step counter, moments), each once."""
    seen: set[int] = set()
    variables = []
    optimizer_variables = list(model.optimizer.variables) if model.optimizer is not None else []
    for variable in [*model.variables, *optimizer_variables]:
        if id(variable) not in seen:
            seen.add(id(variable))
            variables.append(variable)
    return variables


class StateSnapshot:
    """Twin variables holding the model's state as it was at the last `save()`."""

    def __init__(self, model: keras.Model) -> None:
        optimizer = model.optimizer
        # Variables of a distributed model are created under its strategy (mirrored on every GPU).
        with model.distribute_strategy.scope():
            if optimizer is not None and not optimizer.built:
                # Keras creates the optimizer's slots (moments) at the first step; the snapshot needs
                # them now. Built from the same variables, they start as that first step would.
                optimizer.build(model.trainable_variables)
            self.variables = state_variables(model)
            self.copies = [
                tf.Variable(tf.zeros_like(v), trainable=False, name="snapshot")
                for v in self.variables
            ]
        self._save = tf.function(self.save_in_graph, autograph=False)
        self._restore = tf.function(self._restore_in_graph, autograph=False)

    def save_in_graph(self) -> None:
        """The copy as graph operations, for a caller that is itself a tf.function."""
        for copy, variable in zip(self.copies, self.variables, strict=True):
            copy.assign(variable)

    def _restore_in_graph(self) -> None:
        for copy, variable in zip(self.copies, self.variables, strict=True):
            variable.assign(copy)

    def save(self) -> None:
        self._save()

    def restore(self) -> None:
        """Put the saved state back into the model and its optimizer."""
        self._restore()
