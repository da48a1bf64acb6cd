"""The baselines of `benchmark_all.py`: each experiment trained the book's way, in plain Keras.

The book's programs build a Keras model, pass NumPy arrays to `model.fit(...)` with the test set as
validation data (`validation_data=(x_test, y_test)`, `verbose=2`), and evaluate it at the end. Each
function here does that for one experiment, with the same examples and preprocessing as ldl (the data
comes from ldl's own loaders, so both sides read the same files and pay the same loading cost), and
returns the test metric. Run one case per process:

    .venv/bin/python scripts/book_style_keras.py c6e1 --data-dir ../shared/data --seed 0

The last line printed is `BENCHMARK_RESULT {...}` (benchmark_support.print_result).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_support import default_data_dir, print_result

CONFIG_ROOT = Path(__file__).resolve().parent.parent / "configs"


def data_config(name: str, **overrides: Any) -> dict[str, Any]:
    """ldl's data config `configs/data/<name>.yaml` with `overrides`, as a plain dict."""
    from omegaconf import OmegaConf

    config = OmegaConf.to_container(OmegaConf.load(CONFIG_ROOT / "data" / f"{name}.yaml"))
    if not isinstance(config, dict):
        raise SystemExit(f"configs/data/{name}.yaml is not a mapping")
    return {**config, **overrides, "download": False}


def keras_module() -> Any:
    from ldl.tf_setup import import_tensorflow

    import_tensorflow()  # before keras, so that TensorFlow's start-up banner stays quiet
    import keras

    return keras


def fit_and_test(
    model: Any, data: Any, epochs: int, batch_size: int, metric: str, validate: bool = True
) -> float:
    """The book's fit() call (test set as validation data), then the test metric."""
    model.fit(
        data.x_train,
        data.y_train,
        validation_data=(data.x_test, data.y_test) if validate else None,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=2,
    )
    results = model.evaluate(data.x_test, data.y_test, verbose=0, return_dict=True)
    return float(results[metric])


def dense_network(keras: Any, inputs: Any, layers: list[tuple[int, str, Any]]) -> Any:
    return keras.Sequential(
        [keras.Input(shape=inputs)]
        + [keras.layers.Flatten()] * (len(inputs) > 1)
        + [
            keras.layers.Dense(units, activation=activation, kernel_initializer=initializer)
            for units, activation, initializer in layers
        ]
    )


def book_arrays(raw: Any) -> Any:
    """Images as the book prepares them: float32 arrays standardized with the training images' global
    mean and std, up front; one-hot labels (10 classes)."""
    from types import SimpleNamespace

    from ldl.data.preprocessing import one_hot, standardize_global

    x_train, x_test, _, _ = standardize_global(raw.x_train, raw.x_test)
    return SimpleNamespace(
        x_train=x_train,
        y_train=one_hot(raw.y_train, 10),
        x_test=x_test,
        y_test=one_hot(raw.y_test, 10),
    )


def mnist_arrays(args: argparse.Namespace, examples: int | None = None) -> Any:
    """The first `examples` MNIST training and test images (all without), as the book prepares them."""
    from ldl.data.mnist import load_mnist

    return book_arrays(load_mnist(args.data_dir, download=False).head(examples, examples))


def c5e1(args: argparse.Namespace) -> float:
    """Table 5-1 conf1: 784-25 tanh-10 sigmoid, U(-0.1, 0.1), SGD 0.01, MSE, batch 1."""
    keras = keras_module()
    data = mnist_arrays(args, args.examples)
    keras.utils.set_random_seed(args.seed)
    uniform = keras.initializers.RandomUniform(minval=-0.1, maxval=0.1)
    model = dense_network(keras, (28, 28), [(25, "tanh", uniform), (10, "sigmoid", uniform)])
    model.compile(
        loss="mean_squared_error", optimizer=keras.optimizers.SGD(0.01), metrics=["accuracy"]
    )
    return fit_and_test(model, data, args.epochs, 1, "accuracy")


