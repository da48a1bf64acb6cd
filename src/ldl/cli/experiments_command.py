"""`ldl experiments`: every experiment id, what it is, and what the book reports; then every search
(`ldl train -m hparams_search=<id>`) with its first comment line."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from ldl.cli.arguments import parse_arguments
from ldl.config import config_dir, experiment_ids, natural_key

USAGE = "usage: ldl experiments (it takes no arguments)"


def search_ids() -> list[str]:
    """The ready sweeps: the options of the hparams_search config group."""
    folder = config_dir() / "hparams_search"
    return sorted((path.stem for path in folder.glob("*.yaml")), key=natural_key)


def _search_description(search: str) -> str:
    """A search file's first comment line after its `# @package` line."""
    for line in (config_dir() / "hparams_search" / f"{search}.yaml").read_text().splitlines():
        text = line.lstrip("#").strip()
        if line.startswith("#") and text and not text.startswith("@package"):
            return text
    return ""


def run_experiments(arguments: list[str]) -> int:
    parse_arguments(arguments, {}, USAGE)
    experiments, searches = experiment_ids(), search_ids()
    # The id column is as wide as the longest id, so descriptions always start in one column.
    width = max(len(name) for name in [*experiments, *searches, "experiment"]) + 1
    print(f"{'experiment':<{width}} description")
    for experiment in experiments:
        config = OmegaConf.load(config_dir() / "experiment" / f"{experiment}.yaml")
        if not isinstance(config, DictConfig):
            continue
        description = config.get("description") or ""
        if not description and config.get("defaults"):
            description = f"alias of {config.defaults[0]}"
        print(f"{experiment:<{width}} {description}")
        book = config.get("book")
        if book and book.get("source"):
            print(f"{'':<{width}}   book: {book.source}")
    print("\nRun one with: ldl train experiment=<id> data_dir=<folder with the datasets>")
    print(f"\n{'search':<{width}} description")
    for search in searches:
        print(f"{search:<{width}} {_search_description(search)}")
    print("\nRun one with: ldl train -m hparams_search=<id> data_dir=<folder with the datasets>")
    return 0
