"""`ldl experiments`: every experiment id, what it is, and what the book reports."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from ldl.cli.arguments import parse_arguments
from ldl.config import config_dir, experiment_ids

USAGE = "usage: ldl experiments (it takes no arguments)"


def run_experiments(arguments: list[str]) -> int:
    parse_arguments(arguments, {}, USAGE)
    print(f"{'experiment':<12} description")
    for experiment in experiment_ids():
        config = OmegaConf.load(config_dir() / "experiment" / f"{experiment}.yaml")
        if not isinstance(config, DictConfig):
            continue
        description = config.get("description") or ""
        if not description and config.get("defaults"):
            description = f"alias of {config.defaults[0]}"
        print(f"{experiment:<12} {description}")
        book = config.get("book")
        if book and book.get("source"):
            print(f"{'':<12}   book: {book.source}")
    print("\nRun one with: ldl train experiment=<id> data_dir=<folder with the datasets>")
    return 0
