"""Options the book's chapters name that change data, models or reports (docs/options.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures import data_config, write_cifar10_batches

from ldl.data.datasets import prepare_data
from ldl.data.preprocessing import one_hot
from ldl.errors import ConfigError

# --- chapter 5: 0.1/0.9 targets; divide_255 scaling --------------------------------------------


def test_one_hot_with_other_target_values() -> None:
    encoded = one_hot(np.array([2, 0]), 3, off=0.1, on=0.9)
    np.testing.assert_allclose(encoded, [[0.1, 0.1, 0.9], [0.9, 0.1, 0.1]])
    assert encoded.dtype == np.float32


def test_mnist_targets_0_1_and_0_9(mnist_dir: Path) -> None:
    data = prepare_data(data_config("mnist", target_values=[0.1, 0.9], download=False), mnist_dir)
    assert np.unique(data.y_train).tolist() == pytest.approx([0.1, 0.9])
    assert np.all(np.sum(data.y_test == np.float32(0.9), axis=1) == 1)
    with pytest.raises(ConfigError, match="off < on"):
        prepare_data(data_config("mnist", target_values=[0.9, 0.1], download=False), mnist_dir)
    with pytest.raises(ConfigError, match="two numbers"):
        prepare_data(data_config("mnist", target_values=[0.1], download=False), mnist_dir)


def test_hand_written_network_uses_the_target_values(make_config, mnist_dir) -> None:
    from ldl.tasks.classic.mnist_program import load_network_arrays

    cfg = make_config("experiment=c4e2", f"data_dir={mnist_dir}", "data.target_values=[0.1,0.9]")
    arrays = load_network_arrays(cfg)
    assert sorted(np.unique(arrays.y_train).tolist()) == [0.1, 0.9]


def test_cifar10_divide_255(tmp_path: Path) -> None:
    written = write_cifar10_batches(tmp_path, n_train=50, n_test=20)
    data = prepare_data(data_config("cifar10", standardize="divide_255", download=False), tmp_path)
    images, _ = data.transform(data.x_test, data.y_test)
    np.testing.assert_allclose(images.numpy(), written.x_test / 255.0, rtol=1e-6)
    assert data.statistics == {"scale": 255.0}


# --- chapter 6: dropout placement ---------------------------------------------------------------


def test_dropout_per_hidden_layer_and_on_the_inputs() -> None:
    from ldl.models.fully_connected import build_fully_connected

    model = build_fully_connected(
        (13,), 1, [64, 64, 32], dropout=[0.0, 0.3, 0.1], input_dropout=0.2
    )
    dropouts = {layer.name: layer.rate for layer in model.layers if "dropout" in layer.name}
    assert dropouts == {"input_dropout": 0.2, "dropout_1": 0.3, "dropout_2": 0.1}
    # Dropout follows its hidden layer: dense_1 -> dropout_1.
    names = [layer.name for layer in model.layers]
    assert names.index("dropout_1") == names.index("dense_1") + 1
    assert model.count_params() == 13 * 64 + 64 + 64 * 64 + 64 + 64 * 32 + 32 + 33  # no weights
    with pytest.raises(ConfigError, match="2 rates for 3 hidden layers"):
        build_fully_connected((13,), 1, [8, 8, 8], dropout=[0.1, 0.2])
    with pytest.raises(ConfigError, match="input_dropout"):
        build_fully_connected((13,), 1, [8], input_dropout=1.0)


def test_dropout_list_passes_validation_only_for_the_fc_model(make_config) -> None:
    from ldl.config import validate_config

    validate_config(make_config("experiment=c6_conf5", "model.dropout=[0.2,0.2,0.0]"))
    with pytest.raises(ConfigError, match=r"model\.dropout must be a number"):
        validate_config(make_config("experiment=c11e1", "model.dropout=[0.2,0.2]"))
