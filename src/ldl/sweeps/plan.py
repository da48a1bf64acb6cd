"""Which jobs a sweep was asked to run, read back from the `multirun.yaml` Hydra leaves in its folder.

A grid sweep (Hydra's basic sweeper) knows its jobs in advance: the product of its swept values, in the
order Hydra numbers them. From that list a summary can name the jobs that never started (their folders
do not exist) and each job can print "job k of n". A search (Optuna, architecture search) knows only
how many trials it will run.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

MULTIRUN_FILE = "multirun.yaml"
_BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"


def _multirun_config(sweep_dir: Path) -> DictConfig | None:
    path = Path(sweep_dir) / MULTIRUN_FILE
    if not path.is_file():
        return None
    try:
        loaded = OmegaConf.load(path)
    except Exception:  # a damaged multirun.yaml only costs the plan, never the summary
        return None
    return loaded if isinstance(loaded, DictConfig) else None


def planned_jobs(sweep_dir: Path | str) -> list[list[str]] | None:
    """Each job's overrides, in job-number order, for a grid sweep; None when unknown."""
    config = _multirun_config(Path(sweep_dir))
    if config is None:
        return None
    sweeper = OmegaConf.select(config, "hydra.sweeper", default=None)
    if sweeper is None or sweeper.get("_target_") != _BASIC_SWEEPER:
        return None
    try:
        return grid_jobs(
            sweeper.get("params"),
            [str(o) for o in OmegaConf.select(config, "hydra.overrides.task") or []],
        )
    except Exception:  # a plan that cannot be parsed only costs the "not started" rows
        return None


def is_grid_sweep(config: DictConfig) -> bool:
    """Whether a composed config (Hydra's part included) sweeps with Hydra's basic sweeper."""
    return OmegaConf.select(config, "hydra.sweeper._target_", default=None) == _BASIC_SWEEPER


def grid_jobs(params: object, overrides: list[str]) -> list[list[str]]:
    """Each job's overrides, as Hydra's basic sweeper numbers them: the sweeper's `params` (from an
    hparams_search file) then the command line's overrides, expanded into their product."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    plain = OmegaConf.to_container(params, resolve=False) if OmegaConf.is_config(params) else params
    arguments = [f"{key}={value}" for key, value in (plain or {}).items()]  # type: ignore[union-attr]
    arguments += overrides
    parsed = OverridesParser.create().parse_overrides(arguments)
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]


def planned_job_count(sweep_dir: Path | str) -> int | None:
    """How many jobs the sweep will run (grid size or number of trials); None when unknown."""
    jobs = planned_jobs(sweep_dir)
    if jobs is not None:
        return len(jobs)
    config = _multirun_config(Path(sweep_dir))
    trials = OmegaConf.select(config, "hydra.sweeper.n_trials", default=None) if config else None
    return int(trials) if isinstance(trials, int) else None
