"""CIFAR ResNets, keras.applications by name, mixed precision for every vision model, and data
augmentation (on for training batches, off for evaluation)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from fixtures import data_config, write_cifar10_batches

from ldl.data.augmentation import build_augmentation, pad_and_crop
from ldl.errors import ConfigError
from ldl.models.cnn import build_cnn
from ldl.models.resnet import (
    build_application,
    build_cifar_resnet,
    cifar_blocks_per_stage,
)
from ldl.tf_setup import import_tensorflow

tf = import_tensorflow()


@pytest.mark.parametrize(("depth", "blocks"), [(20, 3), (32, 5), (44, 7), (56, 9), (110, 18)])
def test_cifar_depths(depth, blocks):
    assert cifar_blocks_per_stage(depth, "basic") == blocks


def test_bad_depth_says_which_depths_exist():
    with pytest.raises(ConfigError, match=r"6n\+2, e\.g\. 8, 14, 20"):
        cifar_blocks_per_stage(21, "basic")
    assert cifar_blocks_per_stage(29, "bottleneck") == 3


def test_resnet20_has_19_convs_and_one_dense():
    model = build_cifar_resnet((32, 32, 3), 10, depth=20)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 19 and model.count_params() == 271_098
    assert model.get_layer("stage3_block1_pad").output.shape[1:] == (8, 8, 64)
    assert model.output.shape[1:] == (10,)


def test_projection_shortcuts_add_two_1x1_convs():
    model = build_cifar_resnet((32, 32, 3), 10, depth=20, shortcut="projection")
    # 16x32 + BN 4x32 and 32x64 + BN 4x64 on top of the option-A count.
    assert model.count_params() == 271_098 + 512 + 128 + 2048 + 256


def test_bottleneck_resnet_builds():
    model = build_cifar_resnet((32, 32, 3), 10, depth=29, block="bottleneck")
    assert model.get_layer("stage1_block1_pad").output.shape[-1] == 64
    assert model.get_layer("pool").output.shape[-1] == 256


@pytest.mark.slow
def test_resnet20_forward_backward_step_and_weight_decay():
    model = build_cifar_resnet((32, 32, 3), 10, depth=20)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="categorical_crossentropy"
    )
    rng = np.random.default_rng(0)
    images = rng.normal(size=(8, 32, 32, 3)).astype("float32")
    labels = keras.utils.to_categorical(rng.integers(0, 10, 8), 10)
    before = model.get_layer("stem_conv").get_weights()[0].copy()
    loss = model.train_on_batch(images, labels)
    assert np.isfinite(loss)
    assert not np.allclose(before, model.get_layer("stem_conv").get_weights()[0])
    assert len(model.losses) == 20  # one L2 penalty per kernel (19 convs + the output layer)


def test_zero_pad_shortcut_survives_save_and_load(tmp_path):
    model = build_cifar_resnet((16, 16, 3), 4, depth=8)
    images = np.random.default_rng(1).normal(size=(3, 16, 16, 3)).astype("float32")
    model.save(tmp_path / "resnet.keras")
    reloaded = keras.saving.load_model(tmp_path / "resnet.keras")
    np.testing.assert_allclose(
        model.predict(images, verbose=0), reloaded.predict(images, verbose=0), rtol=1e-5
    )


def test_resnet50_by_name_has_the_book_parameter_count():
    model = build_application("ResNet50", (224, 224, 3), 1000, weights=None, include_top=True)
    assert model.count_params() == 25_636_712


def test_transfer_model_has_a_new_head_and_a_frozen_base():
    model = build_application(
        "MobileNetV2", (32, 32, 3), 10, weights=None, freeze_base=True, dropout=0.2
    )
    assert model.output.shape[1:] == (10,)
    base = model.get_layer("mobilenetv2_1.00_32")
    assert not base.trainable
    assert {w.name for w in model.trainable_weights} == {"kernel", "bias"}  # only the new Dense


def test_unknown_architecture():
    with pytest.raises(ConfigError, match="ResNet50"):
        build_application("ResNet9000", (32, 32, 3), 10)


VISION_MODELS = {
    "c7e2": lambda: build_cnn((32, 32, 3), 10, ["C64-k5-s2-relu", "C64-k3-s2-relu"]),
    "c7_conf5": lambda: build_cnn(
        (32, 32, 3), 10, ["C16-k4", "D0.2", "C16-k2-s2", "C8", "P2", "D0.2", "F16", "D0.2"]
    ),
    "resnet20": lambda: build_cifar_resnet((32, 32, 3), 10, depth=20),
    "resnet_projection_bottleneck": lambda: build_cifar_resnet(
        (32, 32, 3), 10, depth=11, block="bottleneck", shortcut="projection"
    ),
    "mobilenetv2_transfer": lambda: build_application(
        "MobileNetV2", (32, 32, 3), 10, weights=None, freeze_base=True
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "precision"),
    [(name, "mixed_bfloat16") for name in sorted(VISION_MODELS)]
    + [("c7e2", "mixed_float16"), ("resnet20", "mixed_float16")],
)
def test_mixed_precision_trains_with_float32_outputs(name, precision):
    keras.mixed_precision.set_global_policy(precision)
    try:
        model = VISION_MODELS[name]()
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        rng = np.random.default_rng(0)
        images = rng.normal(size=(4, 32, 32, 3)).astype("float32")
        labels = keras.utils.to_categorical(rng.integers(0, 10, 4), 10)
        loss = model.train_on_batch(images, labels)
        assert np.isfinite(loss)
        assert model.output.dtype == "float32"
        compute = {layer.compute_dtype for layer in model.layers if layer.weights}
        assert precision.removeprefix("mixed_") in compute  # the bulk really runs in low precision
    finally:
        keras.mixed_precision.set_global_policy("float32")


# --- augmentation ---------------------------------------------------------------------------


def _batch(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(16, 8, 8, 3)).astype("float32")


def test_no_augmentation_when_everything_is_off():
    assert build_augmentation(None) is None
    assert build_augmentation({"flip": None, "pad_crop": 0, "rotation": 0.0}) is None


def test_flip_gives_each_image_or_its_mirror():
    augment = build_augmentation({"flip": "horizontal"})
    images = _batch()
    out, labels = augment(tf.constant(images), tf.constant(np.arange(16)))
    out = out.numpy()
    same = [np.array_equal(o, i) for o, i in zip(out, images, strict=True)]
    mirrored = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images, strict=True)]
    assert all(s or m for s, m in zip(same, mirrored, strict=True))
    assert 0 < sum(mirrored) < 16  # some flipped, some not
    np.testing.assert_array_equal(labels.numpy(), np.arange(16))


def test_pad_and_crop_shifts_each_image_by_at_most_the_padding():
    images = _batch()
    out = pad_and_crop(tf.constant(images), 2, tf.random.Generator.from_seed(3)).numpy()
    assert out.shape == images.shape
    shifts = set()
    for original, cropped in zip(images, out, strict=True):
        padded = np.pad(original, [[2, 2], [2, 2], [0, 0]])
        matches = [
            (dy, dx)
            for dy in range(5)
            for dx in range(5)
            if np.array_equal(padded[dy : dy + 8, dx : dx + 8], cropped)
        ]
        assert matches
        shifts.add(matches[0])
    assert len(shifts) > 3  # every image draws its own offset


def test_unknown_augmentation_settings_are_config_errors():
    with pytest.raises(ConfigError, match="flip"):
        build_augmentation({"flip": "sideways"})
    with pytest.raises(ConfigError, match="unknown key"):
        build_augmentation({"flip": "horizontal", "shear": 0.1})
    with pytest.raises(ConfigError, match="pad_crop"):
        build_augmentation({"pad_crop": -1})


def test_augmentation_is_seeded():
    import random

    results = []
    for _ in range(2):
        random.seed(5)
        augment = build_augmentation(
            {"flip": "horizontal", "pad_crop": 2, "rotation": 0.05, "zoom": 0.1}
        )
        results.append(augment(tf.constant(_batch()), tf.zeros(16))[0].numpy())
    np.testing.assert_array_equal(*results)


def test_augmentation_draws_depend_only_on_the_epoch_so_resumed_runs_match():
    """A run resumed at epoch 2 must see the uninterrupted run's augmentations (set_epoch re-seeds),
    also when the transform runs inside a tf.data map, as in training."""
    import random

    random.seed(7)
    augment = build_augmentation(
        {"flip": "horizontal", "pad_crop": 2, "translation": 0.1, "rotation": 0.05, "zoom": 0.1}
    )
    batches = tf.data.Dataset.from_tensors((tf.constant(_batch()), tf.zeros(16))).map(augment)

    def epoch_images(epoch):
        augment.set_epoch(epoch)
        return [images.numpy() for images, _ in batches]

    first_pass = {epoch: epoch_images(epoch) for epoch in range(3)}
    np.testing.assert_array_equal(epoch_images(2)[0], first_pass[2][0])  # "resumed" at epoch 2
    np.testing.assert_array_equal(epoch_images(0)[0], first_pass[0][0])
    assert not np.array_equal(first_pass[0][0], first_pass[1][0])  # epochs differ


def test_augmentation_runs_on_training_batches_only(tmp_path: Path):
    """The training pipeline's batches differ from the stored images; evaluation's do not."""
    from ldl.data.datasets import prepare_data
    from ldl.training.batches import _chain
    from ldl.training.pipeline import EpochShuffledDataset, evaluation_dataset

    write_cifar10_batches(tmp_path, n_train=50, n_test=20)
    config = data_config(
        "cifar10",
        standardize="global",
        one_hot=True,
        download=False,
        augmentation={"flip": "horizontal", "pad_crop": 4},
    )
    data = prepare_data(config, tmp_path)
    assert data.train_transform is not None
    training = EpochShuffledDataset(
        data.x_train,
        data.y_train,
        50,
        seed=0,
        shuffle=False,
        transform=_chain(data.transform, data.train_transform),
    )
    train_images = next(iter(training.dataset))[0].numpy()
    standardized = data.transform(data.x_train, data.y_train)[0].numpy()
    assert not np.allclose(train_images, standardized)
    assert (train_images == 0).any()  # pad-and-crop brought in zero (= mean) pixels
    evaluation = evaluation_dataset(data.x_test, data.y_test, 20, data.transform)
    np.testing.assert_array_equal(
        next(iter(evaluation))[0].numpy(), data.transform(data.x_test, data.y_test)[0].numpy()
    )


@pytest.mark.slow
def test_resnet20_experiment_trains_on_stand_ins(make_config, tmp_path):
    from ldl.training.train import train

    data_dir = tmp_path / "data"
    write_cifar10_batches(data_dir, n_train=100, n_test=20)
    cfg = make_config(
        "experiment=resnet20_cifar10",
        f"data_dir={data_dir}",
        "trainer.epochs=1",
        "trainer.batch_size=50",
        "trainer.seed=0",
        "logger=none",
    )
    assert cfg.data.augmentation.flip == "horizontal" and cfg.data.augmentation.pad_crop == 4
    assert cfg.optimizer.schedule.name == "piecewise_constant"
    metrics = train(cfg)
    assert metrics["status"] == "completed" and metrics["parameters"] == 271_098
    assert np.isfinite(metrics["test/loss"])
