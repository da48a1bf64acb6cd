"""Hydra loads sweepers only from the `hydra_plugins` package: this thin class hands ldl's
architecture search (`ldl.sweeps.architecture_search`) to Hydra, importing it only when used."""

from __future__ import annotations

from typing import Any

from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


class ArchitectureSearchSweeper(Sweeper):
    """`hydra/sweeper=architecture_search`; the options are ldl's `ArchitectureSearch`'s."""

    @staticmethod
    def check_options(options: DictConfig, overrides: list[str]) -> None:
        """Refuse bad `hydra.sweeper.*` values before the sweep starts (`ldl train` calls this)."""
        from omegaconf import OmegaConf

        from ldl.sweeps.architecture_search.options import parse_options

        values = OmegaConf.to_container(options, resolve=True)
        assert isinstance(values, dict)  # hydra.sweeper is a mapping (Hydra's contract)
        values.pop("_target_", None)
        parse_options({str(key): value for key, value in values.items()})

    def __init__(self, **options: Any) -> None:
        super().__init__()
        from ldl.sweeps.architecture_search.sweeper import ArchitectureSearch

        self.search = ArchitectureSearch(**options)

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.search.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        return self.search.sweep(arguments)
