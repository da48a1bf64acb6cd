"""Benchmark c11e1 and c11e1_no_rdo (Frankenstein, character LSTMs): ldl versus a book-style Keras script.

Why this exists: the book builds every 40-character window as a float64 one-hot array before calling
`fit` (145,947 windows x 40 x 67 characters x 8 bytes = 3.1 GB, plus the targets), so the script needs
gigabytes of memory before it trains at all. ldl stores the windows as int32 character ids (23 MB) and
one-hot encodes each batch inside the tf.data pipeline. The math is identical; this script measures
what it costs: seconds per epoch and the peak resident memory of each side, for both variants
(recurrent dropout on, c11e1, and off, c11e1_no_rdo: recurrent dropout switches Keras's LSTM cell to its
slower per-gate `implementation=1` and, on a GPU, rules out the fused cuDNN kernel).

Both sides train the same model (LSTM 128 -> LSTM 128 -> Dense softmax, dropout 0.2, Adam, categorical
cross-entropy, batch 256) on the same windows: the first `--train-examples` training windows and the
first `--test-examples` of the last 5 % (the book's validation split), each side in its own process
(this script re-invokes itself with `--side`), one after the other, with the same seed. Timed span, as
in benchmark_c5e1.py: `on_train_begin` to the last `on_epoch_end` (training plus the validation pass),
which is what ldl records as `train_seconds`. Peak memory: the process's maximum resident set size
(`resource.getrusage`), which includes TensorFlow itself (about 0.8 GB on CPU).

Run from the repository root:

    .venv/bin/python scripts/benchmark_c11e1.py                          # 16,384 / 2,048 windows
    .venv/bin/python scripts/benchmark_c11e1.py --train-examples 0 --test-examples 0   # all windows
    .venv/bin/python scripts/benchmark_c11e1.py --variants c11e1_no_rdo --threads 1
    .venv/bin/python scripts/benchmark_c11e1.py --repeats 3 --epochs 2   # medians, busy machine
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_support import default_data_dir, print_result, run_child

SIDES = ("baseline", "ldl")
VARIANTS = ("c11e1", "c11e1_no_rdo")
WINDOW_LENGTH, WINDOW_STEP, BATCH_SIZE = 40, 3, 256


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="c11e1 / c11e1_no_rdo seconds per epoch and peak memory: ldl versus a "
        "book-style Keras script."
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with frankenstein.txt")
    parser.add_argument(
        "--train-examples", type=int, default=16_384, help="first N training windows (0 = all)"
    )
    parser.add_argument(
        "--test-examples", type=int, default=2_048, help="first N validation windows (0 = all)"
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow threads (both sides)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="run every side this many times, alternating, and report medians (noisy machines)",
    )
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.train_examples < 0 or args.test_examples < 0 or args.epochs < 1 or args.repeats < 1:
        parser.error("--train-examples/--test-examples must be >= 0, --epochs and --repeats >= 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    args.variant_list = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(args.variant_list) - set(VARIANTS))
    if unknown or not args.variant_list:
        parser.error(f"--variants must name some of {', '.join(VARIANTS)}; got {args.variants!r}")
    args.data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    return args


def peak_memory_mb() -> float:
    """This process's peak resident set size in MB (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def training_span_callback(record: dict[str, Any]) -> Any:
    """`on_train_begin` to the latest `on_epoch_end` (the span ldl records as train_seconds), plus the
    seconds of every epoch: the first one includes tracing and compiling the graphs."""
    import keras

    class TrainingSpan(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            self.started = self.previous = time.perf_counter()
            record["epoch_seconds"] = []

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            now = time.perf_counter()
            record["train_seconds"] = now - self.started
            record["epoch_seconds"].append(now - self.previous)
            record["val_loss"] = float((logs or {}).get("val_loss", float("nan")))
            self.previous = now

    return TrainingSpan()


def with_span_callback(record: dict[str, Any]) -> Any:
    """Patch keras.Model.fit to add the same TrainingSpan callback inside ldl's own fit() call."""
    import keras

    original = keras.Model.fit

    def fit(self: keras.Model, *args: Any, **kwargs: Any) -> Any:
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), training_span_callback(record)]
        return original(self, *args, **kwargs)

    keras.Model.fit = fit


