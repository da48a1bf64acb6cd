"""Hydra loads sweepers only from the `hydra_plugins` package: this thin class hands ldl's durable
Optuna search (`ldl.sweeps.optuna_study`) to Hydra, importing Optuna only when the sweeper is used."""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class OptunaStudySweeper(Sweeper):
    """`hydra/sweeper=optuna_study`; the options are ldl's `DurableOptunaSearch`'s."""

    # Several processes may run one study in one sweep folder (the study's storage hands out the
    # trials, each trial's run folder has its own lock), so `ldl train -m` does not lock the folder.
    shares_its_folder = True

    @staticmethod
    def check_options(options: DictConfig, overrides: list[str]) -> None:
        """Refuse bad options before the sweep starts (called by `ldl train`)."""
        from ldl.sweeps.optuna_study.options import check_options

        check_options(options, overrides)

    def __init__(self, **options: Any) -> None:
        super().__init__()
        from ldl.sweeps.optuna_study.sweeper import DurableOptunaSearch

        self.search = DurableOptunaSearch(**options)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.search.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.search.sweep(arguments)
