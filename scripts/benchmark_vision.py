"""Benchmark vision training: images/second of ldl versus a plain-Keras book-style script, and the share
of the machine's matmul peak that ResNet-20 training reaches in float32 and bfloat16.

What runs, each case in its own subprocess (this script re-invokes itself with `--case`), all in one
invocation so that every number comes from the same machine state:

- `matmul`: GFLOP/s of a large square matmul (default 4096), float32 and bfloat16, best of several
  repeats after a warm-up: the machine's practical peak for each precision (bf16 units where the CPU has them).
- `keras-c7_conf5`, `keras-resnet20[-bf16]`: the book's way: NumPy arrays into `model.fit(batch_size=...)`,
  c7_conf5 as the book's Sequential listing, ResNet-20 as the same network ldl builds, with Keras's
  in-model augmentation layers (random flip, 4-pixel zero pad + random crop) where ldl augments.
- `ldl-c7_conf5`, `ldl-resnet20[-bf16]`: ldl's real experiment configs through `train(cfg)` (tf.data
  pipeline, augmentation inside it), `trainer.precision=mixed_bfloat16` for the -bf16 cases.

Every training case runs two epochs over the first `--train-examples` CIFAR-10 images with no
validation pass and times the second epoch only (the first includes tracing and compilation), so
images/second = examples / seconds of epoch 2. Achieved GFLOP/s = images/s x training FLOPs per image,
where training FLOPs = 3 x the forward FLOPs of the conv and dense layers (backward ~ 2x forward),
counted from the model's layer shapes. Peak memory is each process's maximum resident set size
(getrusage), so it includes TensorFlow itself and the loaded dataset.

    .venv/bin/python scripts/benchmark_vision.py                     # a few minutes
    .venv/bin/python scripts/benchmark_vision.py --train-examples 50000 --cases ldl-c7_conf5
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_c5e1 import hydra_value, warn_if_busy
from benchmark_support import default_data_dir, print_result, run_child

CASES = (
    "matmul",
    "keras-c7_conf5",
    "ldl-c7_conf5",
    "keras-resnet20",
    "ldl-resnet20",
    "keras-resnet20-bf16",
    "ldl-resnet20-bf16",
)
BATCH_SIZES = {"c7_conf5": 32, "resnet20": 128}
EXPERIMENTS = {"c7_conf5": "c7_conf5", "resnet20": "resnet20_cifar10"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="folder holding CIFAR-10")
    parser.add_argument(
        "--train-examples",
        type=int,
        default=6400,
        help="images per epoch (6,400 = 200 steps of c7_conf5, 50 of ResNet-20)",
    )
    parser.add_argument("--matmul-size", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument(
        "--ldl-override",
        action="append",
        default=[],
        help="an extra Hydra override for the ldl cases, e.g. trainer.deterministic=false (repeatable)",
    )
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # set by the parent
    args = parser.parse_args(argv)
    if args.train_examples < 1 or args.matmul_size < 16:
        parser.error("--train-examples must be >= 1 and --matmul-size >= 16")
    args.data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    return args


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


# --- cases --------------------------------------------------------------------------------------


def run_matmul(args: argparse.Namespace) -> dict[str, Any]:
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    n = args.matmul_size
    result: dict[str, Any] = {}
    for dtype in ("float32", "bfloat16"):
        a = tf.random.normal((n, n), dtype=tf.float32, seed=1)
        b = tf.random.normal((n, n), dtype=tf.float32, seed=2)
        a, b = tf.cast(a, dtype), tf.cast(b, dtype)
        multiply = tf.function(lambda x, y: tf.matmul(x, y))
        multiply(a, b).numpy()  # warm-up
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            multiply(a, b).numpy()
            best = min(best, time.perf_counter() - started)
        result[f"matmul_gflops_{dtype}"] = 2 * n**3 / best / 1e9
    return result


def training_flops_per_image(model: Any) -> float:
    """3 x forward multiply-adds x 2 of every Conv2D and Dense layer (backward ~ twice forward)."""
    import keras

    macs = 0
    for layer in _all_layers(model):
        if isinstance(layer, keras.layers.Conv2D):
            _, height, width, channels_out = layer.output.shape
            kernel = layer.kernel.shape
            macs += height * width * channels_out * kernel[0] * kernel[1] * kernel[2]
        elif isinstance(layer, keras.layers.Dense):
            macs += layer.kernel.shape[0] * layer.kernel.shape[1]
    return 3 * 2 * macs


def _all_layers(model: Any) -> list[Any]:
    layers = []
    for layer in model.layers:
        layers.extend(_all_layers(layer) if hasattr(layer, "layers") else [layer])
    return layers


class EpochTimer:
    """A Keras callback recording each epoch's wall-clock seconds (no per-batch hooks)."""

    def __new__(cls, record: list[float]) -> Any:
        import keras

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
                self.started = time.perf_counter()

            def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
                record.append(time.perf_counter() - self.started)

        return Timer()


