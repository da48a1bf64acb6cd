"""`ldl summarize <sweep folder> [metric=val/mae] [higher_is_better=false]`: rebuild a sweep's summary."""

from __future__ import annotations

from pathlib import Path

from ldl.cli.arguments import Converter, boolean, parse_arguments
from ldl.errors import ConfigError

SUMMARY_OPTIONS: dict[str, Converter] = {"metric": str, "higher_is_better": boolean}
USAGE = "usage: ldl summarize <sweep folder> [metric=val/accuracy] [higher_is_better=true|false]"


def run_summarize(arguments: list[str]) -> int:
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if arguments else 2
    folder, options = (
        Path(arguments[0]),
        parse_arguments(arguments[1:], SUMMARY_OPTIONS, USAGE).values,
    )
    if not folder.is_dir():
        raise ConfigError(
            f"{folder} is not a folder. Give the sweep folder that `ldl train -m` printed. {USAGE}"
        )
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

    summary = summarize_sweep(folder, options.get("metric"), options.get("higher_is_better"))
    if not summary.jobs:
        raise ConfigError(
            f"{folder} holds no sweep jobs (no job folders with .hydra/ or metrics.json)."
        )
    write_summary(summary)
    write_sweep_hparams(summary)
    print(format_summary(summary))
    return 0


RETRAIN_USAGE = "usage: ldl retrain-best <sweep folder> [metric=val/mae] [higher_is_better=false]"


def run_retrain_best(arguments: list[str]) -> int:
    """Step 6 and 7 of the book's k-fold procedure: train the winner on all folds, test it once."""
    if not arguments or arguments[0] in ("-h", "--help"):
        print(RETRAIN_USAGE)
        return 0 if arguments else 2
    folder = Path(arguments[0])
    options = parse_arguments(arguments[1:], SUMMARY_OPTIONS, RETRAIN_USAGE).values
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder. {RETRAIN_USAGE}")
    from ldl.cli.train_command import run_train
    from ldl.sweeps.summary import REPEAT_KEYS, RETRAINED_FOLDER, summarize_sweep

    summary = summarize_sweep(folder, options.get("metric"), options.get("higher_is_better"))
    best_job = summary.best_job()
    if best_job is None:
        raise ConfigError(
            f"{folder} has no completed job with {summary.metric}; nothing to retrain. "
            "Check summary.md, or name the metric with metric=<key>."
        )
    overrides = [
        o for o in best_job.overrides if o.split("=", 1)[0].lstrip("+~") not in REPEAT_KEYS
    ]
    print(f"Best configuration by {summary.metric}: {best_job.configuration}")
    print("Retraining it on all training data (no validation split) and testing it once.")
    return run_train(
        [*overrides, "trainer.validation=none", f"hydra.run.dir='{folder / RETRAINED_FOLDER}'"]
    )
