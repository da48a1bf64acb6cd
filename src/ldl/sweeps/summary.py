"""Summaries of a sweep folder: every job, every configuration's mean ± std, the best configuration.

A sweep folder is what `ldl train -m ...` leaves: one run folder per job (with `.hydra/overrides.yaml` and
`metrics.json`). The summary is rebuilt from those files alone, so it works for an interrupted sweep too.
Jobs that differ only in `cv.fold` or `trainer.seed` are one configuration: their validation scores are
averaged, as the book's k-fold procedure prescribes (book chapter 5).

Model selection is honest about missing evidence: a configuration with a failed (diverged), interrupted
or never-started job is averaged over fewer folds, so by default it is listed apart, with why, and cannot
outrank a complete configuration (`include_incomplete=true` ranks it anyway). A grid sweep's
`multirun.yaml` says which jobs were planned, so jobs that never started are listed as such, and a job
whose process was killed (status `running`, no live owner of its lock) as interrupted. A job whose files
are damaged is listed with the damage and the others are summarized as usual.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ldl.errors import ConfigError
from ldl.runs.files import DamagedFileError, read_json, read_yaml
from ldl.runs.run_folder import effective_status
from ldl.sweeps.intervals import job_interval_text
from ldl.sweeps.plan import planned_jobs

# Overrides that repeat a configuration rather than define a new one.
REPEAT_KEYS = ("cv.fold", "trainer.seed")
# Where `ldl retrain-best` trains the winner, inside the sweep folder (not a job of the sweep).
RETRAINED_FOLDER = "best_retrained"
# Job statuses besides a run's own (completed, failed, running, interrupted).
NOT_STARTED, DAMAGED = "not started", "damaged"


@dataclass
class Job:
    name: str
    folder: Path
    overrides: list[str]
    status: str
    metrics: dict[str, Any]
    # What this job's configuration is called: its overrides that are not shared by every job.
    configuration: str = ""
    # Why the job's files cannot be read (status damaged).
    problem: str = ""


def _name_configurations(jobs: list[Job]) -> list[str]:
    """Give each job its configuration's name; return the overrides common to all jobs."""
    described = [job for job in jobs if job.overrides]
    common = set.intersection(*(set(job.overrides) for job in described)) if described else set()
    for job in jobs:
        kept = [
            o
            for o in job.overrides
            if o not in common and o.split("=", 1)[0].lstrip("+~") not in REPEAT_KEYS
        ]
        if job.overrides:
            job.configuration = " ".join(kept) or "(the same for every job)"
        else:
            job.configuration = f"(unknown: {job.name})"
    return [o for o in described[0].overrides if o in common] if described else []


@dataclass
class ConfigurationScore:
    configuration: str
    jobs: int
    failed: int
    mean: float | None
    std: float | None
    values: list[float] = field(default_factory=list)
    # Jobs that did not complete, by status (failed, interrupted, not started, running, damaged).
    incomplete: dict[str, int] = field(default_factory=dict)
    # Completed jobs without a finite value of the metric.
    unscored: int = 0
    # The 95 % interval of a configuration scored by one seed-repeats job (sweeps/repeats.py).
    interval: str = ""

    @property
    def complete(self) -> bool:
        """Every planned job completed with a finite score: the mean is over all of its folds."""
        return not self.incomplete and not self.unscored and len(self.values) == self.jobs

    def why_incomplete(self) -> str:
        parts = [f"{count} of {self.jobs} {status}" for status, count in self.incomplete.items()]
        if self.unscored:
            parts.append(f"{self.unscored} of {self.jobs} without a finite score")
        return ", ".join(parts)


@dataclass
class SweepSummary:
    folder: Path
    jobs: list[Job]
    metric: str
    higher_is_better: bool
    configurations: list[ConfigurationScore]
    common_overrides: list[str] = field(default_factory=list)
    # Rank configurations with failed or missing jobs too (over the jobs they have).
    include_incomplete: bool = False

    def ranked(self) -> list[ConfigurationScore]:
        """The configurations that may win, best first."""
        scored = [
            c
            for c in self.configurations
            if c.mean is not None and (c.complete or self.include_incomplete)
        ]
        sign = -1.0 if self.higher_is_better else 1.0
        return sorted(scored, key=lambda c: sign * (c.mean or 0.0))

    @property
    def best(self) -> ConfigurationScore | None:
        ranked = self.ranked()
        return ranked[0] if ranked else None

    def best_job(self) -> Job | None:
        best = self.best
        return next(
            (
                j
                for j in self.jobs
                if best and j.configuration == best.configuration and j.status == "completed"
            ),
            None,
        )


def _job_overrides(folder: Path) -> list[str]:
    path = folder / ".hydra" / "overrides.yaml"
    return [str(o) for o in read_yaml(path, expected=list)] if path.exists() else []


def _job_order(folder: Path) -> tuple[int, str]:
    number = folder.name.split("_", 1)[0]
    return (int(number) if number.isdigit() else 1_000_000, folder.name)


