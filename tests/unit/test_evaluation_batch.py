"""trainer.eval_batch_size=auto: evaluation batches sized by the model's layer outputs."""

from __future__ import annotations

import keras
import pytest

from ldl.config import validate_config
from ldl.errors import ConfigError
from ldl.training.evaluation_batch import (
    ACTIVATION_BUDGET_BYTES,
    MAX_EVAL_BATCH_SIZE,
    activation_bytes_per_example,
    evaluation_batch_size,
)


def _dense() -> keras.Model:
    inputs = keras.Input((28, 28))
    hidden = keras.layers.Dense(25)(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Dense(10)(hidden))


def _convolutional(dtype: str = "float32") -> keras.Model:
    inputs = keras.Input((32, 32, 3))
    features = keras.layers.Conv2D(64, 3, padding="same", dtype=dtype)(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(dtype=dtype)(features)
    return keras.Model(inputs, keras.layers.Dense(10, dtype="float32")(pooled))


def test_layer_outputs_are_counted_per_example() -> None:
    # Flatten 784 + Dense 25 + Dense 10 float32 values (the input layer's output counts too).
    assert activation_bytes_per_example(_dense()) == 4 * (784 + 784 + 25 + 10)
    conv = 32 * 32 * 64
    assert activation_bytes_per_example(_convolutional()) == 4 * (32 * 32 * 3 + conv + 64 + 10)
    mixed = keras.mixed_precision.DTypePolicy("mixed_bfloat16")
    # Under mixed bfloat16 the convolution's outputs take 2 bytes a value.
    assert activation_bytes_per_example(_convolutional(mixed)) == (
        4 * 32 * 32 * 3 + 2 * (conv + 64) + 4 * 10
    )


def test_auto_gives_dense_models_the_largest_batch() -> None:
    assert evaluation_batch_size("auto", _dense(), train_batch_size=1) == MAX_EVAL_BATCH_SIZE


def test_auto_sizes_convolutional_models_by_the_budget() -> None:
    model = _convolutional()
    fitting = ACTIVATION_BUDGET_BYTES // activation_bytes_per_example(model)
    assert 32 < fitting < MAX_EVAL_BATCH_SIZE
    assert evaluation_batch_size("auto", model, train_batch_size=32) == fitting
    # Never below the training batch, whose step holds more memory than an evaluation step.
    assert evaluation_batch_size("auto", model, train_batch_size=fitting + 50) == fitting + 50


def test_a_number_is_used_as_it_is() -> None:
    assert evaluation_batch_size(7, _convolutional(), train_batch_size=32) == 7


@pytest.mark.parametrize("value", ["auto", 1, 4096])
def test_config_accepts_auto_and_positive_integers(make_config, value) -> None:
    validate_config(make_config("experiment=c5e2", f"trainer.eval_batch_size={value}"))


@pytest.mark.parametrize("value", [0, "large", 2.5])
def test_config_refuses_other_values(make_config, value) -> None:
    with pytest.raises(ConfigError, match=r"eval_batch_size.*auto"):
        validate_config(make_config("experiment=c5e2", f"trainer.eval_batch_size={value}"))
