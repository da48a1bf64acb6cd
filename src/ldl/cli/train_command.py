"""`ldl train`: a thin @hydra.main wrapper around `ldl.training.train.train`."""

from __future__ import annotations

import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from ldl.config import config_dir
from ldl.errors import LdlError

DEFAULT_EXPERIMENT = "c5e2"
CONFIG_GROUPS = (
    "experiment",
    "data",
    "model",
    "optimizer",
    "initializer",
    "trainer",
    "callbacks",
    "logger",
)


def with_default_experiment(overrides: list[str]) -> list[str]:
    """Without an experiment or a config group chosen, `ldl train` runs the book's c5e2."""
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in CONFIG_GROUPS or override in ("--help", "-h", "--info", "-i"):
            return overrides
    return [f"experiment={DEFAULT_EXPERIMENT}", *overrides]


def _task(cfg: DictConfig) -> float | None:
    from ldl.training.train import train

    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        metrics = train(cfg)
    except LdlError as error:
        print(f"ldl train: error: {error}", file=sys.stderr)
        if multirun:  # the job is recorded as failed in its run folder; the sweep goes on
            return None
        sys.exit(error.exit_code)
    value = metrics.get("test/loss")
    return float(value) if isinstance(value, int | float) else None


def run_train(arguments: list[str]) -> int:
    task = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")(_task)
    saved_argv = sys.argv
    sys.argv = ["ldl train", *with_default_experiment(arguments)]
    try:
        task()
    finally:
        sys.argv = saved_argv
    return 0
