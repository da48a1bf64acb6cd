"""A sweep's summary written out: summary.md (configurations ranked by their mean score, the configurations
kept apart and why, every job, the Optuna study's trials, the best configuration and its retrained test) and
summary.csv (one row per job). The numbers come from `sweeps/summary.py`, which reads the sweep folder."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from ldl.runs.files import DamagedFileError, atomic_write_text, read_json
from ldl.sweeps.optuna_study.table import study_summary_lines
from ldl.sweeps.size_curve import write_size_curve
from ldl.sweeps.summary import RETRAINED_FOLDER, ConfigurationScore, SweepSummary


def jobs_frame(summary: SweepSummary) -> pd.DataFrame:
    rows = []
    for job in summary.jobs:
        row = {
            "job": job.name,
            "status": job.status,
            "configuration": job.configuration,
            "overrides": " ".join(job.overrides),
            "seconds": job.metrics.get("train_seconds"),
            "error": job.problem or job.metrics.get("error", ""),
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


def _score(score: ConfigurationScore) -> str:
    return "-" if score.mean is None else f"{score.mean:.4f} ± {score.std:.4f}{score.interval}"


def format_summary(summary: SweepSummary) -> str:
    """The sweep as Markdown: configurations ranked by their mean score, then every job."""
    direction = "higher" if summary.higher_is_better else "lower"
    counts: dict[str, int] = defaultdict(int)
    for job in summary.jobs:
        counts[job.status] += 1
    tally = ", ".join(f"{count} {status}" for status, count in counts.items())
    lines = [
        f"# Sweep {summary.folder.name}",
        "",
        f"{len(summary.jobs)} jobs: {tally}. Ranked by {summary.metric} ({direction} is better), "
        "mean ± std over folds and seeds.",
        f"Every job: {' '.join(summary.common_overrides) or '(no common overrides)'}",
        "",
        f"| configuration | jobs | failed | {summary.metric} mean ± std |",
        "|---|---|---|---|",
    ]
    best = summary.best
    ranked = summary.ranked()
    for score in ranked:
        name = f"**{score.configuration}** (best)" if score is best else score.configuration
        if not score.complete:
            name += f" (incomplete: {score.why_incomplete()})"
        lines.append(f"| {_cell(name)} | {score.jobs} | {score.failed} | {_score(score)} |")
    lines += _unranked_lines(summary, [c for c in summary.configurations if c not in ranked])
    lines += _job_lines(summary)
    problems = [job for job in summary.jobs if job.problem]
    if problems:
        lines += ["", "Damaged jobs (left out):"] + [f"- {job.problem}" for job in problems]
    lines += study_summary_lines(summary.folder)
    lines += _best_lines(summary, best)
    return "\n".join(lines) + "\n"


def _unranked_lines(summary: SweepSummary, apart: list[ConfigurationScore]) -> list[str]:
    """The configurations kept out of the ranking, with why."""
    if not apart:
        return []
    lines = [
        "",
        "Not ranked: these configurations lack some of their jobs' scores, so their means are "
        "over fewer folds or seeds than the others' (rank them anyway with include_incomplete=true).",
        "",
        f"| configuration | jobs | why not ranked | {summary.metric} over the jobs it has |",
        "|---|---|---|---|",
    ]
    for score in apart:
        reason = score.why_incomplete() or "no score"
        lines.append(
            f"| {_cell(score.configuration)} | {score.jobs} | {_cell(reason)} | {_score(score)} |"
        )
    return lines


def _job_lines(summary: SweepSummary) -> list[str]:
    """Every job with its status and validation/test metrics."""
    frame = jobs_frame(summary)
    metric_columns = [c for c in frame.columns if c.startswith(("val/", "test/"))]
    lines = ["", "| job | overrides | status | " + " | ".join(metric_columns) + " | seconds |"]
    lines.append("|" + "---|" * (4 + len(metric_columns)))
    for row in frame.to_dict("records"):
        cells = [row["job"], row["overrides"], row["status"]]
        cells += [row.get(c, "") for c in metric_columns] + [row.get("seconds", "")]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _best_lines(summary: SweepSummary, best: ConfigurationScore | None) -> list[str]:
    """The best configuration and its retrained test result, or how to get it."""
    if best is None:
        return ["", "No configuration has a complete set of scores yet, so none is named best."]
    heading = ["", f"Best configuration: {best.configuration}"]
    retrained = _retrained_metrics(summary.folder)
    if retrained.get("status") != "completed":
        hint = (
            f"Retrain it on all training data and test it once: ldl retrain-best {summary.folder}"
        )
        return [*heading, hint]
    tests = {
        k: v for k, v in retrained.items() if k.startswith("test/") and isinstance(v, int | float)
    }
    shown = ", ".join(f"{k} = {v:.4f}" for k, v in tests.items())
    return [*heading, f"Retrained on all training data, tested once ({RETRAINED_FOLDER}/): {shown}"]


def _retrained_metrics(folder: Path) -> dict[str, Any]:
    path = folder / RETRAINED_FOLDER / "metrics.json"
    try:
        return read_json(path) if path.exists() else {}
    except DamagedFileError:
        return {}


def write_summary(summary: SweepSummary) -> None:
    """summary.csv (one row per job) and summary.md (the readable table) in the sweep folder."""
    # First: a file it cannot read refuses before anything is written.
    text = format_summary(summary)
    atomic_write_text(summary.folder / "summary.csv", jobs_frame(summary).to_csv(index=False))
    atomic_write_text(summary.folder / "summary.md", text)
    completed = [job.metrics for job in summary.jobs if job.status == "completed"]
    write_size_curve(summary.folder, completed)
