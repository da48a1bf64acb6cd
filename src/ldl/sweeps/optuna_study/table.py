"""study.csv: every trial of an Optuna study with its state, value, parameters and job folder.

The sweep summary is built from job folders; this table adds what only the study knows (trials that
are still running in another process, failed attempts that were retried, the objective Optuna was
told), and `study_summary_lines` puts its counts into summary.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ldl.sweeps.optuna_study.liveness import RETRY_OF_ATTRIBUTE, WORKER_ATTRIBUTE, first_attempt

STUDY_TABLE = "study.csv"


def write_study_table(study: Any, folder: Path, job_subdir: Callable[[int], str]) -> None:
    rows = []
    for trial in study.get_trials(deepcopy=False):
        rows.append(
            {
                "trial": trial.number,
                "state": trial.state.name.lower(),
                "value": trial.value if len(study.directions) == 1 else trial.values,
                "job folder": job_subdir(first_attempt(trial)),
                "retry of": trial.system_attrs.get(RETRY_OF_ATTRIBUTE, ""),
                "worker": trial.system_attrs.get(WORKER_ATTRIBUTE, ""),
                "started": trial.datetime_start,
                "finished": trial.datetime_complete,
                **{f"params.{name}": value for name, value in trial.params.items()},
            }
        )
    pd.DataFrame(rows).to_csv(folder / STUDY_TABLE, index=False)


def study_summary_lines(folder: Path) -> list[str]:
    """Markdown lines about the sweep's Optuna study, or none when the sweep had none."""
    path = Path(folder) / STUDY_TABLE
    if not path.exists():
        return []
    table = pd.read_csv(path)
    states = Counter(table["state"])
    retried = int(table["retry of"].notna().sum())
    counts = ", ".join(f"{count} {state}" for state, count in sorted(states.items()))
    return [
        "",
        f"Optuna study: {len(table)} trials ({counts}); {retried} of them retried a trial whose "
        f"process was killed, in the same job folder. Every trial: {STUDY_TABLE}.",
    ]
