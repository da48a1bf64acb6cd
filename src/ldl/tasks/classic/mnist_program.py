"""c4e2, aFe1, aFe2: the hand-written MNIST network as a run, with the run folder of any experiment.

The program prints the book's `epoch no: ...` lines and leaves history.csv, learning_curve.png,
weights.npz and resumable checkpoints. Its options are the `model` config's; learning rate, epochs,
batch size, seed and checkpoint interval default to the usual `optimizer` and `trainer` keys, so
`trainer.epochs=5` works here as it does for a Keras run.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import DictConfig
from threadpoolctl import threadpool_limits

from ldl.data.datasets import resolve_validation, split_validation, target_values
from ldl.data.mnist import load_mnist
from ldl.errors import ConfigError
from ldl.runs.files import write_json
from ldl.runs.report import plot_learning_curve, write_history
from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode
from ldl.tasks.classic.activations import check_activation
from ldl.tasks.classic.checkpoints import NetworkCheckpoints
from ldl.tasks.classic.mnist_network import (
    BATCH_ORDERS,
    IMPLEMENTATIONS,
    TEST_EVALUATIONS,
    EpochResult,
    TrainingState,
    count_correct,
    format_epoch,
    run_epoch,
)


@dataclass(frozen=True)
class NetworkArrays:
    """MNIST as the chapter 4 program sees it: float64 rows of 784 values, one-hot float64 targets."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_held_out: (
        np.ndarray
    )  # evaluated after every epoch: the test set (the book) or a validation set
    labels_held_out: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray
    held_out_name: str  # "test" or "val", as the printed line calls it
    statistics: dict[str, float]


def _scale(data: DictConfig, x_train: np.ndarray, others: list[np.ndarray]) -> tuple[list, dict]:
    """Chapter 4's global standardization in float64 (training statistics only), or the options."""
    mode = data.standardize
    if mode == "global":
        mean, std = float(np.mean(x_train)), float(np.std(x_train))
        std = std if std > 0.0 else 1.0
        return [(x - mean) / std for x in (x_train, *others)], {"mean": mean, "std": std}
    if mode == "divide_255":
        return [x / 255.0 for x in (x_train, *others)], {"scale": 255.0}
    if mode == "none":
        return [x.astype(np.float64) for x in (x_train, *others)], {}
    raise ConfigError(
        f"data.standardize={mode!r} is not offered for the hand-written network; use global (the "
        "book), divide_255 or none."
    )


def load_network_arrays(cfg: DictConfig) -> NetworkArrays:
    """Read MNIST, carve the validation part (trainer.validation), scale and one-hot encode."""
    data = cfg.data
    if data.name != "mnist":
        raise ConfigError(
            f"model={cfg.model.name} is chapter 4's MNIST network and trains on data=mnist, not "
            f"data={data.name}."
        )
    if not data.one_hot:
        raise ConfigError(
            "The hand-written network's loss compares its ten outputs with one-hot targets; "
            "data.one_hot=false is offered for Keras runs only."
        )
    raw = load_mnist(cfg.data_dir, download=bool(data.download)).head(
        data.max_train_examples, data.max_test_examples
    )
    trainer = cfg.trainer
    validation = resolve_validation(trainer.validation, cfg.get("cv"))
    x = raw.x_train.reshape(len(raw.x_train), -1)
    x_train, y_train, x_val, y_val = split_validation(
        x,
        raw.y_train,
        validation,
        trainer.validation_fraction,
        trainer.validation_seed,
        cfg.get("cv"),
    )
    x_test = raw.x_test.reshape(len(raw.x_test), -1)
    held_out = [x_test] if x_val is None else [x_test, x_val]
    scaled, statistics = _scale(data, x_train, held_out)
    x_train, x_test = scaled[0], scaled[1]
    low, high = target_values(data)
    targets = np.full((len(y_train), int(data.num_classes)), low)
    targets[np.arange(len(y_train)), y_train] = high
    labels_test = raw.y_test.astype(np.int64)
    if x_val is None or y_val is None:
        return NetworkArrays(
            x_train, targets, x_test, labels_test, x_test, labels_test, "test", statistics
        )
    return NetworkArrays(
        x_train, targets, scaled[2], y_val.astype(np.int64), x_test, labels_test, "val", statistics
    )


@dataclass(frozen=True)
class NetworkOptions:
    """The model config's options, checked once."""

    hidden_units: int
    hidden_activation: Any
    output_activation: Any
    init_range: float
    learning_rate: float
    epochs: int
    batch_size: int
    seed: int | None
    implementation: Any
    batch_order: Any
    average_hidden_gradient: bool
    test_evaluation: Any
    checkpoint_every: int
    restore_best: bool


def _choice(model: DictConfig, key: str, choices: tuple[str, ...]) -> str:
    value = model[key]
    if value not in choices:
        raise ConfigError(
            f"model.{key}={value!r} is not offered; use one of: {', '.join(choices)}."
        )
    return str(value)