def _book_c7_conf5() -> Any:
    """The book's c7e3 listing (Sequential, Keras default initializers)."""
    import keras
    from keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D

    return keras.Sequential(
        [
            keras.Input(shape=(32, 32, 3)),
            Conv2D(64, (4, 4), activation="relu", padding="same"),
            Dropout(0.2),
            Conv2D(64, (2, 2), activation="relu", padding="same", strides=(2, 2)),
            Dropout(0.2),
            Conv2D(32, (3, 3), activation="relu", padding="same"),
            Dropout(0.2),
            Conv2D(32, (3, 3), activation="relu", padding="same"),
            MaxPooling2D(pool_size=(2, 2)),
            Dropout(0.2),
            Flatten(),
            Dense(64, activation="relu"),
            Dropout(0.2),
            Dense(64, activation="relu"),
            Dropout(0.2),
            Dense(10, activation="softmax"),
        ]
    )


def _keras_resnet20(seed: int) -> Any:
    """ResNet-20 (the network ldl builds) behind Keras's own augmentation layers."""
    import keras

    from ldl.models.resnet import build_cifar_resnet

    network = build_cifar_resnet((32, 32, 3), 10, depth=20)
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.RandomFlip("horizontal", seed=seed)(inputs)
    x = keras.layers.ZeroPadding2D(4)(x)
    x = keras.layers.RandomCrop(32, 32, seed=seed)(x)
    return keras.Model(inputs, network(x))


def run_keras(args: argparse.Namespace, network: str, precision: str) -> dict[str, Any]:
    from ldl.data.cifar10 import load_cifar10
    from ldl.data.preprocessing import one_hot, standardize_global
    from ldl.tf_setup import import_tensorflow

    import_tensorflow()
    import keras

    raw = load_cifar10(args.data_dir, download=False).head(args.train_examples, 1)
    x_train, _, _, _ = standardize_global(raw.x_train, raw.x_test)
    y_train = one_hot(raw.y_train, 10)
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(args.seed)
    if network == "c7_conf5":
        model = _book_c7_conf5()
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    else:
        model = _keras_resnet20(args.seed)
        model.compile(
            loss="categorical_crossentropy",
            optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
            metrics=["accuracy"],
        )
    epochs: list[float] = []
    model.fit(
        x_train,
        y_train,
        epochs=2,
        batch_size=BATCH_SIZES[network],
        shuffle=True,
        verbose=2,
        callbacks=[EpochTimer(epochs)],
    )
    return {
        "epoch_seconds": epochs[-1],
        "flops_per_image": training_flops_per_image(model),
        "examples": len(x_train),
    }


