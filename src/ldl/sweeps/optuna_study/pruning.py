"""The job's side of a pruned search: report to the study as training goes, stop when pruned.

The sweeper hands each trial's job the study's storage, the study's name and the trial's number
(environment variables set through `hydra.job.env_set`, so a job that a launcher runs in another
process or on another machine finds them too); the job reaches the study through its storage. With a
pruner configured (`hydra/sweeper/pruner=median`, ...):

- an ordinary trial reports its validation loss every `report_every` epochs (fit() and the graph loop
  alike, through the epoch recorder's listeners) and ends training after the epoch at which the
  pruner prunes it; the recorder checkpoints that epoch as it does for early stopping. (The graph
  loop runs many epochs per call into the graph: a trial pruned inside a call stops at that call's
  last epoch, about a second later; `pruned_at` says the epoch it stopped after.)
- a `cv.fold=all` trial reports, after each fold, the mean validation loss of the folds done so
  far (step = folds done - 1), and trains no further fold once pruned. With `cv_steps: epoch` it
  reports every `report_every` epochs inside the folds too: the step is the number of epochs the
  trial has trained over all its folds, the value its running cross-validated estimate (the mean of
  the finished folds' validation losses and the current fold's latest one), so a hopeless
  configuration stops inside its first fold.

A pruned job's metrics.json says `status: pruned` and `pruned_at` (`epoch 12` or `fold 1 of 5`), and
the trial gets the user attribute `ldl_pruned_at`; the sweeper then tells Optuna the trial was
pruned.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ldl.runs.files import read_json, write_json
from ldl.sweeps.job_paths import job_environment_override

STORAGE_VARIABLE = "LDL_OPTUNA_STORAGE"
STUDY_VARIABLE = "LDL_OPTUNA_STUDY"
TRIAL_VARIABLE = "LDL_OPTUNA_TRIAL"
PRUNED_AT_ATTRIBUTE = "ldl_pruned_at"
PRUNED = "pruned"
# The history column an ordinary trial reports (the job's objective is the validation loss).
REPORTED = "val/loss"
# What a step of a cv.fold=all trial is (hydra.sweeper.cv_steps).
CvSteps = Literal["fold", "epoch"]
CV_STEPS: tuple[CvSteps, ...] = ("fold", "epoch")


def job_environment(storage_url: str, study_name: str, trial_number: int) -> list[str]:
    """The overrides that hand a trial's job its study and trial."""
    values = {
        STORAGE_VARIABLE: storage_url,
        STUDY_VARIABLE: study_name,
        TRIAL_VARIABLE: trial_number,
    }
    return [job_environment_override(name, str(value)) for name, value in values.items()]