def _positive_int(model: DictConfig, key: str) -> int:
    value = model[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"model.{key} must be an integer >= 1, got {value!r}.")
    return value


def _one_hidden_layer(model: DictConfig) -> int:
    units = list(model.hidden_units)
    if (
        len(units) != 1
        or isinstance(units[0], bool)
        or not isinstance(units[0], int)
        or units[0] < 1
    ):
        raise ConfigError(
            f"model.hidden_units={units} is not offered: chapter 4's hand-written network has one "
            "hidden layer, e.g. model.hidden_units=[25] (deeper networks: model=fc with Keras)."
        )
    return units[0]


def network_options(cfg: DictConfig) -> NetworkOptions:
    """The model config as NetworkOptions, or a ConfigError naming the first bad value."""
    model, optimizer = cfg.model, cfg.optimizer
    if optimizer.name != "sgd" or optimizer.get("momentum", 0.0) or optimizer.get("nesterov"):
        raise ConfigError(
            f"model={model.name} is trained by the book's hand-written gradient descent, which has no "
            f"optimizer={optimizer.name} (momentum {optimizer.get('momentum', 0.0)}); use "
            "optimizer=sgd with momentum 0, or a Keras model (experiment=c5e1) for other optimizers."
        )
    learning_rate = model.learning_rate
    if (
        isinstance(learning_rate, bool)
        or not isinstance(learning_rate, int | float)
        or learning_rate <= 0
    ):
        raise ConfigError(f"model.learning_rate must be a positive number, got {learning_rate!r}.")
    init_range = model.init_range
    if isinstance(init_range, bool) or not isinstance(init_range, int | float) or init_range <= 0:
        raise ConfigError(f"model.init_range must be a positive number, got {init_range!r}.")
    try:
        hidden_activation = check_activation(model.hidden_activation, "hidden")
        output_activation = check_activation(model.output_activation, "output")
    except ValueError as error:
        raise ConfigError(f"model: {error}.") from None
    seed = model.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ConfigError(f"model.seed must be null or an integer >= 0, got {seed!r}.")
    epochs = model.epochs
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ConfigError(f"model.epochs must be an integer >= 0, got {epochs!r}.")
    for key in ("average_hidden_gradient", "restore_best"):
        if not isinstance(model[key], bool):
            raise ConfigError(f"model.{key} must be true or false, got {model[key]!r}.")
    return NetworkOptions(
        hidden_units=_one_hidden_layer(model),
        hidden_activation=hidden_activation,
        output_activation=output_activation,
        init_range=float(init_range),
        learning_rate=float(learning_rate),
        epochs=epochs,
        batch_size=_positive_int(model, "batch_size"),
        seed=seed,
        implementation=_choice(model, "implementation", IMPLEMENTATIONS),
        batch_order=_choice(model, "batch_order", BATCH_ORDERS),
        average_hidden_gradient=model.average_hidden_gradient,
        test_evaluation=_choice(model, "test_evaluation", TEST_EVALUATIONS),
        checkpoint_every=_positive_int(model, "checkpoint_every"),
        restore_best=model.restore_best,
    )


def _history_rows(history: list[EpochResult]) -> list[dict[str, float]]:
    """history.csv rows; the data evaluated after each epoch is `val/`, as in a Keras run's history."""
    return [
        {
            "train/accuracy": result.train_accuracy,
            "train/error": 1.0 - result.train_accuracy,
            "val/accuracy": result.test_accuracy,
            "val/error": 1.0 - result.test_accuracy,
        }
        for result in history
    ]


def _example_counts(arrays: NetworkArrays) -> str:
    if arrays.held_out_name == "test":
        return f"train/test examples: {len(arrays.x_train)}/{len(arrays.x_test)}"
    return (
        f"train/validation/test examples: {len(arrays.x_train)}/{len(arrays.x_held_out)}/"
        f"{len(arrays.x_test)}"
    )


def _train_epochs(
    state: TrainingState,
    arrays: NetworkArrays,
    options: NetworkOptions,
    checkpoints: NetworkCheckpoints,
    say: Say,
    seed: int,
    seconds_before: float,
    started: float,
) -> None:
    """The remaining epochs: train, evaluate the held-out data, print the book's line, checkpoint."""
    for epoch in range(len(state.history), options.epochs):
        train_accuracy = run_epoch(
            state,
            arrays.x_train,
            arrays.y_train,
            options.learning_rate,
            options.batch_size,
            options.implementation,
            options.batch_order,
            options.average_hidden_gradient,
        )
        correct = count_correct(
            state.network,
            arrays.x_held_out,
            arrays.labels_held_out,
            options.batch_size,
            options.test_evaluation,
        )
        result = EpochResult(epoch, train_accuracy, correct / len(arrays.x_held_out))
        state.history.append(result)
        say(format_epoch(result, arrays.held_out_name))
        if (epoch + 1) % options.checkpoint_every == 0 or epoch + 1 == options.epochs:
            elapsed = seconds_before + time.perf_counter() - started
            checkpoints.save(state, {"seed": seed, "train_seconds": elapsed})


