"""Summaries of a sweep folder: every job, every configuration's mean ± std, the best configuration.

A sweep folder is what `ldl train -m ...` leaves: one run folder per job (with `.hydra/overrides.yaml` and
`metrics.json`). The summary is rebuilt from those files alone, so it works for an interrupted sweep too.
Jobs that differ only in `cv.fold` or `trainer.seed` are one configuration: their validation scores are
averaged, as the book's k-fold procedure prescribes (book chapter 5).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf

from ldl.runs.files import atomic_write_text, read_json
from ldl.sweeps.optuna_study.table import study_summary_lines
from ldl.sweeps.size_curve import write_size_curve

# Overrides that repeat a configuration rather than define a new one.
REPEAT_KEYS = ("cv.fold", "trainer.seed")
# Where `ldl retrain-best` trains the winner, inside the sweep folder (not a job of the sweep).
RETRAINED_FOLDER = "best_retrained"


@dataclass
class Job:
    name: str
    folder: Path
    overrides: list[str]
    status: str
    metrics: dict[str, Any]
    # What this job's configuration is called: its overrides that are not shared by every job.
    configuration: str = ""


def _name_configurations(jobs: list[Job]) -> list[str]:
    """Give each job its configuration's name; return the overrides common to all jobs."""
    common = set.intersection(*(set(job.overrides) for job in jobs)) if jobs else set()
    for job in jobs:
        kept = [
            o
            for o in job.overrides
            if o not in common and o.split("=", 1)[0].lstrip("+~") not in REPEAT_KEYS
        ]
        job.configuration = " ".join(kept) or "(the same for every job)"
    return [o for o in jobs[0].overrides if o in common] if jobs else []


@dataclass
class ConfigurationScore:
    configuration: str
    jobs: int
    failed: int
    mean: float | None
    std: float | None
    values: list[float] = field(default_factory=list)


@dataclass
class SweepSummary:
    folder: Path
    jobs: list[Job]
    metric: str
    higher_is_better: bool
    configurations: list[ConfigurationScore]
    common_overrides: list[str] = field(default_factory=list)

    @property
    def best(self) -> ConfigurationScore | None:
        scored = [c for c in self.configurations if c.mean is not None]
        if not scored:
            return None
        key = (lambda c: c.mean) if self.higher_is_better else (lambda c: -c.mean)
        return max(scored, key=key)

    def best_job(self) -> Job | None:
        best = self.best
        return next((j for j in self.jobs if best and j.configuration == best.configuration), None)


def _job_overrides(folder: Path) -> list[str]:
    path = folder / ".hydra" / "overrides.yaml"
    return [str(o) for o in OmegaConf.load(path)] if path.exists() else []


def collect_jobs(sweep_folder: Path) -> list[Job]:
    """Every job folder below the sweep folder, finished, failed or never started."""
    jobs = []

    def job_order(folder: Path) -> tuple[int, str]:
        number = folder.name.split("_", 1)[0]
        return (int(number) if number.isdigit() else 1_000_000, folder.name)

    for folder in sorted((p for p in Path(sweep_folder).iterdir() if p.is_dir()), key=job_order):
        if folder.name == RETRAINED_FOLDER:
            continue
        if not (folder / ".hydra").is_dir() and not (folder / "metrics.json").exists():
            continue
        metrics = read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
        jobs.append(
            Job(
                name=folder.name,
                folder=folder,
                overrides=_job_overrides(folder),
                status=metrics.get("status", "not started"),
                metrics=metrics,
            )
        )
    return jobs


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
    sweep_folder: Path | str, metric: str | None = None, higher_is_better: bool | None = None
) -> SweepSummary:
    folder = Path(sweep_folder)
    jobs = collect_jobs(folder)
    common = _name_configurations(jobs)
    chosen, higher = choose_metric(jobs)
    metric = metric or chosen
    higher = higher if higher_is_better is None else higher_is_better
    grouped: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        grouped[job.configuration].append(job)
    configurations = []
    for configuration, members in grouped.items():
        values = [
            float(j.metrics[metric])
            for j in members
            if j.status == "completed" and isinstance(j.metrics.get(metric), int | float)
        ]
        values = [v for v in values if math.isfinite(v)]
        configurations.append(
            ConfigurationScore(
                configuration=configuration,
                jobs=len(members),
                failed=sum(j.status != "completed" for j in members),
                mean=statistics.fmean(values) if values else None,
                std=_spread(members, metric, values),
                values=values,
            )
        )
    return SweepSummary(folder, jobs, metric, higher, configurations, common)


