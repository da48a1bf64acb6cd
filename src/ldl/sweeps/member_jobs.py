"""A job that trains several members in its own folder (the folds of cv.fold=all, the seeds of
trainer.repeats): the job folder chosen, claimed and started the same way for both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from ldl.config import resolved_config
from ldl.runs.reporter import Say, make_reporter
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode, select_run_folder

ALL_FOLDS = "all"
# Called once the run folder is chosen (ldl.training.train.Claim): moves Hydra's files into it.
Claim = Callable[[Any, RunMode], None]


def cross_validates_in_one_job(cfg: DictConfig) -> bool:
    return str(OmegaConf.select(cfg, "cv.fold")) == ALL_FOLDS


def open_job_folder(
    cfg: DictConfig, claim: Claim | None, what: str
) -> tuple[RunFolder, Say, dict[str, Any] | None]:
    """The job's folder (claimed, created, its config written when new), its reporter, and the
    job's metrics when it already completed (then nothing is to be trained). `what` names the
    members in the job's messages, e.g. `5-fold cross-validation`."""
    job, mode = select_run_folder(cfg)
    if claim is not None:
        claim(job, mode)
    if str(job.path) != str(cfg.run_dir):
        with open_dict(cfg):
            cfg.run_dir = str(job.path)
    job.path.mkdir(parents=True, exist_ok=True)
    say = make_reporter(job)
    if mode is RunMode.COMPLETED:
        say(f"{job.path} already holds a completed run ({what}); unchanged.")
        return job, say, job.read_metrics()
    if mode is RunMode.NEW:
        job.write_config(resolved_config(cfg))
    say(f"ldl train: {cfg.experiment_id}, {what} in one job ({job.path})")
    return job, say, None
