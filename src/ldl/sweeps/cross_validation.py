"""k-fold cross-validation inside one job (`cv.fold=all`): train every fold in turn, report the mean.

A sweep over `cv.fold=range(k)` spreads the folds of a configuration over k jobs; an Optuna trial or a
grid point that must be *ranked* by its cross-validated score needs them in one job. With `cv.fold=all`
the job trains fold 0, 1, ... k-1 one after the other, each with `train(cfg)` in its own run folder
`fold_<i>/` inside the job's folder, and the job's metrics.json holds the mean over the folds of every
train/ and val/ number (and `<key>_std`, the population standard deviation), so the job's objective
(`val/loss`) is the cross-validated loss. A killed job re-run with the same command finds the finished
folds complete and resumes the interrupted fold at its last saved epoch.

This layer only calls `train`; it does not depend on how a run is trained.
"""

from __future__ import annotations

import copy
import math
import re
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, open_dict

from ldl.config import hparams_of
from ldl.errors import ConfigError, DataError, LdlError, StoppedError
from ldl.runs.files import write_json
from ldl.runs.reporter import Say
from ldl.runs.selection import discard_unstarted_run
from ldl.sweeps.member_jobs import Claim, cross_validates_in_one_job, open_job_folder

Train = Callable[..., dict[str, Any]]


def train_or_cross_validate(
    cfg: DictConfig, train: Train | None = None, claim: Claim | None = None
) -> dict[str, Any]:
    """`train(cfg)`, or all k folds of it in turn when cv.fold=all. `claim` is called with the
    chosen run folder (for cv.fold=all, the job's folder that holds the folds)."""
    if train is None:
        from ldl.training.train import train as train_one_run

        train = train_one_run
    from ldl.sweeps.optuna_study.pruning import fold_listener, reporting_to_the_study
    from ldl.sweeps.repeats import repeats_of, train_repeats

    if repeats_of(cfg) > 1:  # K seeds in one job (sweeps/repeats.py); judged by their means
        return train_repeats(cfg, train, claim)
    cross_validating = cross_validates_in_one_job(cfg)
    # An Optuna trial with a pruner reports each epoch (or fold) and may stop early (pruned).
    with reporting_to_the_study(cross_validating) as trial:
        if not cross_validating:
            metrics = train(cfg, claim=claim) if claim is not None else train(cfg)
        else:
            folds = fold_listener(trial, _number_of_folds(cfg))
            metrics = train_all_folds(cfg, train, claim, after_fold=folds)
    if trial is not None and trial.pruned_at is not None:
        trial.mark_pruned(str(cfg.run_dir))
        metrics = {**metrics, "status": "pruned", "pruned_at": trial.pruned_at}
    return metrics


def fold_folder(job_folder: Path | str, fold: int) -> Path:
    return Path(job_folder) / f"fold_{fold}"


def _fold_config(cfg: DictConfig, fold: int, folder: Path) -> DictConfig:
    fold_cfg = copy.deepcopy(cfg)
    with open_dict(fold_cfg):
        fold_cfg.cv.fold = fold
        fold_cfg.run_dir = str(folder)
        # The job folder, not each fold's, is what trainer.resume=true or =<folder> pointed at.
        fold_cfg.trainer.resume = "auto"
    return fold_cfg


def _number_of_folds(cfg: DictConfig) -> int:
    k = cfg.cv.k
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ConfigError(f"cv.k must be an integer >= 2 for cv.fold=all, got {k!r}, e.g. cv.k=5.")
    return k


def mean_and_std(per_fold: list[dict[str, Any]]) -> dict[str, float]:
    """Mean and population standard deviation of every train/ and val/ number all folds have."""
    keys = [
        key
        for key, value in per_fold[0].items()
        if key.startswith(("train/", "val/"))
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ]
    result: dict[str, float] = {}
    for key in keys:
        values = [fold.get(key) for fold in per_fold]
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            continue
        numbers = [float(v) for v in values if v is not None]
        result[key] = statistics.fmean(numbers)
        result[f"{key}_std"] = statistics.pstdev(numbers)
    return result


