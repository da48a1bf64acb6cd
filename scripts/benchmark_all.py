"""Every speed claim of ldl in one table: whole processes, ldl against the book's plain-Keras way.

For each experiment this runs, one after the other in fresh processes, the book-style Keras program
(`book_style_keras.py`: NumPy arrays into `model.fit`, the test set as validation data) and the real
`ldl train experiment=...` command on the same data, epochs and seed, and prints

    experiment | plain Keras s | ldl s | ratio | metric (Keras / ldl) | peak RSS MB (Keras / ldl)

Before the first case, CIFAR-10 is read once, untimed: both sides load it through ldl's loader, and a
compressed npz is decompressed only on its first read (ldl.data.npz_cache), so neither side pays for it.
Seconds are wall-clock seconds of the whole process (interpreter start, imports, data loading,
training, evaluation, and for ldl writing the run folder), ratio = Keras seconds / ldl seconds. Peak
RSS is the largest resident set of the process (os.wait4). The two sides shuffle differently, so their
metrics agree within training noise, not digit for digit.

The chapter 6 k-fold study (`hparams_search=c6_kfold`: 6 configurations x 5 folds x 500 epochs) runs
twice through ldl, on the basic launcher (jobs in turn) and on `hydra/launcher=parallel` (2 jobs at a
time), and the per-fold validation MAEs of the two must be identical. Its plain-Keras column is an
estimate, marked `~`: one fold of c6e1 trained the book's way, times 30 (running all 30 would take
about 20 minutes).

Run it on an otherwise idle machine (it warns when the load says otherwise), from the repository root:

    .venv/bin/python scripts/benchmark_all.py --data-dir ../shared/data          # about 15 minutes
    .venv/bin/python scripts/benchmark_all.py --cases c6e1 c9e1                   # a few
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_support import RESULT_PREFIX, default_data_dir

SCRIPTS = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Case:
    """One row: the book-style program's arguments, ldl's overrides, and the metric compared."""

    name: str
    keras: tuple[str, ...]
    ldl: tuple[str, ...]
    metric: str  # the key in ldl's metrics.json; the Keras side reports the same quantity


CASES = (
    Case(
        "c5e1",
        ("c5e1", "--epochs", "1", "--examples", "10000"),
        (
            "experiment=c5e1",
            "trainer.epochs=1",
            "data.max_train_examples=10000",
            "data.max_test_examples=10000",
        ),
        "test/accuracy",
    ),
    Case("c5e2", ("c5e2", "--epochs", "20"), ("experiment=c5e2",), "test/accuracy"),
    Case("c6e1", ("c6e1", "--epochs", "500"), ("experiment=c6e1",), "test/mae"),
    Case("c9e1", ("c9e1", "--epochs", "100"), ("experiment=c9e1",), "test/mae"),
    Case(
        "c7_conf5",
        ("c7_conf5", "--epochs", "2", "--examples", "10000", "--test-examples", "2000"),
        (
            "experiment=c7_conf5",
            "trainer.epochs=2",
            "data.max_train_examples=10000",
            "data.max_test_examples=2000",
        ),
        "test/accuracy",
    ),
    Case(
        "resnet20",
        ("resnet20", "--epochs", "2", "--examples", "5000", "--test-examples", "1000"),
        (
            "experiment=resnet20_cifar10",
            "trainer.epochs=2",
            "data.max_train_examples=5000",
            "data.max_test_examples=1000",
        ),
        "test/accuracy",
    ),
    Case(
        "resnet20_bf16",
        (
            "resnet20",
            "--epochs",
            "2",
            "--examples",
            "5000",
            "--test-examples",
            "1000",
            "--precision",
            "mixed_bfloat16",
        ),
        (
            "experiment=resnet20_cifar10",
            "trainer.epochs=2",
            "data.max_train_examples=5000",
            "data.max_test_examples=1000",
            "trainer.precision=mixed_bfloat16",
        ),
        "test/accuracy",
    ),
    Case(
        "c14e1",
        ("c14e1", "--epochs", "2", "--examples", "4096", "--test-examples", "1000"),
        (
            "experiment=c14e1",
            "trainer.epochs=2",
            "data.max_train_examples=4096",
            "data.max_test_examples=1000",
            "data.report.bleu_examples=200",
        ),
        "test/accuracy",
    ),
)
KFOLD = "c6_kfold"
CASE_NAMES = [case.name for case in CASES] + [KFOLD]


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    result: dict[str, Any]


def run_process(command: list[str], log: Path) -> Measured:
    """Run `command` to the end, its output into `log`; wall seconds, peak RSS and its last result line."""
    started = time.perf_counter()
    with open(log, "w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-15:])
        raise SystemExit(f"{' '.join(command[:4])} ... failed (exit {process.returncode}):\n{tail}")
    result = {}
    for line in log.read_text().splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    return Measured(seconds, usage.ru_maxrss / 1024, result)


def ldl_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "ldl.cli.main", "train", *arguments]


def run_case(case: Case, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    seed, data_dir = str(args.seed), str(args.data_dir)
    keras = run_process(
        [
            sys.executable,
            str(SCRIPTS / "book_style_keras.py"),
            *case.keras,
            "--data-dir",
            data_dir,
            "--seed",
            seed,
        ],
        work / f"{case.name}-keras.log",
    )
    run_dir = work / f"{case.name}-ldl"
    ldl = run_process(
        ldl_command(
            *case.ldl, f"data_dir={data_dir}", f"trainer.seed={seed}", f"hydra.run.dir={run_dir}"
        ),
        work / f"{case.name}-ldl.log",
    )
    metrics = json.loads((run_dir / "metrics.json").read_text())
    return {
        "name": case.name,
        "keras_seconds": keras.seconds,
        "ldl_seconds": ldl.seconds,
        "keras_metric": keras.result["metric"],
        "ldl_metric": metrics[case.metric],
        "metric": case.metric,
        "keras_mb": keras.peak_mb,
        "ldl_mb": ldl.peak_mb,
    }


def fold_scores(sweep: Path) -> dict[str, float]:
    """Every job's validation MAE, keyed by the job's overrides."""
    scores = {}
    for metrics_file in sorted(sweep.glob("*/metrics.json")):
        overrides = (metrics_file.parent / ".hydra" / "overrides.yaml").read_text()
        scores[overrides] = json.loads(metrics_file.read_text())["val/mae"]
    return scores


def run_kfold(args: argparse.Namespace, work: Path) -> list[dict[str, Any]]:
    """The k-fold study on both launchers, and the plain-Keras estimate from one timed fold."""
    keras = run_process(
        [
            sys.executable,
            str(SCRIPTS / "book_style_keras.py"),
            "c6_fold",
            "--epochs",
            "500",
            "--data-dir",
            str(args.data_dir),
            "--seed",
            str(args.seed),
        ],
        work / "kfold-keras.log",
    )
    rows, scores = [], {}
    for launcher in ("basic", "parallel"):
        sweep = work / f"kfold-{launcher}"
        ldl = run_process(
            ldl_command(
                "-m",
                f"hparams_search={KFOLD}",
                f"hydra/launcher={launcher}",
                f"data_dir={args.data_dir}",
                f"trainer.seed={args.seed}",
                f"hydra.sweep.dir={sweep}",
            ),
            work / f"kfold-{launcher}.log",
        )
        scores[launcher] = fold_scores(sweep)
        rows.append(
            {
                "name": f"{KFOLD} ({launcher})",
                "keras_seconds": 30 * keras.seconds,
                "estimated": True,
                "ldl_seconds": ldl.seconds,
                "keras_metric": keras.result["metric"],
                "ldl_metric": min(scores[launcher].values()),
                "metric": "best fold val/mae",
                "keras_mb": keras.peak_mb,
                "ldl_mb": ldl.peak_mb,
            }
        )
    same = scores["basic"] == scores["parallel"] and len(scores["basic"]) == 30
    rows[-1]["note"] = (
        f"30 per-fold val/mae identical to the basic launcher's: {'yes' if same else 'NO'}"
    )
    rows[-1]["parallel_speedup"] = rows[0]["ldl_seconds"] / rows[1]["ldl_seconds"]
    return rows


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def import_seconds(work: Path) -> float:
    """A process that only imports TensorFlow and Keras: the floor under every whole-process time."""
    return run_process(
        [sys.executable, "-c", "import tensorflow, keras"], work / "import.log"
    ).seconds


def print_table(rows: list[dict[str, Any]], loads: tuple[float, float], floor: float) -> None:
    print()
    print(f"1-minute load: {loads[0]:.2f} before, {loads[1]:.2f} after ({os.cpu_count()} cores)")
    print(f"a process that only imports TensorFlow and Keras: {floor:.1f} s")
    print()
    print(
        "| experiment | plain Keras s | ldl s | ratio | metric | plain Keras | ldl | peak RSS MB (Keras / ldl) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        mark = "~" if row.get("estimated") else ""
        print(
            f"| {row['name']} | {mark}{row['keras_seconds']:.1f} | {row['ldl_seconds']:.1f} | "
            f"{mark}{row['keras_seconds'] / row['ldl_seconds']:.2f}× | {row['metric']} | "
            f"{row['keras_metric']:.4f} | {row['ldl_metric']:.4f} | "
            f"{row['keras_mb']:.0f} / {row['ldl_mb']:.0f} |"
        )
    for row in rows:
        if "note" in row:
            print(
                f"\n{row['name']}: {row['note']}; parallel / basic: {row['parallel_speedup']:.2f}×"
            )


def warm_data_cache(data_dir: Path) -> None:
    """Read CIFAR-10 once before any case, untimed: a compressed npz is decompressed on its first read
    only (ldl.data.npz_cache), and both sides read it through ldl's loader, so neither may pay for it."""
    code = "import sys; from ldl.data.cifar10 import load_cifar10; load_cifar10(sys.argv[1], download=False)"
    subprocess.run([sys.executable, "-c", code, str(data_dir)], check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="the folder with the real data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", nargs="+", choices=CASE_NAMES, default=CASE_NAMES)
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep the logs and run folders here"
    )
    args = parser.parse_args(argv)
    args.data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    before = load_average()
    if before > 0.5 * (os.cpu_count() or 1):
        print(
            f"WARNING: the 1-minute load is {before:.1f}: other processes share the cores, so these timings are not the machine's."
        )
    with tempfile.TemporaryDirectory(prefix="ldl-benchmark-") as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        floor = import_seconds(work)
        warm_data_cache(args.data_dir)
        rows = []
        for case in CASES:
            if case.name in args.cases:
                rows.append(run_case(case, args, work))
                print(json.dumps(rows[-1]), flush=True)
        if KFOLD in args.cases:
            rows.extend(run_kfold(args, work))
        after = load_average()
    print_table(rows, (before, after), floor)
    # (The parallel k-fold sweep itself keeps every core busy, so the load after the run is shown, not
    # judged; only the load before it says whether other processes shared the machine.)
    return 0


if __name__ == "__main__":
    sys.exit(main())
