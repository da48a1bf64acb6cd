"""Transfer learning's second phase (chapter 8): unfreeze the top of a pretrained base and continue
training at a smaller learning rate, in the same run folder and history as the first phase.

Phase 1 is ordinary training with the base frozen (`model.freeze_base=true`, a new head). Phase 2 makes
the base's top `unfreeze_top` layers trainable (batch-norm layers stay frozen, so their ImageNet statistics
are not overwritten by small batches, Keras's fine-tuning advice), recompiles with a fresh optimizer of
the same kind at `learning_rate`, and fits `epochs` more epochs. A run resumed during phase 2 restores
the phase-2 model and optimizer from its checkpoint and goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from ldl.errors import ConfigError

DEFAULT_LEARNING_RATE = 1.0e-5


def fine_tune_settings(config: Mapping[str, Any] | None) -> tuple[int, int, float]:
    """(epochs, unfreeze_top, learning_rate) of `fine_tune`; epochs 0 means no second phase."""
    if not config:
        return 0, 0, 0.0
    # The defaults of train.yaml's fine_tune block (tests/unit/test_code_defaults.py keeps them equal).
    epochs, top, rate = (
        config.get("epochs", 0),
        config.get("unfreeze_top", 0),
        config.get("learning_rate", DEFAULT_LEARNING_RATE),
    )
    for key, value in (("epochs", epochs), ("unfreeze_top", top)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"fine_tune.{key} must be a whole number >= 0, got {value!r}.")
    if epochs and (isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0):
        raise ConfigError(f"fine_tune.learning_rate must be a number > 0, got {rate!r}.")
    return epochs, top, float(rate or 0.0)


def pretrained_base(model: keras.Model) -> keras.Model:
    """The nested keras.applications network inside a transfer model."""
    bases = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(bases) != 1:
        raise ConfigError(
            "fine_tune needs a transfer model with one pretrained base (model=resnet with "
            "architecture=<keras.applications name> and include_top=false)."
        )
    return bases[0]


def unfreeze_top_layers(model: keras.Model, count: int) -> int:
    """Make the base trainable except its first layers, leaving `count` weighted top layers
    trainable (count 0 = the whole base); batch norm stays frozen. Returns how many were unfrozen."""
    base = pretrained_base(model)
    base.trainable = True
    weighted = [layer for layer in base.layers if layer.weights]
    keep_frozen = set(map(id, weighted[: max(0, len(weighted) - count)])) if count else set()
    unfrozen = 0
    for layer in base.layers:
        frozen = id(layer) in keep_frozen or isinstance(layer, keras.layers.BatchNormalization)
        layer.trainable = not frozen
        unfrozen += bool(layer.weights) and not frozen
    return unfrozen


def phase_two_optimizer(model: keras.Model, learning_rate: float) -> keras.optimizers.Optimizer:
    """A fresh optimizer of the phase-1 kind (its other settings kept) at the fine-tuning rate."""
    config = model.optimizer.get_config()
    config["learning_rate"] = learning_rate
    return type(model.optimizer).from_config(config)
