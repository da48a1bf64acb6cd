"""Model, initializer and optimizer builders work with plain arguments (no Hydra needed)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ldl.errors import ConfigError
from ldl.models.fully_connected import build_fully_connected
from ldl.models.initializers import make_initializer
from ldl.training.optimizers import build_optimizer


def _layer_types(model: keras.Model) -> list[str]:
    return [type(layer).__name__ for layer in model.layers]


def test_batch_norm_placement():
    before = build_fully_connected(
        (4,), 2, hidden_units=[8], activation="tanh", batch_norm="before_activation"
    )
    assert _layer_types(before) == [
        "InputLayer",
        "Dense",
        "BatchNormalization",
        "Activation",
        "Dense",
    ]
    assert before.get_layer("dense_0").activation.__name__ == "linear"
    after = build_fully_connected(
        (4,), 2, hidden_units=[8], activation="tanh", batch_norm="after_activation"
    )
    assert _layer_types(after) == ["InputLayer", "Dense", "BatchNormalization", "Dense"]
    assert after.get_layer("dense_0").activation.__name__ == "tanh"


def test_dropout_and_penalties_on_every_layer():
    model = build_fully_connected(
        (13,),
        1,
        hidden_units=[64, 64],
        dropout=0.2,
        l2_kernel=0.1,
        l2_bias=0.1,
        output_activation="linear",
    )
    assert _layer_types(model).count("Dropout") == 2
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert all(
        layer.kernel_regularizer is not None and layer.bias_regularizer is not None
        for layer in dense
    )
    assert model.count_params() == 5_121
    model(np.ones((2, 13), "float32"))
    assert len(model.losses) == 6  # kernel and bias penalty of each of the three layers


def test_linear_model_has_only_the_output_layer():
    model = build_fully_connected((13,), 1, hidden_units=[], output_activation="linear")
    assert model.count_params() == 14


@pytest.mark.parametrize(
    "activation", ["tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus", "linear"]
)
def test_every_hidden_activation_builds(activation):
    model = build_fully_connected((3,), 2, hidden_units=[4], activation=activation)
    assert model(np.zeros((1, 3), "float32")).shape == (1, 2)


def test_bad_model_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="activation"):
        build_fully_connected((3,), 2, activation="swishy")
    with pytest.raises(ConfigError, match="batch_norm"):
        build_fully_connected((3,), 2, batch_norm="sideways")
    with pytest.raises(ConfigError, match="dropout"):
        build_fully_connected((3,), 2, dropout=1.5)


def test_uniform_initializer_respects_its_range():
    values = make_initializer({"name": "random_uniform", "minval": -0.1, "maxval": 0.1})(
        (784, 25)
    ).numpy()
    assert values.min() >= -0.1 and values.max() <= 0.1 and values.std() > 0.05
    with pytest.raises(ConfigError, match="not known"):
        make_initializer({"name": "magic"})


@pytest.mark.parametrize(
    ("config", "expected_type"),
    [
        (
            {"name": "sgd", "learning_rate": 0.01, "momentum": 0.9, "nesterov": True},
            keras.optimizers.SGD,
        ),
        ({"name": "adam", "learning_rate": 0.01, "epsilon": 0.1}, keras.optimizers.Adam),
        ({"name": "rmsprop", "learning_rate": 0.001, "rho": 0.8}, keras.optimizers.RMSprop),
        ({"name": "adagrad", "learning_rate": 0.01}, keras.optimizers.Adagrad),
    ],
)
def test_optimizers(config, expected_type):
    optimizer = build_optimizer({**config, "clipnorm": None, "schedule": None})
    assert isinstance(optimizer, expected_type)
    assert float(optimizer.learning_rate) == pytest.approx(config["learning_rate"])


def test_clipping_and_schedule():
    optimizer = build_optimizer(
        {
            "name": "sgd",
            "learning_rate": 0.1,
            "clipnorm": 1.0,
            "schedule": {"name": "exponential_decay", "decay_steps": 10, "decay_rate": 0.5},
        }
    )
    assert optimizer.clipnorm == 1.0
    schedule = optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(0.1)
    assert float(schedule(10)) == pytest.approx(0.05)
    with pytest.raises(ConfigError, match="schedule"):
        build_optimizer({"name": "sgd", "learning_rate": 0.1, "schedule": {"name": "sometimes"}})
    with pytest.raises(ConfigError, match="learning_rate must be > 0"):
        build_optimizer({"name": "adam", "learning_rate": 0.0})


@pytest.mark.slow
def test_mixed_precision_keeps_the_output_in_float32(make_config, boston_dir, tmp_path):
    from ldl.training.train import train

    try:
        metrics = train(
            make_config(
                "experiment=c6e1",
                f"data_dir={boston_dir}",
                "trainer.epochs=2",
                "trainer.seed=0",
                "trainer.precision=mixed_bfloat16",
            )
        )
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(metrics["test/mae"])
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.get_layer("dense_0").compute_dtype == "bfloat16"
    assert model.get_layer("output").compute_dtype == "float32"
    keras.mixed_precision.set_global_policy("float32")
