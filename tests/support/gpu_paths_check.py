"""Trains small models single-device and mirrored over two logical CPU devices, or in float32 and
mixed float16, and prints their metrics as JSON. Run in a fresh process (the logical devices must be
configured before TensorFlow starts): python tests/support/gpu_paths_check.py mirrored|mixed <work folder>."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fixtures import write_cifar10_npz, write_mnist_idx
from helpers import compose_config
from translation_fixtures import write_fra_txt

# name: overrides of a small, dropout-free configuration of each model family (dropout draws differ
# per replica, so it would measure the random masks, not the distribution path).
MODELS = {
    "mlp": ("experiment=c5e2", "trainer.epochs=2"),
    "cnn": ("experiment=c7e2", "trainer.epochs=2", "data.max_train_examples=200"),
    "transformer": (
        "experiment=c15_transformer",
        "model.d_model=16",
        "model.num_heads=2",
        "model.ffn_dim=32",
        "model.dropout=0.0",
        "trainer.epochs=2",
        "data.max_words=40",
        "data.sample_size=4",
        "callbacks.sample_translations=null",
        "data.report.examples=0",
    ),
}
COMMON = ("trainer.seed=0", "trainer.verbose=0", "logger=none")


def write_data(work: Path) -> Path:
    data = work / "data"
    write_mnist_idx(data / "mnist", n_train=600, n_test=200, gzip=True)
    write_cifar10_npz(data, n_train=240, n_test=60)
    write_fra_txt(data, count=120)
    return data


def train_once(name: str, data: Path, run_dir: Path, *extra: str) -> dict:
    from ldl.training.train import train

    cfg = compose_config(
        *MODELS[name], *COMMON, *extra, f"data_dir={data}", f"run_dir={run_dir}",
        f"output_root={run_dir.parent}",
    )  # fmt: skip
    metrics = train(cfg)
    return {k: v for k, v in metrics.items() if k.startswith(("train/", "test/", "val/"))} | {
        "device": metrics["device"]
    }


def saved_model_precision(run_dir: Path) -> dict:
    """The dtype policies of the saved model's layers and the optimizer Keras compiles it with."""
    import keras

    model = keras.saving.load_model(run_dir / "model.keras")
    return {
        "policies": sorted({layer.dtype_policy.name for layer in model.layers}),
        "optimizer": type(model.optimizer).__name__,
    }


def main(mode: str, work: Path) -> None:
    import tensorflow as tf

    if mode == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
    data = write_data(work)
    results: dict = {}
    if mode == "mirrored":
        for name in MODELS:
            results[name] = {
                "single": train_once(name, data, work / f"{name}_single"),
                "mirrored": train_once(
                    name, data, work / f"{name}_mirrored", "trainer.distribute=mirrored"
                ),
            }
    else:
        for precision in ("float32", "mixed_float16"):
            results[precision] = train_once(
                "mlp", data, work / f"mlp_{precision}", f"trainer.precision={precision}",
                "trainer.epochs=5",
            )  # fmt: skip
            results[precision] |= saved_model_precision(work / f"mlp_{precision}")
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
