"""study.csv and importance.csv: what only the study knows, for the sweep's summary.md.

The sweep summary is built from job folders; study.csv adds every trial of the Optuna study with its
state, value, parameters and job folder (trials still running in another process, failed attempts
that were retried, pruned trials and where they stopped), and importance.csv each searched
parameter's importance. `study_summary_lines` puts both into summary.md.

Importance: Optuna's PED-ANOVA evaluator (`PedAnovaImportanceEvaluator`). It asks which parameters
set the best trials (the top 10 % by objective) apart from all trials, which is the question a
search answers; it needs no model fitted to the trials (fANOVA, Optuna's default, fits a random
forest, needs scikit-learn and varies with the forest's seed), so it is fast and deterministic.
It is computed once IMPORTANCE_MIN_TRIALS trials have completed.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ldl.errors import LdlError
from ldl.sweeps.optuna_study.liveness import (
    INTERRUPTED_ATTRIBUTE,
    RETRY_OF_ATTRIBUTE,
    WORKER_ATTRIBUTE,
    first_attempt,
)

STUDY_TABLE = "study.csv"
IMPORTANCE_TABLE = "importance.csv"
IMPORTANCE_MIN_TRIALS = 5
# study.csv's columns that summary.md reads.
_REQUIRED = ("trial", "state", "retry of")


class StudyTableError(LdlError):
    """study.csv or importance.csv cannot be read."""


def write_study_table(study: Any, folder: Path, job_subdir: Callable[[int], str]) -> None:
    from optuna.trial import TrialState

    from ldl.sweeps.optuna_study.pruning import PRUNED_AT_ATTRIBUTE

    rows = []
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        best = set()
    elif len(study.directions) == 1:
        best = {study.best_trial.number}
    else:
        best = {t.number for t in study.best_trials}  # the Pareto front
    for trial in study.get_trials(deepcopy=False):
        rows.append(
            {
                "trial": trial.number,
                # A trial stopped by Ctrl-C or SIGTERM is failed in Optuna's books (and retried
                # by the next run of the command), but it failed at nothing.
                "state": "interrupted"
                if trial.system_attrs.get(INTERRUPTED_ATTRIBUTE) and trial.state == TrialState.FAIL
                else trial.state.name.lower(),
                "value": trial.value if len(study.directions) == 1 else trial.values,
                "job folder": job_subdir(first_attempt(trial)),
                "best": trial.number in best,
                "pruned at": trial.user_attrs.get(PRUNED_AT_ATTRIBUTE, ""),
                "retry of": trial.system_attrs.get(RETRY_OF_ATTRIBUTE, ""),
                "worker": trial.system_attrs.get(WORKER_ATTRIBUTE, ""),
                "started": trial.datetime_start,
                "finished": trial.datetime_complete,
                **{f"params.{name}": value for name, value in trial.params.items()},
            }
        )
    pd.DataFrame(rows).to_csv(folder / STUDY_TABLE, index=False)
    write_importance(study, folder)


def write_importance(study: Any, folder: Path) -> None:
    """importance.csv: each searched parameter's importance, most important first (single-objective
    studies with enough complete trials; otherwise no file)."""
    import warnings

    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    path = folder / IMPORTANCE_TABLE
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(study.directions) != 1 or len(complete) < IMPORTANCE_MIN_TRIALS:
        path.unlink(missing_ok=True)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        importances = get_param_importances(study, evaluator=PedAnovaImportanceEvaluator())
    if not importances:
        path.unlink(missing_ok=True)
        return
    frame = pd.DataFrame(
        {"parameter": list(importances), "importance": list(importances.values())}
    ).sort_values("importance", ascending=False, kind="stable")
    frame["complete trials"] = len(complete)
    frame.to_csv(path, index=False)


def _read(path: Path, required: tuple[str, ...]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        table, problem = None, str(error).splitlines()[0] if str(error) else type(error).__name__
    else:
        missing = [c for c in required if c not in table.columns]
        problem = f"it lacks the columns {', '.join(missing)}" if missing else ""
    if table is None or problem:
        raise StudyTableError(
            f"{path} is not a table ldl wrote ({problem}). Delete it and run the search's command "
            "again (it rewrites the file from the study), or restore it from a copy."
        )
    return table


def study_summary_lines(folder: Path) -> list[str]:
    """Markdown lines about the sweep's Optuna study, or none when the sweep had none."""
    path = Path(folder) / STUDY_TABLE
    if not path.exists():
        return []
    table = _read(path, _REQUIRED)
    states = Counter(table["state"])
    retried = int(table["retry of"].notna().sum())
    counts = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    lines = [
        "",
        f"Optuna study: {len(table)} trials ({counts}); {retried} of them retried a trial whose "
        f"process was killed or stopped, in the same job folder. Every trial: {STUDY_TABLE}.",
    ]
    return lines + _pruned_lines(table) + _importance_lines(Path(folder)) + _best_trial_lines(table)


def write_study_text(folder: Path) -> None:
    """The study's lines of summary.md (counts, pruned trials, importance, best trial) in
    TensorBoard's text tab of the sweep folder, next to its HParams experiment."""
    lines = study_summary_lines(folder)
    if not lines:
        return
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    with tf.summary.create_file_writer(str(folder)).as_default():
        tf.summary.text("optuna_study", "\n".join(lines).strip(), step=0)


def _pruned_lines(table: pd.DataFrame) -> list[str]:
    pruned = table[table["state"] == "pruned"]
    if pruned.empty:
        return []
    lines = [
        "",
        "## Pruned trials",
        "",
        "Stopped early by the study's pruner, so never ranked; their job folders keep what they "
        "trained (status pruned).",
        "",
        "| trial | job folder | pruned after | last reported value |",
        "|---|---|---|---|",
    ]
    for row in pruned.to_dict("records"):
        where = row.get("pruned at", "")
        where = "" if isinstance(where, float) and math.isnan(where) else where
        folder = row.get("job folder", "")
        lines.append(f"| {row['trial']} | {folder} | {where} | {_number(row)} |")
    return lines


def _number(row: dict[str, Any]) -> str:
    value = row.get("value")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(number) else f"{number:.4g}"


def _importance_lines(folder: Path) -> list[str]:
    path = folder / IMPORTANCE_TABLE
    if not path.exists():
        return []
    table = _read(path, ("parameter", "importance", "complete trials"))
    lines = [
        "",
        "## Parameter importance",
        "",
        f"Optuna's PED-ANOVA evaluator over {int(table['complete trials'].iloc[0])} complete "
        "trials: how much each parameter sets the best 10 % of the trials apart (the shares sum "
        f"to 1). Also in {IMPORTANCE_TABLE}.",
        "",
        "| parameter | importance |",
        "|---|---|",
    ]
    for row in table.to_dict("records"):
        lines.append(f"| {row['parameter']} | {float(row['importance']):.3f} |")
    return lines


def _best_trial_lines(table: pd.DataFrame) -> list[str]:
    if "best" not in table.columns:
        return []
    best = table[table["best"].astype(str) == "True"]
    if best.empty:
        return []
    found = ", ".join(
        f"trial {row['trial']} in {row['job folder']}" for row in best.to_dict("records")
    )
    return ["", f"Best trial of the study: {found} (its model, history and curves are there)."]
