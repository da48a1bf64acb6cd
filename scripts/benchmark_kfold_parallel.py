"""5-fold cross-validation of a Boston Housing experiment, sequential versus parallel, in one run.

Why: k-fold CV multiplies the training cost by k, and on a multi-core machine the folds are independent.
ldl runs them in parallel through Hydra's joblib launcher and gives each job cores / jobs TensorFlow threads,
so the machine is never oversubscribed. This script measures the wall-time ratio of the two launches and
checks that every fold's metrics are the same either way.

    python scripts/benchmark_kfold_parallel.py --data-dir ../shared/data --epochs 100
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def run_sweep(work: Path, name: str, arguments: list[str]) -> tuple[float, pd.DataFrame]:
    """Launch one `ldl train -m` sweep; return its wall time and its summary.csv."""
    sweep = work / name
    command = [
        sys.executable,
        "-m",
        "ldl.cli.main",
        "train",
        "-m",
        *arguments,
        f"hydra.sweep.dir={sweep}",
    ]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=work, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{name} sweep failed:\n{result.stderr[-3000:]}")
    return seconds, pd.read_csv(sweep / "summary.csv").sort_values("overrides")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", default=os.environ.get("LDL_DATA_DIR", str(REPO.parent / "shared" / "data"))
    )
    parser.add_argument("--experiment", default="c6e1")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    options = parser.parse_args()

    common = [
        f"experiment={options.experiment}",
        f"data_dir={Path(options.data_dir).resolve()}",
        f"trainer.epochs={options.epochs}",
        "trainer.seed=0",
        "trainer.verbose=0",
        f"cv.k={options.folds}",
        f"cv.fold=range({options.folds})",
    ]
    cores = os.cpu_count() or 1
    threads = max(1, cores // options.jobs)
    work = Path(tempfile.mkdtemp(prefix="ldl-kfold-benchmark-"))
    try:
        # Both launches use the same threads per job, so both compute the same floating-point sums.
        sequential_seconds, sequential = run_sweep(
            work, "sequential", [*common, f"trainer.threads={threads}"]
        )
        parallel_seconds, parallel = run_sweep(
            work,
            "parallel",
            [*common, "hydra/launcher=joblib", f"hydra.launcher.n_jobs={options.jobs}"],
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    metric = "val/mae" if "val/mae" in sequential else "val/loss"
    print(
        f"{options.folds}-fold CV of {options.experiment}, {options.epochs} epochs, {cores} cores"
    )
    print(f"{'launch':<12}{'wall seconds':>14}")
    print(
        f"{'sequential':<12}{sequential_seconds:>14.1f}   (1 job at a time, {threads} TensorFlow thread(s))"
    )
    print(
        f"{'parallel':<12}{parallel_seconds:>14.1f}   ({options.jobs} jobs x {threads} thread(s), joblib)"
    )
    print(f"speed-up (sequential / parallel): {sequential_seconds / parallel_seconds:.2f}x")
    identical = sequential[metric].tolist() == parallel[metric].tolist()
    print(f"per-fold {metric}: {[round(v, 4) for v in sequential[metric]]}")
    if identical:
        print("per-fold metrics identical in both launches: yes")
    else:
        difference = (sequential[metric].to_numpy() - parallel[metric].to_numpy()).__abs__().max()
        print(
            f"per-fold metrics identical in both launches: no (largest difference {difference:.3g})"
        )


if __name__ == "__main__":
    main()
