"""Every book experiment as the reproduction report lists it: its id and aliases, chapter, what the
book reports (the experiment config's `book` block) and the book's budget (the composed config's
epochs; a search's candidates and epochs per candidate), read from the config tree.

An alias (`c7e2` is Table 7-1's `c7_conf1`) is one experiment under two names: a config file whose
only content is its parent in `defaults` and its own `experiment_id`. Its runs count for the parent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml

from ldl.config import config_dir, experiment_ids, natural_key
from ldl.config.experiments import compose_train, experiment_config

# The architecture searches of chapter 17 are sweeps (`ldl train -m hparams_search=<id>`), not
# experiments; the report lists them with the experiments.
BOOK_SEARCHES = ("c17e4", "c17e5")


@dataclass(frozen=True)
class BookExperiment:
    experiment: str
    aliases: tuple[str, ...]
    chapter: str
    description: str
    source: str
    # {metric: {value, low, high}} as in the config's book block (empty: the book prints no number).
    metrics: Mapping[str, Any]
    # The book's training length: epochs, or for a search its candidates and epochs per candidate.
    budget: str
    # The composed config's trainer.epochs (None for a search).
    epochs: int | None
    # The seed the book's program uses (c4e2's NumPy seed 7); None where the book leaves it unseeded.
    seed: int | None = None
    search: bool = False
    names: tuple[str, ...] = field(default=())
    # A search's candidates and epochs at the book's budget: {candidates, eval_epochs, final_epochs}.
    search_budget: Mapping[str, int] = field(default_factory=dict)

    @property
    def command(self) -> str:
        if self.search:
            return f"ldl train -m hparams_search={self.experiment} data_dir=<datasets>"
        return f"ldl train experiment={self.experiment} data_dir=<datasets>"


def chapter_of(experiment: str) -> str:
    """`c7_conf2` -> `7`, `aFe1` -> `F` (Appendix F); `?` for an id that names no chapter."""
    if experiment.startswith("aF"):
        return "F"
    found = re.match(r"c(\d+)", experiment)
    return found.group(1) if found else "?"


def _alias_target(experiment: str) -> str | None:
    """The experiment an alias file renames, or None for an experiment of its own."""
    text = (config_dir() / "experiment" / f"{experiment}.yaml").read_text()
    content = yaml.safe_load(text) or {}
    if set(content) != {"defaults", "experiment_id"}:
        return None
    parents = [entry for entry in content["defaults"] if entry != "_self_"]
    return str(parents[0]) if len(parents) == 1 and isinstance(parents[0], str) else None


def _experiment(experiment: str) -> dict[str, Any]:
    """The experiment's composed config as plain containers, interpolations kept."""
    from omegaconf import OmegaConf

    return dict(OmegaConf.to_container(experiment_config(experiment), resolve=False))  # type: ignore[arg-type]


def _search(search: str) -> dict[str, Any]:
    """A search's composed config as plain containers: of Hydra's config, its sweeper's settings only
    (the rest needs a running job)."""
    from omegaconf import OmegaConf

    cfg = compose_train([f"hparams_search={search}"], with_hydra=True)
    content: dict[str, Any] = dict(OmegaConf.to_container(cfg, resolve=False))  # type: ignore[arg-type]
    hydra_config = content.pop("hydra", None) or {}
    return {**content, "sweeper": hydra_config.get("sweeper", {})}


def _trains_epochs(cfg: Mapping[str, Any]) -> bool:
    """Whether trainer.epochs sets the run's length: a Keras fit, or chapter 4's NumPy network (the
    other NumPy programs, inspections and inference run as the book's program does, once)."""
    runner = (cfg.get("runner") or {}).get("name")
    model = str((cfg.get("model") or {}).get("_target_", ""))
    return runner == "keras_fit" or model.endswith("run_mnist_network")


def search_candidates(settings: Mapping[str, Any]) -> int:
    """How many candidates a search with these settings evaluates."""
    candidates = int(settings["candidate_evaluations"])
    if settings.get("strategy") != "evolution":
        candidates += int(settings["hill_climb_steps"])
    return candidates


def _search_budget(sweeper: Mapping[str, Any]) -> dict[str, int]:
    return {
        "candidates": search_candidates(sweeper),
        "eval_epochs": int(sweeper["eval_epochs"]),
        "final_epochs": int(sweeper["final_epochs"]),
    }


@cache
def book_experiments() -> tuple[BookExperiment, ...]:
    """Every experiment whose config has a `book` block, aliases folded into their parent, then the
    chapter 17 searches; in the book's order (c1e1 ... c17e5, Appendix F last)."""
    return tuple(sorted(_read_catalog(), key=_book_order))


def _read_catalog() -> list[BookExperiment]:
    ids = experiment_ids()
    targets = {experiment: _alias_target(experiment) for experiment in ids}
    found = []
    for experiment in ids:
        if targets[experiment] is not None or chapter_of(experiment) == "?":
            continue  # an alias is listed with its parent; an id of no chapter is no book example
        cfg = _experiment(experiment)
        book = cfg.get("book")
        if not isinstance(book, Mapping):
            continue
        aliases = tuple(alias for alias, target in targets.items() if target == experiment)
        epochs = cfg.get("trainer", {}).get("epochs") if _trains_epochs(cfg) else None
        seed = cfg.get("trainer", {}).get("seed")
        found.append(
            BookExperiment(
                experiment=experiment,
                aliases=aliases,
                chapter=chapter_of(experiment),
                description=str(cfg.get("description", "")),
                source=str(book.get("source", "")),
                metrics={k: v for k, v in (book.get("metrics") or {}).items() if v is not None},
                budget=f"{epochs} epochs"
                if isinstance(epochs, int)
                else "the book's program, once",
                epochs=epochs if isinstance(epochs, int) else None,
                seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                names=(experiment, *aliases),
            )
        )
    for search in BOOK_SEARCHES:
        cfg = _search(search)
        book = cfg.get("book") or {}
        budget = _search_budget(cfg["sweeper"])
        found.append(
            BookExperiment(
                experiment=search,
                aliases=(),
                chapter=chapter_of(search),
                description=str(cfg.get("description", "")),
                source=str(book.get("source", "")),
                metrics={k: v for k, v in (book.get("metrics") or {}).items() if v is not None},
                budget=f"{budget['candidates']} candidates x {budget['eval_epochs']} epochs, best "
                f"retrained {budget['final_epochs']} epochs",
                epochs=None,
                search=True,
                names=(search,),
                search_budget=budget,
            )
        )
    return found


def _book_order(experiment: BookExperiment) -> list[int | str]:
    # Appendix F after chapter 17, as in the book.
    return natural_key(("z" if experiment.chapter == "F" else "") + experiment.experiment)


def by_name() -> dict[str, BookExperiment]:
    """{id or alias: its book experiment}."""
    return {name: experiment for experiment in book_experiments() for name in experiment.names}