def c5e2(args: argparse.Namespace) -> float:
    """Table 5-1 conf5: 784-25 ReLU (He normal)-10 softmax (Glorot), Adam, cross-entropy, batch 64."""
    keras = keras_module()
    data = mnist_arrays(args)
    keras.utils.set_random_seed(args.seed)
    model = dense_network(
        keras, (28, 28), [(25, "relu", "he_normal"), (10, "softmax", "glorot_uniform")]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return fit_and_test(model, data, args.epochs, 64, "accuracy")


def boston_network(keras: Any) -> Any:
    """Table 6-2 conf2 (c6e1): 13-64-64-1 ReLU, Adam, MSE, MAE."""
    model = dense_network(
        keras,
        (13,),
        [
            (64, "relu", "glorot_uniform"),
            (64, "relu", "glorot_uniform"),
            (1, None, "glorot_uniform"),
        ],
    )
    model.compile(loss="mean_squared_error", optimizer="adam", metrics=["mae"])
    return model


def c6e1(args: argparse.Namespace) -> float:
    """Chapter 6's Boston Housing network, batch 16, 500 epochs."""
    from ldl.data.boston_housing import prepare_boston_housing

    keras = keras_module()
    data = prepare_boston_housing(data_config("boston_housing"), args.data_dir)
    keras.utils.set_random_seed(args.seed)
    return fit_and_test(boston_network(keras), data, args.epochs, 16, "mae")


def c6_fold(args: argparse.Namespace) -> float:
    """One job of the chapter 6 k-fold study, the book's way: c6e1 on 4/5 of the training rows,
    validated on the fifth (fold 0 of 5), scored by that fold's validation MAE."""
    from types import SimpleNamespace

    from ldl.data.boston_housing import prepare_boston_housing

    keras = keras_module()
    data = prepare_boston_housing(data_config("boston_housing"), args.data_dir)
    folds = np.array_split(np.random.default_rng(args.seed).permutation(len(data.x_train)), 5)
    held_out, kept = folds[0], np.concatenate(folds[1:])
    fold = SimpleNamespace(
        x_train=data.x_train[kept],
        y_train=data.y_train[kept],
        x_test=data.x_train[held_out],
        y_test=data.y_train[held_out],
    )
    keras.utils.set_random_seed(args.seed)
    return fit_and_test(boston_network(keras), fold, args.epochs, 16, "mae")


def c9e1(args: argparse.Namespace) -> float:
    """Chapter 9's book-sales forecaster: SimpleRNN 128 ReLU -> Dense 1, Adam, MSE, batch 16."""
    from ldl.tasks.forecasting.data import prepare_book_sales

    keras = keras_module()
    data = prepare_book_sales(data_config("book_sales"), args.data_dir)
    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential(
        [
            keras.Input(shape=data.x_train.shape[1:]),
            keras.layers.SimpleRNN(128, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(loss="mean_squared_error", optimizer="adam", metrics=["mae"])
    return fit_and_test(model, data, args.epochs, 16, "mae")


def cifar_subset(args: argparse.Namespace) -> Any:
    """The first `--examples` CIFAR-10 training images and `--test-examples` test images, as the book
    prepares them."""
    from ldl.data.cifar10 import load_cifar10

    raw = load_cifar10(args.data_dir, download=False).head(args.examples, args.test_examples)
    return book_arrays(raw)


def c7_conf5(args: argparse.Namespace) -> float:
    """Table 7-1 conf5 (the book's c7e3 listing), Adam, batch 32."""
    from benchmark_vision import _book_c7_conf5

    keras = keras_module()
    data = cifar_subset(args)
    keras.utils.set_random_seed(args.seed)
    model = _book_c7_conf5()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return fit_and_test(model, data, args.epochs, 32, "accuracy")


def resnet20(args: argparse.Namespace) -> float:
    """ResNet-20 (the network ldl builds) behind Keras's augmentation layers: a random horizontal
    flip and a random shift of up to 4 pixels with zero fill (= pad 4 and crop 32, as ldl augments;
    both are identities at inference). SGD 0.1 momentum 0.9, batch 128; `--precision
    mixed_bfloat16` for the bf16 case."""
    from ldl.models.resnet import build_cifar_resnet

    keras = keras_module()
    data = cifar_subset(args)
    keras.mixed_precision.set_global_policy(args.precision)
    keras.utils.set_random_seed(args.seed)
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.RandomFlip("horizontal", seed=args.seed)(inputs)
    shift = 4 / 32
    x = keras.layers.RandomTranslation(shift, shift, fill_mode="constant", seed=args.seed)(x)
    model = keras.Model(inputs, build_cifar_resnet((32, 32, 3), 10, depth=20)(x))
    model.compile(
        loss="categorical_crossentropy",
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
        metrics=["accuracy"],
    )
    return fit_and_test(model, data, args.epochs, 128, "accuracy")


def c14e1(args: argparse.Namespace) -> float:
    """Chapter 14's LSTM encoder-decoder (the network ldl builds), RMSprop 0.01, batch 128, on the
    first `--examples` training pairs; scored by test token accuracy (teacher forcing)."""
    from ldl.tasks.translation.data import prepare_anki_fra_eng
    from ldl.tasks.translation.seq2seq import build_seq2seq

    keras = keras_module()
    config = data_config(
        "anki_fra_eng", max_train_examples=args.examples, max_test_examples=args.test_examples
    )
    data = prepare_anki_fra_eng(config, args.data_dir)
    keras.utils.set_random_seed(args.seed)
    model = build_seq2seq(10000, 10000)
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.RMSprop(0.01),
        metrics=["accuracy"],
    )
    return fit_and_test(model, data, args.epochs, 128, "accuracy")


PROGRAMS: dict[str, Callable[[argparse.Namespace], float]] = {
    "c5e1": c5e1,
    "c5e2": c5e2,
    "c6e1": c6e1,
    "c6_fold": c6_fold,
    "c9e1": c9e1,
    "c7_conf5": c7_conf5,
    "resnet20": resnet20,
    "c14e1": c14e1,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("program", choices=sorted(PROGRAMS))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--examples", type=int, default=None, help="first N training examples")
    parser.add_argument("--test-examples", type=int, default=None, help="first N test examples")
    parser.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16"))
    args = parser.parse_args(argv)
    args.data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    print_result({"metric": PROGRAMS[args.program](args)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