def _read_job(folder: Path) -> Job:
    """One job folder; damaged files make it a `damaged` job instead of stopping the summary."""
    overrides: list[str] = []
    try:
        overrides = _job_overrides(folder)
        metrics_path = folder / "metrics.json"
        metrics = read_json(metrics_path) if metrics_path.exists() else {}
    except DamagedFileError as damaged:
        return Job(folder.name, folder, overrides, DAMAGED, {}, problem=str(damaged))
    return Job(
        folder.name, folder, overrides, effective_status(folder, metrics, NOT_STARTED), metrics
    )


def collect_jobs(sweep_folder: Path) -> list[Job]:
    """Every job of the sweep: its folders, finished, failed, interrupted or damaged, and the planned
    jobs of a grid sweep that never started (no folder)."""
    jobs = []
    for folder in sorted((p for p in Path(sweep_folder).iterdir() if p.is_dir()), key=_job_order):
        if folder.name == RETRAINED_FOLDER:
            continue
        if not (folder / ".hydra").is_dir() and not (folder / "metrics.json").exists():
            continue
        jobs.append(_read_job(folder))
    plan = planned_jobs(sweep_folder)
    if plan:
        numbered = {_job_order(job.folder)[0] for job in jobs}
        for number, overrides in enumerate(plan):
            if number not in numbered:
                name = f"{number}_(no folder)"
                jobs.append(Job(name, Path(sweep_folder) / name, overrides, NOT_STARTED, {}))
        jobs.sort(key=lambda job: _job_order(job.folder))
    return jobs


def available_metrics(jobs: list[Job]) -> list[str]:
    """The numeric metrics some job recorded (what metric= may name)."""
    return sorted(
        {
            key
            for job in jobs
            for key, value in job.metrics.items()
            if "/" in key
            and not key.startswith(("book", "data_statistics"))
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        }
    )


def choose_metric(jobs: list[Job]) -> tuple[str, bool]:
    """Validation accuracy (higher is better), else validation MAE or loss (lower is better)."""
    keys = {key for job in jobs for key in job.metrics}
    for metric, higher in (("val/accuracy", True), ("val/mae", False), ("val/loss", False)):
        if metric in keys:
            return metric, higher
    for metric, higher in (("test/accuracy", True), ("test/mae", False), ("test/loss", False)):
        if metric in keys:
            return metric, higher
    return "val/loss", False


def _higher_is_better(metric: str) -> bool:
    name = metric.rsplit("/", 1)[-1]
    return any(word in name for word in ("accuracy", "bleu", "auc", "precision", "recall"))


def _finite_value(job: Job, metric: str) -> float | None:
    value = job.metrics.get(metric)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _spread(members: list[Job], metric: str, values: list[float]) -> float | None:
    """Standard deviation of a configuration's score: over its jobs (folds or seeds swept as jobs),
    or, for one job that cross-validated inside itself (cv.fold=all), over that job's folds."""
    if len(values) > 1:
        return statistics.pstdev(values)
    if not values:
        return None
    inner = [j.metrics.get(f"{metric}_std") for j in members if j.status == "completed"]
    return float(inner[0]) if len(inner) == 1 and isinstance(inner[0], int | float) else 0.0


def summarize_sweep(
    sweep_folder: Path | str,
    metric: str | None = None,
    higher_is_better: bool | None = None,
    include_incomplete: bool = False,
) -> SweepSummary:
    folder = Path(sweep_folder)
    jobs = collect_jobs(folder)
    common = _name_configurations(jobs)
    if metric is not None:
        known = available_metrics(jobs)
        if metric not in known:
            raise ConfigError(
                f"No job of {folder} has the metric {metric!r}; nothing was changed. Metrics there: "
                f"{', '.join(known) or 'none (no job recorded a metric yet)'}."
            )
        higher = _higher_is_better(metric)
    else:
        metric, higher = choose_metric(jobs)
    higher = higher if higher_is_better is None else higher_is_better
    grouped: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        grouped[job.configuration].append(job)
    configurations = []
    for configuration, members in grouped.items():
        incomplete: dict[str, int] = defaultdict(int)
        values, unscored = [], 0
        for job in members:
            if job.status != "completed":
                incomplete[job.status] += 1
                continue
            value = _finite_value(job, metric)
            if value is None:
                unscored += 1
            else:
                values.append(value)
        configurations.append(
            ConfigurationScore(
                configuration=configuration,
                jobs=len(members),
                failed=sum(j.status == "failed" for j in members),
                mean=statistics.fmean(values) if values else None,
                std=_spread(members, metric, values),
                values=values,
                incomplete=dict(incomplete),
                unscored=unscored,
                interval=job_interval_text(
                    [j.metrics for j in members if j.status == "completed"], metric
                ),
            )
        )
    return SweepSummary(folder, jobs, metric, higher, configurations, common, include_incomplete)