def train_all_folds(
    cfg: DictConfig,
    train: Train,
    claim: Claim | None = None,
    after_fold: Callable[[int, list[dict[str, Any]]], bool] | None = None,
) -> dict[str, Any]:
    """Train fold 0 .. k-1 in turn in `<run_dir>/fold_<i>/`; the job's metrics are their mean.
    `after_fold(fold, metrics of the folds so far)` returning True trains no further fold (an
    Optuna trial its pruner stops); the metrics are then the mean of the folds trained."""
    k = _number_of_folds(cfg)
    job, say, completed = open_job_folder(cfg, claim, f"{k}-fold cross-validation")
    if completed is not None:
        return completed
    # The folds train together in one graph where they can (training/population.py); else in turn.
    pruned = after_fold is not None  # a pruner judges the folds one at a time: in turn
    per_fold: list[dict[str, Any]] = _folds_together(cfg, train, job, k, say, pruned) or []
    together = bool(per_fold)
    for fold in range(len(per_fold), k):
        write_json(
            job.metrics_path,
            {"experiment": cfg.experiment_id, "status": "running", "folds_completed": fold},
        )
        say(f"--- fold {fold + 1} of {k} ---")
        folder = fold_folder(job.path, fold)
        started_here = not folder.exists()
        try:
            metrics = train(_fold_config(cfg, fold, folder))
        except (StoppedError, KeyboardInterrupt) as stop:
            # The fold is interrupted, not failed: the same command resumes it.
            write_json(
                job.metrics_path,
                {"experiment": cfg.experiment_id, "status": "interrupted", "folds_completed": fold},
            )
            _point_at_the_job(stop)
            raise
        except LdlError as error:
            if started_here and isinstance(error, ConfigError | DataError):
                discard_unstarted_run(folder, job.path)  # refused: no fold folder left behind
            _point_at_the_job(error)
            write_json(
                job.metrics_path,
                {
                    "experiment": cfg.experiment_id,
                    "status": "failed",
                    "folds_completed": fold,
                    "error": f"fold {fold}: {error}",
                },
            )
            raise
        per_fold.append(metrics)
        if after_fold is not None and after_fold(fold, per_fold):
            break
    summary = _job_metrics(cfg, per_fold)
    if together:  # every fold's train_seconds is the population's time
        summary["train_seconds"] = max(float(m.get("train_seconds", 0.0)) for m in per_fold)
    write_json(job.metrics_path, summary)
    _write_tensorboard(cfg, job.tensorboard_dir, job.path.name, summary)
    shown = ", ".join(
        f"{key} = {summary[key]:.4f} ± {summary[key + '_std']:.4f}"
        for key in summary
        if key.startswith("val/") and not key.endswith("_std")
    )
    say(f"Result over {len(per_fold)} folds (mean ± std): {shown}")
    return summary


def _point_at_the_job(error: BaseException) -> None:
    """A fold's advice to resume with `hydra.run.dir=<job>/fold_<i>` (a full disk, an interruption)
    would be refused: a fold is resumed by re-running its job. The message names the job's folder."""
    if error.args and isinstance(error.args[0], str):
        text = re.sub(r"(hydra\.run\.dir=\S*?)/fold_\d+\b", r"\1", error.args[0])
        error.args = (text, *error.args[1:])


def _folds_together(
    cfg: DictConfig, train: Train, job: Any, k: int, say: Say, pruned: bool
) -> list[dict[str, Any]] | None:
    """The k folds' metrics trained together (None: train them in turn), the job's metrics.json
    saying how it went as the loop over the folds does."""
    from ldl.training.population import members_together, trains_members_together

    if not trains_members_together(train):
        return None
    if pruned:
        say(f"Training the {k} folds in turn, not together in one graph: an Optuna pruner judges "
            "the folds one at a time.")  # fmt: skip
        return None
    folds = [_fold_config(cfg, fold, fold_folder(job.path, fold)) for fold in range(k)]
    status = {"experiment": cfg.experiment_id, "folds_completed": 0}
    write_json(job.metrics_path, {**status, "status": "running"})
    try:
        return members_together(folds, f"the {k} folds", say)
    except (StoppedError, KeyboardInterrupt):  # interrupted, not failed: the same command resumes
        write_json(job.metrics_path, {**status, "status": "interrupted"})
        raise
    except LdlError as error:
        write_json(job.metrics_path, {**status, "status": "failed", "error": str(error)})
        raise


def _job_metrics(cfg: DictConfig, per_fold: list[dict[str, Any]]) -> dict[str, Any]:
    first = per_fold[0]
    return {
        "experiment": cfg.experiment_id,
        "cv/k": len(per_fold),
        **mean_and_std(per_fold),
        **{
            f"fold_{fold}/{key}": value
            for fold, metrics in enumerate(per_fold)
            for key, value in metrics.items()
            if key.startswith("val/") and isinstance(value, int | float)
        },
        "epochs_completed": sum(int(m.get("epochs_completed", 0)) for m in per_fold),
        "train_seconds": sum(float(m.get("train_seconds", 0.0)) for m in per_fold),
        "device": first.get("device"),
        "seed": first.get("seed"),
        "status": "completed",
    }


def _write_tensorboard(cfg: DictConfig, log_dir: Path, name: str, metrics: dict[str, Any]) -> None:
    """The job as one HParams session with the cross-validated numbers (each fold has its own too)."""
    from ldl.training import tensorboard_logs

    tensorboard_logs.write_hparams(str(log_dir), hparams_of(cfg), name)
    means = {key: value for key, value in metrics.items() if key.startswith("val/")}
    tensorboard_logs.write_final_scalars(str(log_dir), means, step=0)
