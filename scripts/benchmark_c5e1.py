"""Benchmark c5e1 (MNIST, batch size 1): ldl versus a plain-Keras script in the book's style.

Why this exists: the book trains c5e1 by handing NumPy arrays to `model.fit(batch_size=1)`, and at
batch size 1 almost all of the time goes to per-step overhead (one Python/tf.function round trip
per example, and a validation pass that is also at batch 1, since fit()'s validation_batch_size
defaults to batch_size), not to arithmetic. ldl runs the same model, loss, optimizer and learning
rate, but feeds a tf.data pipeline, runs many steps per tf.function call (`steps_per_execution`) and
validates at batch 1,024. None of that changes the math, so the target is: ldl at least 5x faster
per epoch at the same test accuracy. Note that the default subset (10,000 / 10,000) weights the
validation pass more than a full c5e1 epoch does (60,000 / 10,000); use --train-examples 60000 for that.

Both sides run on the same machine, in the same invocation, one after the other, on the same first
`--train-examples` / `--test-examples` MNIST examples, each in its own subprocess (this script
re-invokes itself with `--side`) so that neither inherits the other's TensorFlow state.

What is timed, on both sides, is the span ldl records as `train_seconds` (training.recorder.RunRecorder):
from fit()'s `on_train_begin` to the last `on_epoch_end`, i.e. every epoch's training steps and its
validation pass over the test examples (the book's run does that each epoch), excluding data loading,
preprocessing, model building and the final `evaluate`. The baseline measures exactly that span with a
callback that does nothing per batch. The wall-clock of the whole fit() call is shown beside it: it
adds what fit() does before `on_train_begin` and after the last epoch (wrapping arrays into a dataset,
tearing down iterators); on a busy 2-core machine fit() sometimes returns seconds after its last
callback, on both sides, once per fit() call rather than per epoch.

Run from the repository root:

    .venv/bin/python scripts/benchmark_c5e1.py                  # 10,000 / 10,000 examples, 1 epoch
    .venv/bin/python scripts/benchmark_c5e1.py --steps-per-execution 100 --jit-compile true
    .venv/bin/python scripts/benchmark_c5e1.py --repeats 5       # medians, for a busy machine
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_support import default_data_dir, print_result, run_child

SIDES = ("baseline", "ldl")
TARGET_SPEEDUP = 5.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="c5e1 (batch size 1) seconds per epoch: ldl versus a book-style Keras script."
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder holding MNIST (default: $LDL_DATA_DIR, else ../shared/data from the repo root)",
    )
    parser.add_argument("--train-examples", type=int, default=10_000)
    parser.add_argument("--test-examples", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run both sides this many times, alternating, and report the medians (noisy machines)",
    )
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        default=0,
        help="ldl's trainer.steps_per_execution (0 = ldl's automatic choice)",
    )
    parser.add_argument(
        "--jit-compile",
        choices=("true", "false", "auto"),
        default="auto",
        help="ldl's trainer.jit_compile (auto = Keras decides: off on CPU)",
    )
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)  # set by the parent
    args = parser.parse_args(argv)
    for name in ("train_examples", "test_examples", "epochs", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.steps_per_execution < 0:
        parser.error("--steps-per-execution must be 0 (automatic) or positive")
    if args.data_dir is None:
        args.data_dir = default_data_dir()
    args.data_dir = args.data_dir.expanduser().resolve()
    return args


@contextmanager
def timed_fit(totals: dict[str, float], include_graph_loop: bool = False) -> Iterator[None]:
    """Add up the seconds of every training call made inside the block: `keras.Model.fit`, and
    with `include_graph_loop` also ldl's graph loop (`trainer.loop`), which trains without fit().

    `totals` receives "fit_seconds" (wall-clock) and "fit_cpu_seconds" (CPU time of this process,
    all threads): CPU time hardly grows when other processes compete for the cores, wall time does.
    ldl trains deep inside `train(cfg)`; wrapping the functions is the only way to time exactly the
    same span there as around the baseline's own fit() call.
    """
    from ldl.tf_setup import import_tensorflow

    import_tensorflow()  # before keras, so that TensorFlow's start-up banner stays quiet
    import keras

    totals.update(fit_seconds=0.0, fit_cpu_seconds=0.0)

    def timed(original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started, cpu_started = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                totals["fit_seconds"] += time.perf_counter() - started
                totals["fit_cpu_seconds"] += time.process_time() - cpu_started

        return call

    targets: list[tuple[Any, str]] = [(keras.Model, "fit")]
    if include_graph_loop:
        from ldl.training import recipe

        targets.append((recipe, "fit_in_graph"))  # the name the trainer calls
    originals = [(owner, name, getattr(owner, name)) for owner, name in targets]
    for owner, name, original in originals:
        setattr(owner, name, timed(original))
    try:
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def training_span_callback(record: dict[str, float]) -> Any:
    """A Keras callback that stores in `record["train_seconds"]` the span ldl's RunRecorder measures.

    That is from `on_train_begin` to the latest `on_epoch_end` (after the epoch's validation pass).
    It defines no per-batch hooks, so Keras never calls it during an epoch and it costs nothing.
    """
    import keras

    class TrainingSpan(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            record["train_seconds"] = time.perf_counter() - self.started

    return TrainingSpan()


# ---------------------------------------------------------------------------------------------
# The two sides; each runs in its own process and returns a dict of results.


def run_baseline(args: argparse.Namespace) -> dict[str, Any]:
    """The book's c5e1 script: NumPy arrays into `model.fit(batch_size=1)`, test set as validation."""
    from ldl.data.mnist import load_mnist
    from ldl.data.preprocessing import one_hot, standardize_global
    from ldl.tf_setup import import_tensorflow

    import_tensorflow()  # before keras, so that TensorFlow's start-up banner stays quiet
    import keras

    # Same examples and preprocessing as ldl: the first N examples, standardized with the mean and
    # std of those training examples (the whole training set when N = 60,000, as in the book).
    raw = load_mnist(args.data_dir).head(args.train_examples, args.test_examples)
    x_train, x_test, _, _ = standardize_global(raw.x_train, raw.x_test)
    y_train, y_test = one_hot(raw.y_train, 10), one_hot(raw.y_test, 10)

    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            keras.layers.Flatten(),
            keras.layers.Dense(
                25,
                activation="tanh",
                kernel_initializer=keras.initializers.RandomUniform(minval=-0.1, maxval=0.1),
                bias_initializer="zeros",
            ),
            keras.layers.Dense(
                10,
                activation="sigmoid",
                kernel_initializer=keras.initializers.RandomUniform(minval=-0.1, maxval=0.1),
                bias_initializer="zeros",
            ),
        ]
    )
    model.compile(
        loss="mean_squared_error",
        optimizer=keras.optimizers.SGD(learning_rate=0.01),
        metrics=["accuracy"],
    )
    totals: dict[str, float] = {}
    record: dict[str, float] = {}
    with timed_fit(totals):
        model.fit(
            x_train,
            y_train,
            validation_data=(x_test, y_test),
            epochs=args.epochs,
            batch_size=1,
            shuffle=True,
            verbose=2,
            callbacks=[training_span_callback(record)],
        )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return {"train_seconds": record["train_seconds"], **totals, "test_accuracy": float(accuracy)}


