"""Transfer learning (chapter 8): a frozen pretrained base with a new head, then fine-tuning of the
base's top layers at a smaller learning rate; both phases in one config and one run folder."""

from __future__ import annotations

import json

import keras
import pytest
from fixtures import write_cifar10_batches

from ldl.errors import ConfigError
from ldl.models.resnet import build_application
from ldl.training.fine_tuning import fine_tune_settings, pretrained_base, unfreeze_top_layers


def test_unfreeze_top_layers_keeps_the_rest_and_batch_norm_frozen():
    model = build_application("MobileNetV2", (32, 32, 3), 10, weights=None, freeze_base=True)
    base = pretrained_base(model)
    assert not any(layer.trainable for layer in base.layers if layer.weights)
    unfrozen = unfreeze_top_layers(model, 6)
    weighted = [layer for layer in base.layers if layer.weights]
    top = weighted[-6:]
    assert unfrozen == sum(not isinstance(layer, keras.layers.BatchNormalization) for layer in top)
    assert all(
        layer.trainable != isinstance(layer, keras.layers.BatchNormalization) for layer in top
    )
    assert not any(layer.trainable for layer in weighted[:-6])


def test_fine_tune_settings_are_checked():
    assert fine_tune_settings({"epochs": 0, "unfreeze_top": 0, "learning_rate": 1e-5}) == (
        0,
        0,
        1e-5,
    )
    with pytest.raises(ConfigError, match=r"fine_tune\.epochs"):
        fine_tune_settings({"epochs": -1})
    with pytest.raises(ConfigError, match=r"fine_tune\.learning_rate"):
        fine_tune_settings({"epochs": 2, "unfreeze_top": 3, "learning_rate": 0})


@pytest.mark.slow
def test_two_phases_in_one_run_folder(make_config, tmp_path, capsys):
    from ldl.training.train import train

    data_dir = tmp_path / "data"
    write_cifar10_batches(data_dir, n_train=50, n_test=20)
    run_dir = tmp_path / "run"
    cfg = make_config(
        "experiment=c8_transfer_cifar10",
        f"data_dir={data_dir}",
        "model.weights=null",  # offline: the same network with random weights
        "model.input_size=null",
        "trainer.epochs=1",
        "trainer.batch_size=25",
        "trainer.seed=0",
        "fine_tune.epochs=1",
        "fine_tune.unfreeze_top=4",
        "fine_tune.learning_rate=0.0001",
        "logger=none",
        run_dir=run_dir,
    )
    metrics = train(cfg)
    assert metrics["status"] == "completed" and metrics["epochs_completed"] == 2
    assert "Fine-tuning: 2 layers of the pretrained base unfrozen" in capsys.readouterr().out
    assert len((run_dir / "history.csv").read_text().strip().splitlines()) == 3  # header + 2 epochs
    model = keras.saving.load_model(run_dir / "model.keras")
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)
    base = pretrained_base(model)
    weighted = [layer for layer in base.layers if layer.weights]
    assert [layer.trainable for layer in weighted[-4:]] == [
        not isinstance(layer, keras.layers.BatchNormalization) for layer in weighted[-4:]
    ]
    assert not any(layer.trainable for layer in weighted[:-4])
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
