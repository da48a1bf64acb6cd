"""Chapter 7 convolutional networks: the layer-token syntax, the Table 7-1 layouts, training on
CIFAR-format stand-ins, augmentation, and save -> load -> same predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures import write_cifar10_batches

from ldl.errors import ConfigError
from ldl.models.cnn import build_cnn, parse_layer


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cifar_data")
    write_cifar10_batches(directory, n_train=200, n_test=50)
    return directory


def test_parse_conv_token():
    spec = parse_layer("C64-k5-s2-relu")
    assert (spec.kind, spec.size, spec.kernel, spec.stride, spec.activation, spec.padding) == (
        "conv",
        64,
        5,
        2,
        "relu",
        "same",
    )
    spec = parse_layer("c32-valid-bn", default_activation="tanh")
    assert (spec.kernel, spec.stride, spec.padding, spec.batch_norm, spec.activation) == (
        3,
        None,
        "valid",
        True,
        "tanh",
    )
    assert parse_layer("P2").kind == "max_pool" and parse_layer("D0.2").size == 0.2
    assert parse_layer("F64-tanh").activation == "tanh"


@pytest.mark.parametrize(
    "token", ["X64", "C", "C64-k5-s2-swishy", "D1.5", "P2-relu", "G4", "F-relu", "C0"]
)
def test_bad_tokens_are_config_errors(token):
    with pytest.raises(ConfigError, match=r"model\.layers"):
        parse_layer(token)


def test_c7e2_layout_matches_the_spec():
    """Conv 64 5/2 -> Conv 64 3/2 -> Flatten -> Dense 10: 16x16x64 -> 8x8x64 -> 4096 -> 10."""
    model = build_cnn((32, 32, 3), 10, ["C64-k5-s2-relu", "C64-k3-s2-relu"])
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers[1:]]
    assert shapes == [(16, 16, 64), (8, 8, 64), (4096,), (10,)]
    assert [layer.count_params() for layer in model.layers[1:]] == [4_864, 36_928, 0, 40_970]


def test_conv_after_dense_is_rejected():
    with pytest.raises(ConfigError, match="cannot follow"):
        build_cnn((32, 32, 3), 10, ["F16", "C8"])


def test_greyscale_images_get_a_channel():
    model = build_cnn((28, 28), 10, ["C8-k3-s2", "P2"])
    assert model.output.shape[1:] == (10,)


def test_every_layer_gets_its_own_initializer():
    model = build_cnn((8, 8, 4), 2, ["C4-k3", "C4-k3"], kernel_initializer={"name": "he_normal"})
    first, second = (layer.get_weights()[0] for layer in model.layers[1:3])
    assert first.shape == second.shape and not np.allclose(first, second)


@pytest.mark.slow
def test_c7e2_trains_end_to_end_and_reloads(cifar_dir, make_config, tmp_path):
    import keras

    from ldl.training.train import train

    run_dir = tmp_path / "run"
    cfg = make_config(
        "experiment=c7e2",
        f"data_dir={cifar_dir}",
        "trainer.epochs=2",
        "trainer.seed=1",
        "logger=none",
        run_dir=run_dir,
    )
    metrics = train(cfg)
    assert metrics["status"] == "completed" and metrics["parameters"] == 82_762
    assert metrics["test/accuracy"] > 0.5  # stand-in classes are easy; random is 0.1
    # The saved model reproduces the run's test metrics exactly.
    from ldl.data.datasets import prepare_data
    from ldl.training.pipeline import evaluation_dataset

    data = prepare_data(cfg.data, cfg.data_dir)
    reloaded = keras.saving.load_model(run_dir / "model.keras")
    batches = evaluation_dataset(data.x_test, data.y_test, 64, data.transform)
    logs = reloaded.evaluate(batches, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(metrics["test/loss"], rel=1e-5, abs=1e-7)
    assert logs["accuracy"] == pytest.approx(metrics["test/accuracy"])


def test_save_load_gives_the_same_predictions(tmp_path):
    import keras

    model = build_cnn((32, 32, 3), 10, ["C8-k3-s2-bn", "D0.2", "P2", "F16"])
    images = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "cnn.keras")
    reloaded = keras.saving.load_model(tmp_path / "cnn.keras")
    np.testing.assert_allclose(
        model.predict(images, verbose=0), reloaded.predict(images, verbose=0), rtol=1e-6
    )