def jobs_frame(summary: SweepSummary) -> pd.DataFrame:
    rows = []
    for job in summary.jobs:
        row = {
            "job": job.name,
            "status": job.status,
            "configuration": job.configuration,
            "overrides": " ".join(job.overrides),
            "seconds": job.metrics.get("train_seconds"),
            "error": job.metrics.get("error", ""),
        }
        row.update(
            {
                key: value
                for key, value in job.metrics.items()
                if key.startswith(("train/", "val/", "test/")) and isinstance(value, int | float)
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return str(value).replace("|", "\\|")


def format_summary(summary: SweepSummary) -> str:
    """The sweep as Markdown: configurations ranked by their mean score, then every job."""
    direction = "higher" if summary.higher_is_better else "lower"
    lines = [
        f"# Sweep {summary.folder.name}",
        "",
        f"{len(summary.jobs)} jobs, {sum(j.status == 'completed' for j in summary.jobs)} completed. "
        f"Ranked by {summary.metric} ({direction} is better), mean ± std over folds and seeds.",
        f"Every job: {' '.join(summary.common_overrides) or '(no common overrides)'}",
        "",
        f"| configuration | jobs | failed | {summary.metric} mean ± std |",
        "|---|---|---|---|",
    ]
    best = summary.best
    ranked = sorted(
        summary.configurations,
        key=lambda c: (
            c.mean is None,
            -(c.mean or 0) if summary.higher_is_better else (c.mean or 0),
        ),
    )
    for score in ranked:
        shown = "-" if score.mean is None else f"{score.mean:.4f} ± {score.std:.4f}"
        name = f"**{score.configuration}** (best)" if score is best else score.configuration
        lines.append(f"| {_cell(name)} | {score.jobs} | {score.failed} | {shown} |")
    frame = jobs_frame(summary)
    metric_columns = [c for c in frame.columns if c.startswith(("val/", "test/"))]
    lines += ["", "| job | overrides | status | " + " | ".join(metric_columns) + " | seconds |"]
    lines.append("|" + "---|" * (4 + len(metric_columns)))
    for row in frame.to_dict("records"):
        cells = [row["job"], row["overrides"], row["status"]]
        cells += [row.get(c, "") for c in metric_columns] + [row.get("seconds", "")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += study_summary_lines(summary.folder)
    if best is not None:
        lines += ["", f"Best configuration: {best.configuration}"]
        retrained = summary.folder / RETRAINED_FOLDER / "metrics.json"
        if retrained.exists() and read_json(retrained).get("status") == "completed":
            tests = {k: v for k, v in read_json(retrained).items() if k.startswith("test/")}
            shown = ", ".join(f"{k} = {v:.4f}" for k, v in tests.items())
            lines += [f"Retrained on all training data, tested once ({RETRAINED_FOLDER}/): {shown}"]
        else:
            lines += [
                f"Retrain it on all training data and test it once: ldl retrain-best {summary.folder}"
            ]
    return "\n".join(lines) + "\n"


def write_summary(summary: SweepSummary) -> None:
    """summary.csv (one row per job) and summary.md (the readable table) in the sweep folder."""
    jobs_frame(summary).to_csv(summary.folder / "summary.csv", index=False)
    atomic_write_text(summary.folder / "summary.md", format_summary(summary))
    completed = [job.metrics for job in summary.jobs if job.status == "completed"]
    write_size_curve(summary.folder, completed)