def run_baseline(args: argparse.Namespace) -> dict[str, Any]:
    """The book's c11e1 script (Keras 3 names): float64 one-hot NumPy windows straight into fit()."""
    import numpy as np

    from ldl.tf_setup import configure_threads, import_tensorflow

    import_tensorflow()
    configure_threads(args.threads)
    import keras
    from keras import layers

    with open(args.data_dir / "frankenstein.txt", encoding="utf-8-sig") as stream:
        text = stream.read()
    text = text.lower().replace("\n", " ").replace("  ", " ")
    unique_chars = sorted(set(text))  # the book: list(set(text)); sorted = ldl's numbering
    char_to_index = {char: index for index, char in enumerate(unique_chars)}
    encoding_width = len(unique_chars)
    fragments, targets = [], []
    for i in range(0, len(text) - WINDOW_LENGTH, WINDOW_STEP):
        fragments.append(text[i : i + WINDOW_LENGTH])
        targets.append(text[i + WINDOW_LENGTH])
    # The book's validation_split=0.05: the last windows, before shuffling; then ldl's subset.
    cut = int(len(fragments) * 0.95)
    train_end = cut if not args.train_examples else min(cut, args.train_examples)
    val_end = (
        len(fragments) if not args.test_examples else min(len(fragments), cut + args.test_examples)
    )
    chosen = list(range(train_end)) + list(range(cut, val_end))

    def one_hot_windows(indices: list[int]) -> tuple[np.ndarray, np.ndarray]:
        x = np.zeros((len(indices), WINDOW_LENGTH, encoding_width))  # float64, as in the book
        y = np.zeros((len(indices), encoding_width))
        for row, index in enumerate(indices):
            for j, char in enumerate(fragments[index]):
                x[row, j, char_to_index[char]] = 1
            y[row, char_to_index[targets[index]]] = 1
        return x, y

    x, y = one_hot_windows(chosen)
    x_train, y_train, x_val, y_val = x[:train_end], y[:train_end], x[train_end:], y[train_end:]
    recurrent_dropout = 0.0 if args.variant == "c11e1_no_rdo" else 0.2
    keras.utils.set_random_seed(args.seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(None, encoding_width)),
            layers.LSTM(
                128, return_sequences=True, dropout=0.2, recurrent_dropout=recurrent_dropout
            ),
            layers.LSTM(128, dropout=0.2, recurrent_dropout=recurrent_dropout),
            layers.Dense(encoding_width, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    record: dict[str, float] = {}
    model.fit(
        x_train,
        y_train,
        validation_data=(x_val, y_val),
        batch_size=BATCH_SIZE,
        epochs=args.epochs,
        shuffle=True,
        verbose=2,
        callbacks=[training_span_callback(record)],
    )
    return {
        **record,
        "train_windows": len(x_train),
        "validation_windows": len(x_val),
        "array_megabytes": (x.nbytes + y.nbytes) / 2**20,
        "peak_mb": peak_memory_mb(),
    }


def hydra_value(value: object) -> str:
    """Quote a value for a Hydra command-line override (paths may hold spaces, '=' or commas)."""
    text = re.sub(r"(\\+)(?='|$)", lambda match: match.group(1) * 2, str(value))
    return "'" + text.replace("'", "\\'") + "'"


def run_ldl(args: argparse.Namespace) -> dict[str, Any]:
    """ldl's own c11e1 / c11e1_no_rdo config, trained with `train(cfg)` (no sample completions)."""
    from hydra import compose, initialize_config_dir

    from ldl.config import config_dir
    from ldl.tf_setup import import_tensorflow
    from ldl.training.train import train

    import_tensorflow()
    record: dict[str, Any] = {}
    with_span_callback(record)
    with tempfile.TemporaryDirectory(prefix="ldl-benchmark-") as run_dir:
        overrides = [
            f"experiment={args.variant}",
            f"data_dir={hydra_value(args.data_dir)}",
            f"trainer.epochs={args.epochs}",
            f"trainer.seed={args.seed}",
            "logger=none",
            "~callbacks.sample_completions",
            f"run_dir={hydra_value(run_dir)}",
        ]
        if args.train_examples:
            overrides.append(f"data.max_train_examples={args.train_examples}")
        if args.test_examples:
            overrides.append(f"data.max_test_examples={args.test_examples}")
        if args.threads is not None:
            overrides.append(f"trainer.threads={args.threads}")
        with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
            cfg = compose("train", overrides=overrides)
        metrics = train(cfg)
    return {
        **record,
        "ldl_train_seconds": float(metrics["train_seconds"]),
        "peak_mb": peak_memory_mb(),
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeated runs of one side (all values are per-run numbers)."""
    return {
        "train_seconds": statistics.median(run["train_seconds"] for run in runs),
        "last_epoch": statistics.median(run["epoch_seconds"][-1] for run in runs),
        "val_loss": statistics.median(run["val_loss"] for run in runs),
        "peak_mb": statistics.median(run["peak_mb"] for run in runs),
        **{key: runs[0][key] for key in ("train_windows", "validation_windows", "array_megabytes")
           if key in runs[0]},
    }  # fmt: skip


def report(args: argparse.Namespace, runs: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    results = {
        variant: {side: median_run(side_runs) for side, side_runs in sides.items()}
        for variant, sides in runs.items()
    }
    first = next(iter(results.values()))["baseline"]
    print()
    print(
        f"c11e1 benchmark: {first['train_windows']:,} training / {first['validation_windows']:,} "
        f"validation windows, {args.epochs} epoch(s), batch {BATCH_SIZE}, seed {args.seed}, "
        f"threads {args.threads or 'TensorFlow default'}"
        + (f", median of {args.repeats} alternating runs per side" if args.repeats > 1 else "")
    )
    print(
        "seconds/epoch = on_train_begin to the last on_epoch_end (training + validation) / epochs; "
        "peak memory = the process's max RSS, TensorFlow included"
    )
    print()
    print(
        f"{'variant':<14}{'side':<13}{'seconds/epoch':>14}{'last epoch':>11}{'val loss':>10}"
        f"{'peak memory':>13}"
    )
    for variant, sides in results.items():
        for name, side in (("plain Keras", sides["baseline"]), ("ldl", sides["ldl"])):
            print(
                f"{variant:<14}{name:<13}{side['train_seconds'] / args.epochs:>14.1f}"
                f"{side['last_epoch']:>11.1f}{side['val_loss']:>10.4f}"
                f"{side['peak_mb'] / 1024:>10.2f} GB"
            )
        speedup = sides["baseline"]["train_seconds"] / sides["ldl"]["train_seconds"]
        memory = sides["baseline"]["peak_mb"] / sides["ldl"]["peak_mb"]
        print(f"{'':<14}plain Keras / ldl: time {speedup:.2f}x, peak memory {memory:.2f}x")
    arrays = first["array_megabytes"]
    full = 145_947 * (WINDOW_LENGTH + 1) * 67 * 8 / 2**30
    print()
    print(
        f"The book-style side materialized {arrays / 1024:.2f} GB of float64 one-hot arrays for "
        f"these windows; for all 145,947 windows they take {full:.2f} GB (ldl: int32 ids, "
        f"{145_947 * (WINDOW_LENGTH + 1) * 4 / 2**20:.0f} MB)."
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.side is not None:
        result = run_baseline(args) if args.side == "baseline" else run_ldl(args)
        print_result(result)
        return 0
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > 0.5 * (os.cpu_count() or 1):
        print(
            f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores before the "
            "benchmark starts: other processes compete for the CPU, so timings are noisy.",
            flush=True,
        )
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {
        variant: {side: [] for side in SIDES} for variant in args.variant_list
    }
    for repeat in range(1, args.repeats + 1):
        for variant in args.variant_list:
            for side in SIDES:
                label = f"{variant}: {side}" + (
                    f" ({repeat}/{args.repeats})" if args.repeats > 1 else ""
                )
                print(f"--- {label} ---", flush=True)
                child_argv = [*argv, "--side", side, "--variant", variant]
                runs[variant][side].append(
                    run_child(
                        __file__, child_argv, tag=f"{variant} {side}", name=f"{variant} {side} side"
                    )
                )
    report(args, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
