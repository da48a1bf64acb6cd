"""`ldl summarize <sweep folder> [metric=val/mae] [higher_is_better=false] [include_incomplete=true]`:
rebuild a sweep's summary; `ldl retrain-best <sweep folder>`: retrain its best configuration."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ldl.cli.arguments import Converter, boolean, parse_arguments
from ldl.errors import ConfigError
from ldl.runs.files import read_yaml
from ldl.runs.run_folder import RunFolder

if TYPE_CHECKING:
    from ldl.sweeps.summary import Job, SweepSummary

SUMMARY_OPTIONS: dict[str, Converter] = {
    "metric": str,
    "higher_is_better": boolean,
    "include_incomplete": boolean,
}
USAGE = (
    "usage: ldl summarize <sweep folder> [metric=val/accuracy] [higher_is_better=true|false] "
    "[include_incomplete=false]"
)


def _sweep_folder(text: str, usage: str) -> Path:
    folder = Path(text)
    if not folder.is_dir():
        what = "a regular file" if folder.exists() else "not there"
        raise ConfigError(
            f"{folder} is {what}, not a sweep folder. Give the sweep folder that `ldl train -m` "
            f"printed. {usage}"
        )
    return folder


def _not_a_sweep(folder: Path, usage: str) -> ConfigError | None:
    """An empty folder or a single run's folder, said as such (neither holds sweep jobs)."""
    if not any(folder.iterdir()):
        return ConfigError(
            f"{folder} is empty: it holds no sweep jobs. Give the sweep folder that `ldl train -m` "
            f"printed (outputs/multirun/<sweep>). {usage}"
        )
    if (folder / "metrics.json").is_file() or (folder / "config.yaml").is_file():
        return ConfigError(
            f"{folder} is the folder of a single run (`ldl train`), not of a sweep: there is no "
            "configuration to choose from. Give a sweep folder (`ldl train -m`); to evaluate this "
            f"run use `ldl eval run={folder}`. {usage}"
        )
    return None


def _nothing_completed(summary: SweepSummary) -> ConfigError | None:
    """A sweep whose every job failed, said as such with the first job's error."""
    if not summary.jobs or any(job.status == "completed" for job in summary.jobs):
        return None
    failed = [job for job in summary.jobs if job.status == "failed"]
    if len(failed) != len(summary.jobs):
        statuses = ", ".join(sorted({job.status for job in summary.jobs}))
        return ConfigError(
            f"None of the {len(summary.jobs)} jobs of {summary.folder} completed (they are "
            f"{statuses}); nothing to retrain. Resume the sweep by running its command again."
        )
    error = str(failed[0].metrics.get("error") or "no error recorded").strip()
    return ConfigError(
        f"All {len(failed)} jobs of {summary.folder} failed; nothing to retrain. The first "
        f"({failed[0].folder.name}) failed with: {error.rstrip('.')}. Fix that and run the sweep "
        "again."
    )


@contextlib.contextmanager
def _writing_into(folder: Path) -> Iterator[None]:
    """Writes of the summary files: on a read-only or full file system one paragraph, and the
    files and folders this command created are removed again (the folder stays as it was; the
    files it replaces are replaced atomically, so they are the old ones or the new ones)."""
    from ldl.runs.location import location_error, read_only_mount

    fix = (
        "The sweep's results are unchanged; copy the sweep folder to a writable place with free "
        "space and run the command there, or free space and run it again."
    )
    if read_only_mount(folder):
        raise location_error(
            OSError(30, "read-only", str(folder)), folder, "summary of the sweep folder", fix
        )
    existing = set(folder.rglob("*"))
    try:
        yield
    except OSError as error:
        for path in sorted(set(folder.rglob("*")) - existing, reverse=True):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise location_error(error, folder, "summary of the sweep folder", fix) from None


