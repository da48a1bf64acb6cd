"""Pruning a k-fold Optuna search: epochs, wall time and best cross-validated MAE, with and without.

The chapter 6 search (`hparams_search=c6_optuna_kfold`: TPE over width, depth, dropout and learning rate
of the Boston Housing network, 5-fold cross-validation inside each trial) runs once per pruner, each in
a fresh sweep folder and process, with the same sampler seed and number of trials. A pruned trial
reports the mean validation loss of its folds after each fold (with `hydra.sweeper.cv_steps=epoch`,
its running cross-validated estimate every `report_every` epochs inside the folds too) and stops once
its pruner prunes it, so a hopeless configuration costs one fold, or part of one, instead of five.
By default it compares no pruning with the best setting found (BEST below). For each search it prints

    pruner | trials (complete / pruned) | epochs trained | wall s | best CV val/mae | vs none

where epochs trained is the sum over every trial and fold, and the best CV MAE is the mean validation
MAE over the 5 folds of the study's best trial. The goal for the best pruner: at most 40 % of the unpruned
search's epochs and wall time, and a best MAE within 5 % of its.

Run it on an otherwise idle machine, from the repository root:

    .venv/bin/python scripts/benchmark_pruning.py --data-dir ../shared/data
    .venv/bin/python scripts/benchmark_pruning.py --data-dir ../shared/data --trials 4 --epochs 3 \
        --pruners none median                                                    # a quick check
    .venv/bin/python scripts/benchmark_pruning.py --data-dir ../shared/data \
        --pruners none median median,hydra.sweeper.cv_steps=epoch,hydra.sweeper.report_every=10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PRUNERS = ("none", "median", "percentile", "successive_halving", "hyperband")
# The best setting found (docs/sweeps.md): keep a trial while it is in the best quarter of the complete
# trials at the same epoch, judged from epoch 50 of its first fold on, once 3 trials have completed.
BEST = (
    "percentile,hydra.sweeper.cv_steps=epoch,hydra.sweeper.report_every=10,"
    "hydra.sweeper.pruner.percentile=25,hydra.sweeper.pruner.n_warmup_steps=50,"
    "hydra.sweeper.pruner.n_startup_trials=3"
)


def run_search(work: Path, arm: str, arguments: list[str]) -> dict[str, Any]:
    """One search, `arm` = a pruner and optionally its overrides after commas
    (`median,hydra.sweeper.cv_steps=epoch`); its wall time and what its study and job folders hold."""
    pruner, *overrides = arm.split(",")
    if pruner not in PRUNERS:
        sys.exit(f"{arm}: the first part must be a pruner, one of {', '.join(PRUNERS)}.")
    sweep = work / f"search_{len(list(work.glob('search_*')))}_{pruner}"
    command = [
        sys.executable,
        "-m",
        "ldl.cli.main",
        "train",
        "-m",
        "hparams_search=c6_optuna_kfold",
        f"hydra/sweeper/pruner={pruner}",
        *arguments,
        *overrides,
        f"hydra.sweep.dir={sweep}",
    ]
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=work, capture_output=True, text=True, env=environment)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"The search with pruner={pruner} failed:\n{result.stderr[-3000:]}")
    return {"pruner": arm, "seconds": seconds, **study_numbers(sweep)}


def study_numbers(sweep: Path) -> dict[str, Any]:
    import optuna
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=sweep.name, storage=f"sqlite:///{sweep / 'optuna.db'}")
    trials = study.get_trials(deepcopy=False)
    epochs = 0
    for job in sweep.iterdir():
        metrics_path = job / "metrics.json"
        if job.is_dir() and metrics_path.exists():
            epochs += int(json.loads(metrics_path.read_text()).get("epochs_completed", 0))
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    best_mae = None
    if complete:
        best_folder = Path(study.best_trial.user_attrs["ldl_run_folder"])
        best_mae = json.loads((best_folder / "metrics.json").read_text()).get("val/mae")
    return {
        "complete": len(complete),
        "pruned": sum(t.state == TrialState.PRUNED for t in trials),
        "epochs": epochs,
        "best_mae": best_mae,
    }


def table(rows: list[dict[str, Any]]) -> str:
    baseline = next((r for r in rows if r["pruner"] == "none"), None)
    lines = [
        "| pruner | trials (complete / pruned) | epochs trained | wall s | best CV val/mae | "
        "epochs, wall, MAE vs none |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        mae = "-" if row["best_mae"] is None else f"{row['best_mae']:.3f}"
        versus = "-"
        if baseline is not None and row is not baseline:
            parts = [
                f"{100 * row['epochs'] / max(1, baseline['epochs']):.0f} %",
                f"{100 * row['seconds'] / baseline['seconds']:.0f} %",
            ]
            if row["best_mae"] is not None and baseline["best_mae"]:
                parts.append(f"{100 * (row['best_mae'] / baseline['best_mae'] - 1):+.1f} %")
            versus = ", ".join(parts)
        lines.append(
            f"| {row['pruner']} | {row['complete']} / {row['pruned']} | {row['epochs']} | "
            f"{row['seconds']:.0f} | {mae} | {versus} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir", default=os.environ.get("LDL_DATA_DIR", str(REPO.parent / "shared" / "data"))
    )
    parser.add_argument("--trials", type=int, default=20, help="n_trials of each search")
    parser.add_argument("--seed", type=int, default=0, help="the sampler's seed")
    parser.add_argument("--epochs", type=int, help="trainer.epochs (default: c6e1's 500)")
    parser.add_argument(
        "--pruners",
        nargs="+",
        default=["none", BEST],
        help="searches to run: a pruner, optionally with overrides after commas, e.g. "
        "median,hydra.sweeper.cv_steps=epoch,hydra.sweeper.pruner.n_warmup_steps=50",
    )
    parser.add_argument("--keep", help="a folder to keep the sweep folders in (default: temporary)")
    options = parser.parse_args()
    arguments = [
        f"data_dir={Path(options.data_dir).resolve()}",
        f"hydra.sweeper.n_trials={options.trials}",
        f"hydra.sweeper.sampler.seed={options.seed}",
        # c6e1 draws a fresh training seed per run; a fixed one makes the searches comparable trial
        # by trial (the same configuration trains to the same numbers whichever pruner runs).
        "trainer.seed=0",
        # A pruner judges a trial's folds one at a time, so they train in turn; the unpruned search
        # does too, so that the comparison measures pruning alone (not populations: docs/sweeps.md).
        "trainer.population=in_turn",
        "trainer.verbose=0",
    ]
    if options.epochs:
        arguments.append(f"trainer.epochs={options.epochs}")
    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            f"Warning: load average {load:.1f}; wall times are only comparable on an idle machine."
        )
    with tempfile.TemporaryDirectory(prefix="ldl_pruning_") as temporary:
        work = Path(options.keep or temporary).resolve()
        work.mkdir(parents=True, exist_ok=True)
        rows = []
        for pruner in options.pruners:
            print(f"search with pruner={pruner} ...", flush=True)
            rows.append(run_search(work, pruner, arguments))
    print(f"\n{options.trials} trials, sampler seed {options.seed}, 5-fold CV per trial:\n")
    print(table(rows))


if __name__ == "__main__":
    main()
