"""An experiment's own composed config (`experiment=<id>`, nothing else), composed once per process.

The reproduction report reads every book experiment's config twice over: for the catalog (what the book
reports, its budget) and for each run's label (was it shortened below its experiment's epochs?). Hydra
takes about a tenth of a second per composition, so `ldl report book=table` spent a third of its time
composing the same 36 experiments a second time. The config tree does not change while a command runs;
a long-lived process (a notebook) that edits an experiment file sees the edit in a new process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from omegaconf import DictConfig, OmegaConf

from ldl.config_location import config_dir


@contextmanager
def without_running_hydra() -> Iterator[None]:
    """Room for Hydra's compose API inside a running Hydra application (the end of a sweep): the
    application's global Hydra state is set aside and given back afterwards."""
    from hydra.core.global_hydra import GlobalHydra

    global_hydra = GlobalHydra.instance()
    running = global_hydra.hydra if global_hydra.is_initialized() else None
    global_hydra.clear()
    try:
        yield
    finally:
        GlobalHydra.instance().clear()
        if running is not None:
            GlobalHydra.instance().initialize(running)


def compose_train(overrides: list[str], with_hydra: bool = False) -> DictConfig:
    """`train.yaml` composed with `overrides`, also from inside a running Hydra application;
    `with_hydra`: Hydra's own config included."""
    from hydra import compose, initialize_config_dir

    with without_running_hydra(), initialize_config_dir(str(config_dir()), version_base="1.3"):
        return compose("train", overrides=overrides, return_hydra_config=with_hydra)


@cache
def experiment_config(experiment: str) -> DictConfig:
    """`train.yaml` composed with `experiment=<experiment>` alone, read-only (shared by every caller
    in this process). Hydra's and OmegaConf's errors reach the caller, and are not remembered."""
    cfg = compose_train([f"experiment={experiment}"])
    OmegaConf.set_readonly(cfg, True)
    return cfg
