"""Population training against today's way, measured in the same run (docs/benchmarks.md).

Each case runs two whole `ldl train` commands one after the other in fresh processes and prints

    case | today s | population s | ratio | members equal | peak RSS MB (today / population)

- c6e1_5fold: the 5 folds of c6e1 as 5 jobs of one sweep (`-m cv.fold=range(5)`, basic launcher)
  against one job with `cv.fold=all` (the folds trained together); the per-fold val/mae must be equal
  within MEMBER_TOLERANCE (relative; stacked members are not bit-identical), the largest difference
  printed.
- c6_kfold: the chapter 6 k-fold study (6 configurations x 5 folds as 30 jobs, `hparams_search=c6_kfold`)
  against the 6 configurations with `cv.fold=all` (6 jobs of 5 members); the 30 val/mae equal.
- c5e2_repeats, c9e1_repeats: one run against `trainer.repeats=5` (five seeds together); seed 0's
  metric equal. The goal for c5e2 is at most 2.5x the time of one run (ratio = one run's share).
- c17e2_5fold: as c6e1_5fold for the multimodal c17e2.

Peak RSS is the largest resident set of the process (os.wait4); for the repeats cases it compares
five members with one run (the goal for c6e1's population: at most 1.5x one fold's run, printed last).
`--epochs N` shortens every case to N epochs (a smoke test; the numbers then say little).
`--population separate` trains the populations as separate models in one graph instead of stacked
(`trainer.population`, docs/sweeps.md), to time the two against each other.

    .venv/bin/python scripts/benchmark_population.py --data-dir ../shared/data        # idle machine
    .venv/bin/python scripts/benchmark_population.py --cases c6e1_5fold --epochs 5     # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_all import Measured, ldl_command, load_average, run_process
from benchmark_support import default_data_dir

C6_CONFIGURATIONS = "c6_conf1,c6e1,c6_conf3,c6_conf4,c6_conf5,c6e2"


@dataclass(frozen=True)
class Case:
    name: str
    # "folds": a sweep of fold jobs against cv.fold=all; "repeats": one run against K seeds.
    kind: str
    experiment: str
    metric: str
    goal: str


CASES = (
    Case("c6e1_5fold", "folds", "c6e1", "val/mae", ">= 4x whole sweep"),
    Case("c6_kfold", "folds", C6_CONFIGURATIONS, "val/mae", "<= 20 s whole sweep"),
    Case("c5e2_repeats", "repeats", "c5e2", "test/accuracy", "5 seeds <= 2.5x one run"),
    Case("c9e1_repeats", "repeats", "c9e1", "test/mae", "report"),
    Case("c17e2_5fold", "folds", "c17e2", "val/accuracy", "report"),
)
CASE_NAMES = [case.name for case in CASES]
REPEATS = 5
FOLDS = 5
# A member's metric against the same member trained alone: relative (docs/sweeps.md).
MEMBER_TOLERANCE = 1e-5


def _fold_scores_of_sweep(sweep: Path, metric: str) -> dict[tuple[str, int], float]:
    """(experiment, fold) -> metric of every job of a sweep over cv.fold."""
    scores = {}
    for metrics_file in sweep.glob("*/metrics.json"):
        metrics = json.loads(metrics_file.read_text())
        config = yaml.safe_load((metrics_file.parent / "config.yaml").read_text())
        fold = int(config["cv"]["fold"])
        scores[(metrics["experiment"], fold)] = metrics[metric]
    return scores


def _fold_scores_of_population(sweep: Path, metric: str) -> dict[tuple[str, int], float]:
    """(experiment, fold) -> metric of every fold_<i> member of a sweep of cv.fold=all jobs."""
    scores = {}
    for metrics_file in sweep.glob("*/fold_*/metrics.json"):
        metrics = json.loads(metrics_file.read_text())
        fold = int(metrics_file.parent.name.removeprefix("fold_"))
        scores[(metrics["experiment"], fold)] = metrics[metric]
    return scores


def _common(args: argparse.Namespace) -> list[str]:
    common = [f"data_dir={args.data_dir}", f"trainer.seed={args.seed}", "trainer.verbose=0"]
    return common + ([f"trainer.epochs={args.epochs}"] if args.epochs else [])


def _population(args: argparse.Namespace) -> list[str]:
    """trainer.population for the population's jobs (today's jobs have a single member each)."""
    return [f"trainer.population={args.population}"] if args.population else []


def run_folds(case: Case, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    common = [*_common(args), f"cv.k={FOLDS}", f"experiment={case.experiment}"]
    today_dir, together_dir = work / f"{case.name}-today", work / f"{case.name}-population"
    today = run_process(
        ldl_command("-m", *common, f"cv.fold=range({FOLDS})", f"hydra.sweep.dir={today_dir}"),
        work / f"{case.name}-today.log",
    )
    together = run_process(
        ldl_command(
            "-m", *common, *_population(args), "cv.fold=all", f"hydra.sweep.dir={together_dir}"
        ),
        work / f"{case.name}-population.log",
    )
    expected = _fold_scores_of_sweep(today_dir, case.metric)
    got = _fold_scores_of_population(together_dir, case.metric)
    equal = bool(expected) and expected.keys() == got.keys()
    difference = max((_relative(got[key], value) for key, value in expected.items()), default=0.0)
    return _row(case, today, together, equal, f"{len(expected)} per-fold {case.metric}", difference)


def run_repeats(case: Case, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    common = [*_common(args), f"experiment={case.experiment}"]
    one_dir, together_dir = work / f"{case.name}-one", work / f"{case.name}-population"
    one = run_process(
        ldl_command(*common, f"hydra.run.dir={one_dir}"), work / f"{case.name}-one.log"
    )
    together = run_process(
        ldl_command(
            *common,
            *_population(args),
            f"trainer.repeats={REPEATS}",
            f"hydra.run.dir={together_dir}",
        ),
        work / f"{case.name}-population.log",
    )
    alone = json.loads((one_dir / "metrics.json").read_text())[case.metric]
    member = json.loads((together_dir / "repeat_0" / "metrics.json").read_text())[case.metric]
    difference = _relative(member, alone)
    return _row(case, one, together, True, f"seed {args.seed}'s {case.metric}", difference)


def _relative(got: float, expected: float) -> float:
    return abs(got - expected) / max(abs(expected), 1e-12)


def _row(
    case: Case, today: Measured, together: Measured, equal: bool, compared: str, difference: float
) -> dict[str, Any]:
    # A stacked population (trainer.population=auto) equals the members trained alone within
    # float32 reassociation, not bit for bit: the largest relative difference is printed.
    return {
        "case": case.name,
        "today_seconds": today.seconds,
        "population_seconds": together.seconds,
        "equal": equal and difference <= MEMBER_TOLERANCE,
        "difference": difference,
        "compared": compared,
        "today_mb": today.peak_mb,
        "population_mb": together.peak_mb,
        "goal": case.goal,
    }


def one_fold_rss(args: argparse.Namespace, work: Path) -> tuple[float, float]:
    """Peak RSS of one c6e1 fold alone and of its 5 folds as one population (the memory goal)."""
    common = [*_common(args), "experiment=c6e1", f"cv.k={FOLDS}"]
    one = run_process(
        ldl_command(*common, "cv.fold=0", f"hydra.run.dir={work / 'rss-one'}"), work / "rss-one.log"
    )
    five = run_process(
        ldl_command(
            *common, *_population(args), "cv.fold=all", f"hydra.run.dir={work / 'rss-five'}"
        ),
        work / "rss-five.log",
    )
    return one.peak_mb, five.peak_mb


def print_table(rows: list[dict[str, Any]], loads: tuple[float, float]) -> None:
    print()
    print(f"1-minute load: {loads[0]:.2f} before, {loads[1]:.2f} after ({os.cpu_count()} cores)")
    print()
    print("| case | today s | population s | ratio | members equal (max rel. difference) "
          "| peak RSS MB (today / pop.) | goal |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        ratio = row["today_seconds"] / row["population_seconds"]
        if row["case"].endswith("_repeats"):  # 5 seeds against one run: the population's cost
            shown = f"{row['population_seconds'] / row['today_seconds']:.2f}× one run"
        else:
            shown = f"{ratio:.2f}×"
        print(
            f"| {row['case']} | {row['today_seconds']:.1f} | {row['population_seconds']:.1f} | "
            f"{shown} | {'yes' if row['equal'] else 'NO'} ({row['compared']}, "
            f"{row['difference']:.1e}) | "
            f"{row['today_mb']:.0f} / {row['population_mb']:.0f} | {row['goal']} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None, help="the folder with the real data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", nargs="+", choices=CASE_NAMES, default=CASE_NAMES)
    parser.add_argument("--epochs", type=int, default=None, help="shorten every case (smoke test)")
    parser.add_argument(
        "--population",
        choices=["auto", "stacked", "separate"],
        default=None,
        help="trainer.population of the population jobs (default: the config's, auto)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep logs and run folders here")
    args = parser.parse_args(argv)
    args.data_dir = (args.data_dir or default_data_dir()).expanduser().resolve()
    before = load_average()
    if before > 0.5 * (os.cpu_count() or 1):
        print(f"WARNING: the 1-minute load is {before:.1f}: these timings are not the machine's.")
    with tempfile.TemporaryDirectory(prefix="ldl-population-") as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        rows = []
        for case in CASES:
            if case.name in args.cases:
                run = run_folds if case.kind == "folds" else run_repeats
                rows.append(run(case, args, work))
                print(json.dumps(rows[-1]), flush=True)
        one, five = one_fold_rss(args, work)
        after = load_average()
    print_table(rows, (before, after))
    print(f"\nc6e1 peak RSS: one fold {one:.0f} MB, 5 folds together {five:.0f} MB "
          f"({five / one:.2f}×; goal <= 1.5×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
