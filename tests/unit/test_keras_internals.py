"""The private Keras calls ldl makes (training/keras_internals.py) still do what ldl needs.

A Keras upgrade that renames or changes them fails here, with a message naming the module to update,
instead of breaking the graph loop (trainer.loop: auto, the default for c5e2 and c6e1) in a run."""

from __future__ import annotations

import inspect

import keras
import numpy as np
import pytest

from ldl.training.keras_internals import (
    build_for_training,
    compiled_loss,
    loss_tracker,
    metric_values,
    nested_layers,
    optimizer_slots,
)

UPDATE = (
    "ldl calls it from src/ldl/training/keras_internals.py (as Keras's own fit() does); update that "
    "module to this Keras version's equivalent."
)


@pytest.mark.parametrize(
    ("owner", "name", "parameter"),
    [
        (keras.Model, "_symbolic_build", "data_batch"),
        (keras.Layer, "_flatten_layers", "include_self"),
    ],
)
def test_the_private_methods_still_exist_with_their_parameter(owner, name, parameter):
    method = getattr(owner, name, None)
    if method is None:
        pytest.fail(f"Keras {keras.__version__} has no {owner.__name__}.{name} any more; {UPDATE}")
    if parameter not in inspect.signature(method).parameters:
        pytest.fail(
            f"Keras {keras.__version__} changed {owner.__name__}.{name}: it takes no "
            f"`{parameter}` any more; {UPDATE}"
        )


def _small_model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def test_build_for_training_creates_the_variables_a_train_step_needs():
    model = _small_model()
    batch = (np.ones((1, 3), "float32"), np.ones((1, 2), "float32"))
    assert not model.optimizer.built
    build_for_training(model, batch)
    if not model.optimizer.built or not model.optimizer.variables:
        pytest.fail(
            f"With Keras {keras.__version__}, Model._symbolic_build no longer builds the optimizer "
            f"before the first step; {UPDATE}"
        )
    # The graph loop then calls train_step itself, as fit() would.
    logs = model.train_step(batch)
    assert {"loss", "mae"} <= set(logs)


def test_nested_layers_reaches_inside_nested_models():
    inner = keras.Sequential(
        [keras.Input((8, 1)), keras.layers.Conv1D(2, 3, name="inner_conv")], name="inner"
    )
    inputs = keras.Input((8, 1))
    outputs = keras.layers.Dense(1, name="head")(keras.layers.Flatten()(inner(inputs)))
    outer = keras.Model(inputs, outputs)
    names = [layer.name for layer in nested_layers(outer)]
    if "inner_conv" not in names:
        pytest.fail(
            f"With Keras {keras.__version__}, Layer._flatten_layers no longer lists the layers of "
            f"nested models (got {names}); {UPDATE}"
        )
    assert "inner" in names and "head" in names and outer.name not in names


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_the_stacked_population_s_calls_find_the_loss_metrics_and_optimizer_slots(optimizer):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    chosen = keras.optimizers.Adam() if optimizer == "adam" else keras.optimizers.SGD(0.1, 0.9)
    model.compile(optimizer=chosen, loss="mse", metrics=["mae"])
    batch = (np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"))
    build_for_training(model, batch)
    try:
        predictions = model(batch[0])
        loss = float(compiled_loss(model, batch[1], predictions))
        tracker = loss_tracker(model)
        groups = [group for group in model.metrics if group is not tracker]
        metric = next(m for group in groups for m in group.metrics)
        values = metric_values(metric, batch[1], predictions)
        names = ["momentums", "velocities"] if optimizer == "adam" else ["momentums"]
        slots = [optimizer_slots(model.optimizer, name, model.trainable_weights) for name in names]
    except (AttributeError, KeyError, TypeError, StopIteration) as error:
        pytest.fail(f"With Keras {keras.__version__}: {error!r}; {UPDATE}")
    expected = np.mean(np.square(predictions.numpy()))
    assert tracker is not None and loss == pytest.approx(expected)
    assert values.shape == (4,)
    for found in slots:
        assert [tuple(s.shape) for s in found] == [tuple(w.shape) for w in model.trainable_weights]
        assert not any(s is w for s, w in zip(found, model.trainable_weights, strict=True))
