"""The private Keras calls ldl makes, in one place.

Keras has no public way to do any of them, and each is what `fit()` or `train_step` itself does:

- `build_for_training`: `fit()` creates the optimizer's and the metrics' variables from one batch
  before its first step (`Model._symbolic_build`); the graph loops (`graph_loop.py`,
  `population_loop.py`) call `train_step` themselves, so they must do the same first.
- `nested_layers`: every layer inside a model, nested models and layers inside custom layers
  included (`Layer._flatten_layers`); `model.layers` lists only the top level.
- `compiled_loss`, `metric_values`, `loss_tracker`, `optimizer_slots`: a stacked population
  (`stacked.py`) computes each member's loss and metrics with the member's own compiled loss and
  metric functions, and keeps its optimizer's moments in one variable, as `train_step` and Adam or
  SGD's `update_step` do.

tests/unit/test_keras_internals.py fails with a message naming this module when a Keras upgrade renames
or changes one, so an upgrade cannot break the graph loop silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras


def build_for_training(model: keras.Model, data_batch: Any) -> None:
    """Create the optimizer and metric variables `model.train_step` needs, from one batch
    (features, targets) as `fit()` would see it."""
    model._symbolic_build(data_batch=data_batch)


def nested_layers(model: keras.Layer) -> Iterator[keras.Layer]:
    """Every layer inside `model`, at any depth (not `model` itself)."""
    return model._flatten_layers(include_self=False)


def compiled_loss(model: keras.Model, y: Any, y_pred: Any) -> Any:
    """The model's compiled loss of one batch, as `train_step` computes it (without the
    regularization losses, which `Trainer.compute_loss` adds)."""
    return model._compile_loss(y, y_pred, None)


def metric_values(metric: keras.metrics.MeanMetricWrapper, y: Any, y_pred: Any) -> Any:
    """The values a mean metric averages for one batch (one per example)."""
    return metric._fn(y, y_pred, **metric._fn_kwargs)


def loss_tracker(model: keras.Model) -> Any:
    """The Mean that reports a compiled model's `loss` (None before compile)."""
    return getattr(model, "_loss_tracker", None)


def optimizer_slots(optimizer: keras.optimizers.Optimizer, name: str, variables: Any) -> list[Any]:
    """Adam's `momentums` or `velocities`, or SGD's `momentums`, of each of `variables`."""
    if isinstance(optimizer, keras.optimizers.Adam):
        slots = {"momentums": optimizer._momentums, "velocities": optimizer._velocities}[name]
    else:
        slots = optimizer.momentums
    return [slots[optimizer._get_variable_index(variable)] for variable in variables]