def hydra_value(value: object) -> str:
    """Quote a value for a Hydra command-line override (paths may hold spaces, '=' or commas).

    In Hydra's quoted strings only backslashes before a quote or at the end need doubling.
    """
    text = re.sub(r"(\\+)(?='|$)", lambda match: match.group(1) * 2, str(value))
    return "'" + text.replace("'", "\\'") + "'"


def run_ldl(args: argparse.Namespace) -> dict[str, Any]:
    """ldl's real c5e1 config, composed with Hydra's compose API, trained with `train(cfg)`."""
    from hydra import compose, initialize_config_dir

    from ldl.config import config_dir
    from ldl.training.train import train

    with tempfile.TemporaryDirectory(prefix="ldl-benchmark-") as run_dir:
        overrides = [
            "experiment=c5e1",
            f"data_dir={hydra_value(args.data_dir)}",
            f"data.max_train_examples={args.train_examples}",
            f"data.max_test_examples={args.test_examples}",
            f"trainer.epochs={args.epochs}",
            f"trainer.seed={args.seed}",
            f"trainer.steps_per_execution={args.steps_per_execution}",
            f"trainer.jit_compile={args.jit_compile}",
            "logger=none",
            f"run_dir={hydra_value(run_dir)}",
        ]
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            cfg = compose("train", overrides=overrides)
        totals: dict[str, float] = {}
        with timed_fit(totals, include_graph_loop=True):
            metrics = train(cfg)
    return {
        "train_seconds": float(metrics["train_seconds"]),
        **totals,
        "test_accuracy": float(metrics["test/accuracy"]),
    }


