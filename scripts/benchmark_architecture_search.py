"""Architecture-search throughput: evaluations per hour with the basic launcher (one candidate after
another) and with `hydra/launcher=parallel` (joblib, cores / jobs TensorFlow threads each), same search,
in one run; checks that both evaluated the same candidates with the same scores.

Why: every candidate of chapter 17's searches is an independent job, so a random-search batch or an
evolutionary generation can use every core. The ratio says how much that buys on this machine. Run it on
an otherwise idle machine: other jobs on the cores distort the ratio.

    python scripts/benchmark_architecture_search.py --data-dir ../shared/data --candidates 8
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from benchmark_support import default_data_dir

REPO = Path(__file__).resolve().parents[1]


def run_search(work: Path, name: str, data_dir: Path, args: argparse.Namespace, *extra: str):
    """One `ldl train -m hparams_search=c17e4` random search; its wall time and search.csv."""
    folder = work / name
    command = [
        sys.executable, "-m", "ldl.cli.main", "train", "-m", "hparams_search=c17e4",
        f"data_dir={data_dir}", "hydra.sweeper.strategy=random",
        f"hydra.sweeper.candidate_evaluations={args.candidates}",
        f"hydra.sweeper.eval_epochs={args.epochs}", f"hydra.sweeper.train_fraction={args.fraction}",
        "hydra.sweeper.final_epochs=0", "trainer.verbose=0", f"output_root={work}",
        f"hydra.sweep.dir={folder}", *extra,
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"the {name} search failed:\n{result.stderr[-3000:]}")
    return seconds, pd.read_csv(folder / "search.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--fraction", type=float, default=0.05, help="training data per candidate")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"load average before: {load:.2f} on {os.cpu_count()} cores"
          + ("  (busy machine: the ratio will be distorted)" if load > 0.5 else ""))  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        sequential, table_a = run_search(work, "basic", args.data_dir, args)
        parallel, table_b = run_search(work, "parallel", args.data_dir, args,
                                       "hydra/launcher=parallel")  # fmt: skip
    same_candidates = table_a["layers"].tolist() == table_b["layers"].tolist()
    same_scores = (table_a["score"] - table_b["score"]).abs().max() < 1e-6
    print(f"{'launcher':<10}{'seconds':>10}{'evaluations/hour':>20}")
    for name, seconds in (("basic", sequential), ("parallel", parallel)):
        print(f"{name:<10}{seconds:>10.1f}{3600 * args.candidates / seconds:>20.1f}")
    print(f"parallel / basic throughput: {sequential / parallel:.2f}x; same candidates: "
          f"{same_candidates}; same scores: {same_scores}")  # fmt: skip
    if not (same_candidates and same_scores):
        sys.exit(1)


if __name__ == "__main__":
    main()