def run_ldl(args: argparse.Namespace, network: str, precision: str) -> dict[str, Any]:
    from hydra import compose, initialize_config_dir

    from ldl.config import config_dir
    from ldl.tf_setup import import_tensorflow

    import_tensorflow()
    import keras

    from ldl.training import recipe as keras_training
    from ldl.training.train import train

    epochs: list[float] = []
    flops: list[float] = []
    examples: list[int] = []
    original_fit = keras.Model.fit
    original_prepare = keras_training.prepare_data

    def prepare_data(*prepare_args: Any, **kwargs: Any) -> Any:
        data = original_prepare(*prepare_args, **kwargs)
        examples.append(len(data.x_train))
        return data

    keras_training.prepare_data = prepare_data

    def fit(self: Any, *fit_args: Any, **kwargs: Any) -> Any:
        kwargs["callbacks"] = [EpochTimer(epochs), *kwargs.get("callbacks", [])]
        flops.append(training_flops_per_image(self))
        return original_fit(self, *fit_args, **kwargs)

    keras.Model.fit = fit
    with tempfile.TemporaryDirectory(prefix="ldl-benchmark-") as run_dir:
        overrides = [
            f"experiment={EXPERIMENTS[network]}",
            f"data_dir={hydra_value(args.data_dir)}",
            f"data.max_train_examples={args.train_examples}",
            "data.max_test_examples=1",
            "trainer.epochs=2",
            "trainer.validation=none",
            f"trainer.seed={args.seed}",
            f"trainer.precision={precision}",
            "logger=none",
            "trainer.verbose=2",
            f"run_dir={hydra_value(run_dir)}",
            *args.ldl_override,
        ]
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            cfg = compose("train", overrides=overrides)
        train(cfg)
    keras.Model.fit = original_fit
    keras_training.prepare_data = original_prepare
    return {"epoch_seconds": epochs[-1], "flops_per_image": flops[0], "examples": examples[0]}


def run_case(args: argparse.Namespace) -> dict[str, Any]:
    if args.case == "matmul":
        result = run_matmul(args)
    else:
        side, network, *rest = args.case.split("-")
        precision = "mixed_bfloat16" if rest == ["bf16"] else "float32"
        runner = run_keras if side == "keras" else run_ldl
        result = runner(args, network, precision)
        result["images_per_second"] = result["examples"] / result["epoch_seconds"]
        result["gflops"] = result["images_per_second"] * result["flops_per_image"] / 1e9
    return {**result, "peak_memory_mb": peak_memory_mb()}


# --- the parent -----------------------------------------------------------------------------------


def report(args: argparse.Namespace, results: dict[str, dict[str, Any]]) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print()
    print(
        f"CIFAR-10, {args.train_examples:,} training images per epoch, epoch 2 of 2 timed, no "
        f"validation; {os.cpu_count()} cores, 1-minute load average at the end {load:.1f}"
    )
    peaks = results.get("matmul", {})
    if peaks:
        print(
            f"matmul {args.matmul_size}x{args.matmul_size} peak: float32 "
            f"{peaks['matmul_gflops_float32']:.1f} GFLOP/s, bfloat16 "
            f"{peaks['matmul_gflops_bfloat16']:.1f} GFLOP/s"
        )
    print()
    print(f"{'case':<22} {'images/s':>9} {'GFLOP/s':>8} {'of peak':>8} {'peak RSS':>9}")
    for case, result in results.items():
        if case == "matmul":
            continue
        peak_key = "matmul_gflops_bfloat16" if case.endswith("bf16") else "matmul_gflops_float32"
        share = f"{result['gflops'] / peaks[peak_key]:.1%}" if peak_key in peaks else "-"
        print(
            f"{case:<22} {result['images_per_second']:>9.0f} {result['gflops']:>8.1f} {share:>8} "
            f"{result['peak_memory_mb']:>7.0f}MB"
        )
    print()
    for network in ("c7_conf5", "resnet20", "resnet20-bf16"):
        keras_case, ldl_case = f"keras-{network}", f"ldl-{network}"
        if keras_case in results and ldl_case in results:
            ratio = (
                results[ldl_case]["images_per_second"] / results[keras_case]["images_per_second"]
            )
            print(f"{network}: ldl / plain Keras images per second = {ratio:.2f}x")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.case is not None:
        print_result(run_case(args))
        return 0
    warn_if_busy()
    child_argv = []
    skipping = False
    for argument in argv:  # the children get every option but --cases and its values
        if argument == "--cases":
            skipping = True
        elif skipping and argument in CASES:
            continue
        else:
            skipping = False
            child_argv.append(argument)
    results = {}
    for case in args.cases:
        print(f"--- {case} ---", flush=True)
        results[case] = run_child(
            __file__, [*child_argv, "--case", case], tag=case, name=f"{case} case"
        )
    report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