def _start_or_resume(
    options: NetworkOptions,
    arrays: NetworkArrays,
    checkpoints: NetworkCheckpoints,
    run: RunFolder,
    mode: RunMode,
    say: Say,
) -> tuple[TrainingState, int, float]:
    """A fresh training state from the seed, or the checkpointed one of a resumed run (whose epochs
    are printed again); with its seed and the seconds trained before."""
    loaded = checkpoints.load() if mode is RunMode.RESUME else None
    if loaded is None:
        seed = options.seed if options.seed is not None else secrets.randbelow(2**31 - 1)
        state = TrainingState.start(
            seed,
            examples=len(arrays.x_train),
            inputs=arrays.x_train.shape[1],
            outputs=arrays.y_train.shape[1],
            hidden_units=options.hidden_units,
            init_range=options.init_range,
            hidden_activation=options.hidden_activation,
            output_activation=options.output_activation,
            batch_size=options.batch_size,
            batch_order=options.batch_order,
        )
        seconds_before = 0.0
    else:
        state, record = loaded
        seed, seconds_before = record["seed"], float(record["train_seconds"])
        say(f"Resuming after epoch {state.history[-1].epoch} from {run.checkpoint_dir}")
        for result in state.history:
            say(format_epoch(result, arrays.held_out_name))
    return state, seed, seconds_before


def _network_metrics(
    network: Any,
    state: TrainingState,
    arrays: NetworkArrays,
    seed: int,
    train_seconds: float,
    best_epoch: int | None,
) -> dict[str, Any]:
    """The run's metrics.json: test accuracy, and every epoch's training and held-out accuracy."""
    test_accuracy = count_correct(network, arrays.x_test, arrays.labels_test) / len(arrays.x_test)
    metrics: dict[str, Any] = {
        "train_seconds": train_seconds,
        "epochs_completed": len(state.history),
        "seed": seed,
        "device": "CPU (plain NumPy)",
        "parameters": network.hidden_weights.size + network.output_weights.size,
        "test/accuracy": test_accuracy,
        "test/error": 1.0 - test_accuracy,
    }
    if state.history:
        metrics["train/accuracy"] = state.history[-1].train_accuracy
    if best_epoch is not None:
        metrics["best_epoch"] = best_epoch
    for result in state.history:
        metrics[f"epoch_{result.epoch}/train/accuracy"] = result.train_accuracy
        metrics[f"epoch_{result.epoch}/{arrays.held_out_name}/accuracy"] = result.test_accuracy
    return metrics


def run_mnist_network(cfg: DictConfig, say: Say, run: RunFolder, mode: RunMode) -> dict[str, Any]:
    """Train the chapter 4 network and print each epoch as the book; return the run's metrics."""
    options = network_options(cfg)
    arrays = load_network_arrays(cfg)
    if options.batch_size > len(arrays.x_train):
        raise ConfigError(
            f"model.batch_size={options.batch_size} exceeds the {len(arrays.x_train)} training "
            "examples (a full batch is the training set's size)."
        )
    checkpoints = NetworkCheckpoints(run.checkpoint_dir)
    state, seed, seconds_before = _start_or_resume(options, arrays, checkpoints, run, mode, say)
    say(
        f"network: {arrays.x_train.shape[1]}-{options.hidden_units}-{arrays.y_train.shape[1]} "
        f"{options.hidden_activation}/{options.output_activation} | implementation: "
        f"{options.implementation} | batch size {options.batch_size} | seed: {seed} | "
        + _example_counts(arrays)
    )

    started = time.perf_counter()
    # One BLAS thread: these matrix products are too small for threads to pay off (on a busy machine
    # they made a mini-batch epoch ten times slower), and the result no longer depends on the core count.
    with threadpool_limits(limits=1, user_api="blas"):
        _train_epochs(state, arrays, options, checkpoints, say, seed, seconds_before, started)
    train_seconds = seconds_before + time.perf_counter() - started

    network, best_epoch = state.network, None
    if options.restore_best and state.history:
        saved = set(checkpoints.saved_epochs())
        candidates = [result for result in state.history if result.epoch in saved]
        best = max(candidates, key=lambda result: result.test_accuracy)  # first of equals
        best_epoch = best.epoch
        network = checkpoints.load_epoch(best_epoch, state.network)
        say(
            f"Restored the checkpoint of epoch {best_epoch}, the lowest {arrays.held_out_name} error "
            f"({1.0 - best.test_accuracy:.4f}) of the checkpointed epochs"
        )
    np.savez(run.path / "weights.npz", hidden=network.hidden_weights, output=network.output_weights)
    write_json(run.path / "data.json", {"statistics": arrays.statistics})
    rows = _history_rows(state.history)
    write_history(run.history_path, rows)
    plot_learning_curve(
        run.learning_curve_path,
        rows,
        f"{cfg.experiment_id}: hand-written network",
        "test" if arrays.held_out_name == "test" else "validation",
    )

    return _network_metrics(network, state, arrays, seed, train_seconds, best_epoch)
