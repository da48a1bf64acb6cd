"""The two private Keras calls ldl makes, in one place.

Keras has no public way to do either, and both are what `fit()` itself does:

- `build_for_training`: `fit()` creates the optimizer's and the metrics' variables from one batch
  before its first step (`Model._symbolic_build`); the graph loops (`graph_loop.py`,
  `population_loop.py`) call `train_step` themselves, so they must do the same first.
- `nested_layers`: every layer inside a model, nested models and layers inside custom layers
  included (`Layer._flatten_layers`); `model.layers` lists only the top level.

tests/unit/test_keras_internals.py fails with a message naming this module when a Keras upgrade renames
or changes either, so an upgrade cannot break the graph loop silently.
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
