"""Same seed, same config, two versions of ldl: are the numbers identical? (A check for redesigns.)

Runs a fixed list of small seeded experiments once with each of two source trees (`--before` and
`--after`, each a folder holding the `ldl` package, e.g. a worktree's `src/`), each in a fresh process
with `PYTHONPATH` set to it, and compares what the runs leave: every number of metrics.json (timings,
paths and the device aside) and every cell of history.csv, exactly. It prints one row per experiment:

    experiment | metrics (same / compared) | history rows | identical

and exits 1 if any run differs. The experiments cover the NumPy programs, the graph loop and fit(),
k-fold cross-validation in one job (folds trained together), seed repeats, a two-input model and an
RNN. Budgets are small: the whole list takes a few minutes per tree on 2 cores.

    .venv/bin/python scripts/compare_seeded_runs.py --before ../old/src --after src \\
        --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

# name -> overrides of `ldl train` (every run also gets its data_dir and output folder).
EXPERIMENTS: dict[str, list[str]] = {
    "c1e1 (NumPy perceptron)": ["experiment=c1e1"],
    "c3e1 (NumPy XOR network)": ["experiment=c3e1"],
    "c5e2 (MNIST, 2 epochs)": ["experiment=c5e2", "trainer.epochs=2", "trainer.seed=0"],
    "c6e1 graph loop (30 epochs)": ["experiment=c6e1", "trainer.epochs=30", "trainer.seed=0"],
    "c6e1 fit() (30 epochs)": [
        "experiment=c6e1",
        "trainer.epochs=30",
        "trainer.seed=0",
        "trainer.loop=fit",
    ],
    "c6e1 cv.fold=all, k=3 (20 epochs)": [
        "experiment=c6e1",
        "trainer.epochs=20",
        "trainer.seed=0",
        "cv.fold=all",
        "cv.k=3",
    ],
    "c6e1 trainer.repeats=3 (20 epochs)": [
        "experiment=c6e1",
        "trainer.epochs=20",
        "trainer.seed=0",
        "trainer.repeats=3",
    ],
    "c9e1 (book sales RNN, 10 epochs)": ["experiment=c9e1", "trainer.epochs=10", "trainer.seed=0"],
    "c17e2 (two inputs, 1 epoch)": [
        "experiment=c17e2",
        "trainer.epochs=1",
        "trainer.seed=0",
        "data.max_train_examples=2000",
    ],
}
# Keys that measure the machine or the run, not the model.
IGNORED = ("seconds", "device", "path", "folder", "time", "started", "finished", "host")


def run(source: Path, overrides: list[str], data_dir: Path, output: Path) -> Path:
    """One run with the ldl package in `source`; its run folder."""
    environment = {**os.environ, "PYTHONPATH": str(source.resolve())}
    command = [
        sys.executable,
        "-m",
        "ldl.cli.main",
        "train",
        *overrides,
        f"data_dir={data_dir}",
        f"hydra.run.dir={output}",
        "trainer.verbose=0",
    ]
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        sys.exit(f"{' '.join(overrides)} failed with {source}:\n{result.stderr[-2000:]}")
    return output


def numbers(folder: Path) -> dict[str, float]:
    """Every number of every metrics.json under `folder` (folds and members too), by path and key."""
    found: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if not any(word in key for word in IGNORED):
                    walk(f"{prefix}/{key}", inner)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            found[prefix] = float(value)

    for path in sorted(folder.rglob("metrics.json")):
        walk(str(path.parent.relative_to(folder)), json.loads(path.read_text()))
    return found


def histories(folder: Path) -> dict[str, list[list[str]]]:
    tables = {}
    for path in sorted(folder.rglob("history.csv")):
        with path.open() as handle:
            rows = list(csv.reader(handle))
        header = rows[0] if rows else []
        kept = [i for i, name in enumerate(header) if not any(w in name for w in IGNORED)]
        tables[str(path.relative_to(folder))] = [[row[i] for i in kept] for row in rows]
    return tables


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="source tree of the old ldl")
    parser.add_argument("--after", type=Path, required=True, help="source tree of the new ldl")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--only", nargs="*", help="names (or parts of names) of experiments")
    options = parser.parse_args()
    chosen = {
        name: overrides
        for name, overrides in EXPERIMENTS.items()
        if not options.only or any(part in name for part in options.only)
    }
    failed = False
    print("| experiment | metrics (same / compared) | history rows | identical |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="ldl_compare_") as temporary:
        for index, (name, overrides) in enumerate(chosen.items()):
            folders = [
                run(
                    tree, overrides, options.data_dir.resolve(), Path(temporary) / f"{index}_{side}"
                )
                for side, tree in (("before", options.before), ("after", options.after))
            ]
            before, after = numbers(folders[0]), numbers(folders[1])
            keys = sorted(set(before) | set(after))
            equal = sum(k in before and k in after and same(before[k], after[k]) for k in keys)
            old_history, new_history = histories(folders[0]), histories(folders[1])
            rows = sum(len(table) - 1 for table in old_history.values())
            identical = equal == len(keys) and old_history == new_history
            failed |= not identical
            differing = [
                k for k in keys if not (k in before and k in after and same(before[k], after[k]))
            ]
            note = "yes" if identical else f"NO ({', '.join(differing[:3]) or 'history'})"
            print(f"| {name} | {equal} / {len(keys)} | {rows} | {note} |", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