# ---------------------------------------------------------------------------------------------
# The parent: run both sides, then compare.


def summarize(runs: list[dict[str, Any]], epochs: int) -> dict[str, float]:
    """Medians over the repeats: seconds per epoch (each kind of span) and test accuracy."""
    return {
        "epoch": statistics.median(run["train_seconds"] for run in runs) / epochs,
        "fit_epoch": statistics.median(run["fit_seconds"] for run in runs) / epochs,
        "cpu_epoch": statistics.median(run["fit_cpu_seconds"] for run in runs) / epochs,
        "low": min(run["train_seconds"] for run in runs) / epochs,
        "high": max(run["train_seconds"] for run in runs) / epochs,
        "accuracy": statistics.median(run["test_accuracy"] for run in runs),
    }


def report(
    args: argparse.Namespace, baseline_runs: list[dict[str, Any]], ldl_runs: list[dict[str, Any]]
) -> float:
    """Print the comparison table; return the speedup (plain Keras seconds / ldl seconds)."""
    baseline = summarize(baseline_runs, args.epochs)
    ldl = summarize(ldl_runs, args.epochs)
    speedup = baseline["epoch"] / ldl["epoch"]
    fit_speedup = baseline["fit_epoch"] / ldl["fit_epoch"]
    cpu_speedup = baseline["cpu_epoch"] / ldl["cpu_epoch"]
    difference = ldl["accuracy"] - baseline["accuracy"]
    repeats = f", median of {args.repeats} runs per side" if args.repeats > 1 else ""
    print()
    print(
        f"c5e1, batch size 1: {args.train_examples:,} training / {args.test_examples:,} test "
        f"examples, {args.epochs} epoch(s), seed {args.seed}{repeats}; ldl steps_per_execution="
        f"{args.steps_per_execution or 'auto'}, jit_compile={args.jit_compile}"
    )
    print(
        "seconds/epoch: wall-clock of training + validation (on_train_begin to the last "
        "on_epoch_end, ldl's train_seconds) / epochs. whole fit(): wall-clock of the fit() call (ldl: or of its graph loop) / "
        "epochs. CPU: CPU seconds of the fit() call (all threads) / epochs."
    )
    print()
    spread = f" {'range':>13}" if args.repeats > 1 else ""
    print(
        f"{'side':<12} {'seconds/epoch':>14}{spread} {'whole fit()':>12} {'CPU':>8} "
        f"{'test accuracy':>14}"
    )
    for name, side in (("plain Keras", baseline), ("ldl", ldl)):
        spread = f" {side['low']:>6.2f}-{side['high']:<6.2f}" if args.repeats > 1 else ""
        print(
            f"{name:<12} {side['epoch']:>14.2f}{spread} {side['fit_epoch']:>12.2f} "
            f"{side['cpu_epoch']:>8.2f} {side['accuracy']:>14.4f}"
        )
    print()
    print(f"speedup (plain Keras / ldl): {speedup:.2f}×")
    print(f"  by whole fit() calls: {fit_speedup:.2f}×, by CPU seconds: {cpu_speedup:.2f}×")
    print(f"test accuracy difference (ldl - plain Keras): {difference:+.4f}")
    verdict = "meets" if speedup >= TARGET_SPEEDUP else "misses"
    print(f"target ldl >= {TARGET_SPEEDUP:.0f}× faster: {verdict} it")
    return speedup


def warn_if_busy() -> None:
    """Say so when other processes already keep the CPU busy: then the timings are noisy."""
    if not hasattr(os, "getloadavg"):
        return
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 0.5 * cores:
        print(
            f"note: the 1-minute load average is {load:.1f} on {cores} cores before the benchmark "
            "starts; other processes compete for the CPU, so expect noisy timings (repeat the run "
            "when the machine is idle).",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.side is not None:
        result = run_baseline(args) if args.side == "baseline" else run_ldl(args)
        print_result(result)
        return 0
    warn_if_busy()
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for repeat in range(1, args.repeats + 1):
        for side in SIDES:
            label = f"{side} ({repeat}/{args.repeats})" if args.repeats > 1 else side
            print(f"--- {label} ---", flush=True)
            runs[side].append(
                run_child(__file__, [*argv, "--side", side], tag=side, name=f"{side} side")
            )
    report(args, runs["baseline"], runs["ldl"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