@dataclass
class TrialLink:
    """One running trial of a study that has a pruner, as its job sees it."""

    study: Any
    trial: Any
    report_every: int
    pruned_at: str | None = None
    # Folds or epochs: what a step is.
    unit: str = "epoch"
    # For cv.fold=all: report after each fold only (fold), or every report_every epochs (epoch).
    cv_steps: CvSteps = "fold"
    # For cv.fold=all: the folds' validation losses so far, and the epochs they trained.
    fold_values: list[float] = field(default_factory=list)
    epochs_before: int = 0
    folds: int = 0

    def report(self, value: float, step: int) -> bool:
        """Tell the study the objective at `step`; whether the pruner prunes the trial there."""
        self.trial.report(value, step)
        return bool(self.trial.should_prune())

    def epoch_listener(self, epoch: int, row: dict[str, float]) -> bool:
        value = row.get(REPORTED)
        if value is None or (epoch + 1) % self.report_every:
            return False
        if self.pruned_at is None and self.report(float(value), epoch):
            self.pruned_at = f"epoch {epoch + 1}"  # made exact in mark_pruned
        return self.pruned_at is not None

    def fold_epoch_listener(self, epoch: int, row: dict[str, float]) -> bool:
        """cv_steps=epoch: the running cross-validated estimate at the trial's epochs so far."""
        value = row.get(REPORTED)
        if self.pruned_at is not None:
            return True
        if value is None or (epoch + 1) % self.report_every:
            return False
        estimate = (sum(self.fold_values) + float(value)) / (len(self.fold_values) + 1)
        if self.report(estimate, self.epochs_before + epoch):
            fold = len(self.fold_values) + 1
            self.pruned_at = f"epoch {epoch + 1} of fold {fold} of {self.folds}"
        return self.pruned_at is not None

    def fold_listener(self, fold: int, per_fold: list[dict[str, Any]], folds: int) -> bool:
        values = [m.get(REPORTED) for m in per_fold]
        if not values or not all(isinstance(v, int | float) for v in values):
            return False
        mean = sum(float(v) for v in values if v is not None) / len(values)
        if self.cv_steps == "epoch":
            # Reported epoch by epoch inside the fold already (fold_epoch_listener).
            self.fold_values = [float(v) for v in values if v is not None]
            self.epochs_before += int(per_fold[-1].get("epochs_completed", 0))
            return self.pruned_at is not None
        if fold + 1 == folds:  # every fold is trained: pruning now would save nothing
            self.trial.report(mean, fold)
            return False
        if self.report(mean, fold):
            self.pruned_at = f"fold {fold + 1} of {folds}"
        return self.pruned_at is not None

    def mark_pruned(self, run_dir: str) -> None:
        """The job folder's metrics.json and the trial say the trial was pruned, and where."""
        path = Path(run_dir) / "metrics.json"
        metrics = read_json(path) if path.exists() else {}
        if self.unit == "epoch" and isinstance(metrics.get("epochs_completed"), int):
            # The graph loop ends a pruned trial at the end of its call into the graph.
            self.pruned_at = f"epoch {metrics['epochs_completed']}"
        write_json(path, {**metrics, "status": PRUNED, "pruned_at": self.pruned_at})
        self.study._storage.set_trial_user_attr(
            self.trial._trial_id, PRUNED_AT_ATTRIBUTE, self.pruned_at
        )


def link_of_this_job() -> TrialLink | None:
    """The trial this job runs, when a sweeper with a pruner started it; else None."""
    storage_url = os.environ.get(STORAGE_VARIABLE)
    study_name = os.environ.get(STUDY_VARIABLE)
    number = os.environ.get(TRIAL_VARIABLE)
    if not storage_url or not study_name or not number:
        return None
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    sweeper = HydraConfig.get().sweeper
    pruner_config = sweeper.get("pruner")
    if not pruner_config or str(pruner_config.get("_target_", "")).endswith("NopPruner"):
        return None
    import optuna
    from hydra.utils import instantiate

    from ldl.sweeps.optuna_study.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage_url)
    study = optuna.load_study(
        study_name=study_name, storage=storage, pruner=instantiate(pruner_config)
    )
    trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, int(number))
    trial = optuna.trial.Trial(study, trial_id)
    cv_steps: CvSteps = "epoch" if sweeper.get("cv_steps", "fold") == "epoch" else "fold"
    return TrialLink(study, trial, int(sweeper.get("report_every", 1)), cv_steps=cv_steps)


FoldListener = Callable[[int, list[dict[str, Any]]], bool]


@contextlib.contextmanager
def reporting_to_the_study(cross_validating: bool) -> Iterator[TrialLink | None]:
    """Inside: epochs (or, for cv.fold=all, folds) are reported to this job's trial, if any."""
    link = link_of_this_job()
    if link is None or (cross_validating and link.cv_steps == "fold"):
        if link is not None:
            link.unit = "fold"
        yield link
        return
    from ldl.training.recorder import listening_to_epochs

    if cross_validating:
        link.unit = "fold"
        with listening_to_epochs(link.fold_epoch_listener):
            yield link
        return
    with listening_to_epochs(link.epoch_listener):
        yield link


def fold_listener(link: TrialLink | None, folds: int) -> FoldListener | None:
    if link is None:
        return None
    link.folds = folds
    return lambda fold, per_fold: link.fold_listener(fold, per_fold, folds)
