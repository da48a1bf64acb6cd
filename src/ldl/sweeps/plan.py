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
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        params = OmegaConf.to_container(sweeper.get("params") or {}, resolve=False)
        arguments = [f"{key}={value}" for key, value in (params or {}).items()]
        arguments += [str(o) for o in OmegaConf.select(config, "hydra.overrides.task") or []]
        overrides = OverridesParser.create().parse_overrides(arguments)
        batches = BasicSweeper.split_arguments(overrides, None)
    except Exception:
        return None
    return [list(job) for batch in batches for job in batch]


def planned_job_count(sweep_dir: Path | str) -> int | None:
    """How many jobs the sweep will run (grid size or number of trials); None when unknown."""
    jobs = planned_jobs(sweep_dir)
    if jobs is not None:
        return len(jobs)
    config = _multirun_config(Path(sweep_dir))
    trials = OmegaConf.select(config, "hydra.sweeper.n_trials", default=None) if config else None
    return int(trials) if isinstance(trials, int) else None