def run_summarize(arguments: list[str]) -> int:
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if arguments else 2
    options = parse_arguments(arguments[1:], SUMMARY_OPTIONS, USAGE).values
    folder = _sweep_folder(arguments[0], USAGE)
    from ldl.sweeps.architecture_search.state import STATE_FILE

    if (
        folder / STATE_FILE
    ).exists():  # an architecture search: its own table, plot and best config
        from ldl.sweeps.architecture_search.results import write_search_results

        with _writing_into(folder):
            write_search_results(folder)
        print((folder / "search.md").read_text().split("\n\n| index")[0])
        print(f"Search results written to {folder}/search.md, search.csv and search_progress.png.")
        return 0
    from ldl.sweeps.hparams import write_sweep_hparams
    from ldl.sweeps.summary import summarize_sweep
    from ldl.sweeps.summary_page import format_summary, write_summary

    summary = summarize_sweep(
        folder,
        options.get("metric"),
        options.get("higher_is_better"),
        options.get("include_incomplete", False),
    )
    if not summary.jobs:
        raise _not_a_sweep(folder, USAGE) or ConfigError(
            f"{folder} holds no sweep jobs (no job folders with .hydra/ or metrics.json)."
        )
    with _writing_into(folder):
        write_summary(summary)
        write_sweep_hparams(summary)
    print(format_summary(summary))
    return 0


RETRAIN_USAGE = (
    "usage: ldl retrain-best <sweep folder> [metric=val/mae] [higher_is_better=false] "
    "[include_incomplete=false]"
)


def run_retrain_best(arguments: list[str]) -> int:
    """Step 6 and 7 of the book's k-fold procedure: train the winner on all folds, test it once."""
    if not arguments or arguments[0] in ("-h", "--help"):
        print(RETRAIN_USAGE)
        return 0 if arguments else 2
    options = parse_arguments(arguments[1:], SUMMARY_OPTIONS, RETRAIN_USAGE).values
    folder = _sweep_folder(arguments[0], RETRAIN_USAGE)
    from ldl.cli.train_command import run_train
    from ldl.sweeps.summary import RETRAINED_FOLDER, summarize_sweep

    summary = summarize_sweep(
        folder,
        options.get("metric"),
        options.get("higher_is_better"),
        options.get("include_incomplete", False),
    )
    best_job = summary.best_job()
    if best_job is None and not summary.jobs:
        raise _not_a_sweep(folder, RETRAIN_USAGE) or ConfigError(
            f"{folder} holds no sweep jobs (no job folders with .hydra/ or metrics.json); nothing "
            f"to retrain. {RETRAIN_USAGE}"
        )
    if best_job is None:
        raise _nothing_completed(summary) or ConfigError(
            f"{folder} has no configuration whose jobs all completed with {summary.metric}; nothing "
            "to retrain. Check summary.md (ldl summarize), name another metric with metric=<key>, or "
            "rank incomplete configurations too with include_incomplete=true."
        )
    overrides = retrain_overrides(best_job)
    print(f"Best configuration by {summary.metric}: {best_job.configuration}")
    print("Retraining it on all training data (no validation split) and testing it once.")
    return run_train(
        [*overrides, "trainer.validation=none", f"hydra.run.dir='{folder / RETRAINED_FOLDER}'"]
    )


def retrain_overrides(job: Job) -> list[str]:
    """The winning job's overrides without its fold, with the seed its config trained with, so the
    final model is as reproducible as the sweep."""
    overrides = [o for o in job.overrides if o.split("=", 1)[0].lstrip("+~") != "cv.fold"]
    seeded = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") == "trainer.seed"]
    if not seeded:
        config_path = job.folder / "config.yaml"
        seed = (
            read_yaml(config_path).get("trainer", {}).get("seed") if config_path.exists() else None
        )
        if seed is None:
            # trainer.seed=null: the job drew its seed, and metrics.json recorded it as `seed`.
            seed = RunFolder(job.folder).read_metrics().get("seed")
        if isinstance(seed, int) and not isinstance(seed, bool):
            overrides.append(f"trainer.seed={seed}")
    return overrides
