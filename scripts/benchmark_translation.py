"""Benchmark c14e1 (LSTM seq2seq) and c15_transformer: training tokens per second, same run.

Why this exists: the two translators of chapters 14 and 15 train on the same pairs with the same batch
size, so their cost per token is the fair comparison (the Transformer has fewer parameters, 4.5 M
versus 7.0 M, but attention and the 10,000-way softmax dominate differently). Both models are built at
their experiment sizes, compiled as ldl compiles them (RMSprop at the experiment's learning rate, sparse
categorical cross-entropy, accuracy, ldl's steps_per_execution), and fed by ldl's own tf.data pipeline
(EpochShuffledDataset) with the first `--pairs` training pairs of the anki_fra_eng data.

Timed span: `--epochs` epochs of `fit()` after one untimed warm-up epoch (which traces and compiles the
graph). Tokens: the target positions the loss counts (decoder input not PAD: the words, STOP, and the
PAD after STOP, chapter 14), and source tokens (non-PAD) for reference. The models run one after the
other in this process, in alternating order over `--repeats` (medians are reported), so a busy machine
hurts both alike; still, compare only numbers from one run.

Run from the repository root:

    .venv/bin/python scripts/benchmark_translation.py                 # 4,096 pairs, 1 timed epoch
    .venv/bin/python scripts/benchmark_translation.py --pairs 0       # all 48,000 training pairs
    .venv/bin/python scripts/benchmark_translation.py --threads 1 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_support import default_data_dir

MODELS = ("c14e1", "c15_transformer")
LEARNING_RATES = {"c14e1": 0.01, "c15_transformer": 0.001}
BATCH_SIZE = 128


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="c14e1 vs c15_transformer: training tokens per second on the same pairs."
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with fra.txt")
    parser.add_argument("--pairs", type=int, default=4096, help="first N training pairs (0 = all)")
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per model")
    parser.add_argument("--repeats", type=int, default=1, help="alternating repeats (medians)")
    parser.add_argument("--threads", type=int, default=None, help="TensorFlow threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    args = parser.parse_args(argv)
    if args.pairs < 0 or args.epochs < 1 or args.repeats < 1:
        parser.error("--pairs must be >= 0, --epochs and --repeats >= 1")
    args.model_list = [m.strip() for m in args.models.split(",") if m.strip()]
    if not args.model_list or set(args.model_list) - set(MODELS):
        parser.error(f"--models must name some of {', '.join(MODELS)}")
    args.data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    return args


def load_pairs(data_dir: Path, pairs: int) -> Any:
    from ldl.tasks.translation.data import prepare_anki_fra_eng

    config = {
        "name": "anki_fra_eng",
        "file": "fra.txt",
        "read_lines": 60000,
        "max_words": 10000,
        "max_length": 60,
        "src_padding": "pre",
        "test_fraction": 0.2,
        "split_seed": 0,
        "sample_size": 0,
        "max_train_examples": pairs or None,
        "download": False,
    }
    return prepare_anki_fra_eng(config, data_dir)


def build(name: str) -> Any:
    if name == "c14e1":
        from ldl.tasks.translation.seq2seq import build_seq2seq

        return build_seq2seq(10000, 10000)
    from ldl.tasks.translation.transformer import build_transformer

    return build_transformer(10000, 10000)


def measure(name: str, data: Any, epochs: int, seed: int) -> dict[str, Any]:
    import keras
    import numpy as np

    from ldl.training.pipeline import EpochShuffledDataset, SetEpoch
    from ldl.training.recipe import _steps_per_execution

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    source, decoder_input = data.x_train
    train = EpochShuffledDataset(data.x_train, data.y_train, BATCH_SIZE, seed=seed)
    model = build(name)
    model.compile(
        optimizer=keras.optimizers.RMSprop(LEARNING_RATES[name]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=_steps_per_execution(0, train.steps_per_epoch),
    )
    set_epoch = SetEpoch(train)
    model.fit(train.dataset, epochs=1, verbose=0, shuffle=False, callbacks=[set_epoch])  # warm-up
    started = time.perf_counter()
    history = model.fit(
        train.dataset,
        initial_epoch=1,
        epochs=1 + epochs,
        verbose=0,
        shuffle=False,  # the pipeline shuffles, keyed by (seed, epoch), as in ldl
        callbacks=[set_epoch],
    )
    seconds = time.perf_counter() - started
    target_tokens = int((decoder_input != 0).sum()) * epochs
    source_tokens = int((source != 0).sum()) * epochs
    return {
        "model": name,
        "parameters": int(model.count_params()),
        "pairs": len(source),
        "epochs": epochs,
        "seconds": seconds,
        "target_tokens_per_second": target_tokens / seconds,
        "source_tokens_per_second": source_tokens / seconds,
        "pairs_per_second": len(source) * epochs / seconds,
        "loss": float(history.history["loss"][-1]),
        "accuracy": float(np.asarray(history.history["accuracy"][-1])),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from ldl import tf_setup

    tf_setup.configure_threads(args.threads)
    data = load_pairs(args.data_dir, args.pairs)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in args.model_list}
    for repeat in range(args.repeats):
        order = args.model_list if repeat % 2 == 0 else args.model_list[::-1]
        for name in order:
            result = measure(name, data, args.epochs, args.seed)
            results[name].append(result)
            print(json.dumps(result), flush=True)
    print(
        f"\n{len(data.y_train)} pairs x {args.epochs} timed epoch(s), batch {BATCH_SIZE}, "
        f"threads {args.threads or 'default'}, {args.repeats} repeat(s) (medians):"
    )
    print(f"{'model':<17}{'parameters':>12}{'s/epoch':>10}{'target tok/s':>14}{'pairs/s':>10}")
    for name, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs) / args.epochs
        tokens = statistics.median(r["target_tokens_per_second"] for r in runs)
        pairs = statistics.median(r["pairs_per_second"] for r in runs)
        print(
            f"{name:<17}{runs[0]['parameters']:>12,}{seconds:>10.1f}{tokens:>14,.0f}{pairs:>10.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
