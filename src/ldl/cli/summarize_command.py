"""`ldl summarize <sweep folder> [metric=val/mae] [higher_is_better=false] [include_incomplete=true]`:
rebuild a sweep's summary; `ldl retrain-best <sweep folder>`: retrain its best configuration."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ldl.cli.arguments import Converter, boolean, parse_arguments
from ldl.errors import ConfigError
from ldl.runs.files import read_yaml
from ldl.runs.run_folder import RunFolder

if TYPE_CHECKING:
    from ldl.sweeps.summary import Job

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

        write_search_results(folder)
        print((folder / "search.md").read_text().split("\n\n| index")[0])
        print(f"Search results written to {folder}/search.md, search.csv and search_progress.png.")
        return 0
    from ldl.sweeps.hparams import write_sweep_hparams
    from ldl.sweeps.summary import format_summary, summarize_sweep, write_summary

    summary = summarize_sweep(
        folder,
        options.get("metric"),
        options.get("higher_is_better"),
        options.get("include_incomplete", False),
    )
    if not summary.jobs:
        raise ConfigError(
            f"{folder} holds no sweep jobs (no job folders with .hydra/ or metrics.json)."
        )
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
    if best_job is None:
        raise ConfigError(
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
