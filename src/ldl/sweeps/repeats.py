"""Seed repeats (`trainer.repeats=K`): one configuration trained with K seeds in one job.

One run of a small network is one draw: c6e1's test MAE moves by tenths between seeds. With
`trainer.repeats=K` the job trains the configuration with seeds trainer.seed, trainer.seed+1, ...
(or K drawn seeds when trainer.seed is null) in run folders `repeat_<i>/` inside the job's folder —
together in one graph where they can be (training/population.py), else in turn — and the job's
metrics.json holds, for every train/, val/ and test/ number, the mean, the sample standard deviation
(`<key>_std`) and the 95 % Student t interval of the mean (`<key>_ci95_low`, `<key>_ci95_high`). The
book comparison then judges the interval, not one draw: within the book's range, outside it, or
overlapping it. A grid (`-m ... trainer.repeats=3`) ranks its configurations by the mean in
summary.md, with the interval shown. A killed job re-run with the same command resumes each seed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from ldl.errors import ConfigError, LdlError, StoppedError
from ldl.runs.book import compare_with_book
from ldl.runs.files import write_json
from ldl.runs.reporter import Say
from ldl.sweeps.intervals import confidence_interval, interval_verdict
from ldl.sweeps.member_jobs import Claim, cross_validates_in_one_job, open_job_folder

Train = Callable[..., dict[str, Any]]
SUMMARIZED = ("train/", "val/", "test/")


def repeats_of(cfg: DictConfig) -> int:
    repeats = OmegaConf.select(cfg, "trainer.repeats", default=1)
    return repeats if isinstance(repeats, int) and not isinstance(repeats, bool) else 1


def repeat_folder(job_folder: Path | str, repeat: int) -> Path:
    return Path(job_folder) / f"repeat_{repeat}"


def _member_config(cfg: DictConfig, repeat: int, folder: Path) -> DictConfig:
    member = copy.deepcopy(cfg)
    with open_dict(member):
        member.trainer.repeats = 1
        if cfg.trainer.seed is not None:
            member.trainer.seed = int(cfg.trainer.seed) + repeat
        member.run_dir = str(folder)
        member.trainer.resume = "auto"  # the job folder is what trainer.resume pointed at
    return member


def summarize_repeats(per_member: list[dict[str, Any]]) -> dict[str, float]:
    """Mean, sample std and 95 % interval of every number all members have."""
    result: dict[str, float] = {}
    for key, first in per_member[0].items():
        if not key.startswith(SUMMARIZED) or isinstance(first, bool):
            continue
        values = [member.get(key) for member in per_member]
        if not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        ):
            continue
        interval = confidence_interval([float(v) for v in values if v is not None])
        result[key] = interval.mean
        result[f"{key}_std"] = interval.std
        result[f"{key}_ci95_low"] = interval.low
        result[f"{key}_ci95_high"] = interval.high
    return result


def book_interval_verdicts(book: Any, summary: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """`book/<metric>` and `book_verdict/<metric>` judged on the interval, and the table's lines."""
    flat: dict[str, Any] = {}
    lines: list[str] = []
    for row in compare_with_book(book, summary):
        low, high = summary.get(f"{row.metric}_ci95_low"), summary.get(f"{row.metric}_ci95_high")
        verdict = interval_verdict(low, high, row.low, row.high)
        flat[f"book/{row.metric}"] = row.book
        flat[f"book_verdict/{row.metric}"] = verdict
        ours = "-" if low is None else f"{summary[row.metric]:.4g} ({low:.4g} .. {high:.4g})"
        span = "-" if row.low is None else f"{row.low:.4g} .. {row.high:.4g}"
        lines.append(f"  {row.metric:<22}{ours:>30}  book {row.book:<10.4g}{span:<20}{verdict}")
    if lines:
        lines.insert(0, "Compared with the book (our mean and 95 % interval against its range):")
    return flat, lines


def train_repeats(cfg: DictConfig, train: Train, claim: Claim | None = None) -> dict[str, Any]:
    """Train seeds 0 .. K-1 of `cfg` in `<run_dir>/repeat_<i>/`; the job's metrics summarize them."""
    repeats = repeats_of(cfg)
    if cross_validates_in_one_job(cfg):
        raise ConfigError(
            f"trainer.repeats={repeats} and cv.fold=all cannot be combined in one job: choose seed "
            "repeats (trainer.repeats) or k-fold cross-validation (cv.fold=all), or sweep one of them "
            "(-m trainer.seed=0,1,2 cv.fold=all)."
        )
    job, say, completed = open_job_folder(cfg, claim, f"{repeats} seed repeats")
    if completed is not None:
        return completed
    members = [_member_config(cfg, i, repeat_folder(job.path, i)) for i in range(repeats)]
    status = {"experiment": cfg.experiment_id, "repeats_completed": 0}
    write_json(job.metrics_path, {**status, "status": "running"})
    try:
        per_member, together = _train_members(members, train, repeats, say)
    except (StoppedError, KeyboardInterrupt):  # interrupted, not failed: the same command resumes
        write_json(job.metrics_path, {**status, "status": "interrupted"})
        raise
    except LdlError as error:
        write_json(job.metrics_path, {**status, "status": "failed", "error": str(error)})
        raise
    summary = _job_metrics(cfg, per_member, together)
    verdicts, table = book_interval_verdicts(cfg.get("book"), summary)
    summary.update(verdicts)
    write_json(job.metrics_path, summary)
    shown = ", ".join(
        f"{key} = {summary[key]:.4f} ± {summary[key + '_std']:.4f} "
        f"(95 % CI {summary[key + '_ci95_low']:.4f} .. {summary[key + '_ci95_high']:.4f})"
        for key in summary
        if key.startswith(("val/", "test/")) and key + "_ci95_low" in summary
    )
    say(f"Result over {repeats} seeds (mean ± std): {shown}")
    for line in table:
        say(line)
    return summary


def _train_members(
    members: list[DictConfig], train: Train, repeats: int, say: Say
) -> tuple[list[dict[str, Any]], bool]:
    """Every member's metrics, and whether they were trained together."""
    from ldl.training.population import members_together, trains_members_together

    if trains_members_together(train):
        together = members_together(members, f"the {repeats} seeds", say)
        if together is not None:
            return together, True
    per_member = []
    for index, member in enumerate(members):
        say(f"--- seed repeat {index + 1} of {repeats} ---")
        per_member.append(train(member))
    return per_member, False


def _job_metrics(
    cfg: DictConfig, per_member: list[dict[str, Any]], together: bool
) -> dict[str, Any]:
    seconds = [float(m.get("train_seconds", 0.0)) for m in per_member]
    return {
        "experiment": cfg.experiment_id,
        "repeats": len(per_member),
        **summarize_repeats(per_member),
        **{
            f"repeat_{index}/{key}": value
            for index, metrics in enumerate(per_member)
            for key, value in metrics.items()
            if key.startswith(("val/", "test/", "seed"))
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        },
        "epochs_completed": sum(int(m.get("epochs_completed", 0)) for m in per_member),
        # Members trained together each report the population's time.
        "train_seconds": max(seconds) if together else sum(seconds),
        "device": per_member[0].get("device"),
        "seeds": [m.get("seed") for m in per_member],
        "status": "completed",
    }
