"""`ldl train`: a thin @hydra.main wrapper around `ldl.training.train.train`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from ldl.cli.main import report_error
from ldl.config import config_dir, sweep_name
from ldl.errors import ConfigError, DataError, LdlError
from ldl.runs.files import write_json
from ldl.runs.run_folder import RunFolder

DEFAULT_EXPERIMENT = "c5e2"
CONFIG_GROUPS = (
    "hparams_search",
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


def _record_failed_job(run_dir: str, error: BaseException) -> None:
    """Make sure a failed sweep job's folder says so, whatever stage it failed at."""
    run = RunFolder(run_dir)
    metrics = run.read_metrics()
    if metrics.get("status") != "failed":
        run.path.mkdir(parents=True, exist_ok=True)
        write_json(run.metrics_path, {**metrics, "status": "failed", "error": str(error)})


def _task(cfg: DictConfig) -> float | None:
    from ldl.runs.selection import discard_unstarted_run
    from ldl.sweeps.cross_validation import train_or_cross_validate as train
    from ldl.sweeps.job_paths import anchor_relative_paths

    hydra_config = HydraConfig.get()
    if hydra_config.mode != RunMode.MULTIRUN:
        try:
            metrics = train(cfg)
        except (ConfigError, DataError) as error:
            discard_unstarted_run(cfg.run_dir)
            sys.exit(report_error("train", error))
        except LdlError as error:
            sys.exit(report_error("train", error))
        return objective(metrics)

    # A sweep job: share the cores among parallel jobs, and never let one failure end the sweep.
    if cfg.trainer.threads is None:
        cfg.trainer.threads = threads_per_job(hydra_config)
    anchor_relative_paths(cfg, hydra_config.runtime.cwd)  # Ray's workers run elsewhere
    try:
        return objective(train(cfg))
    except Exception as error:
        print(f"ldl train: job {hydra_config.job.num} failed: {error}", file=sys.stderr)
        _record_failed_job(cfg.run_dir, error)
        return None


def objective(metrics: dict) -> float | None:
    """What a sweeper optimizes: the validation loss when there is one, else the test loss."""
    for key in ("val/loss", "test/loss"):
        if isinstance(metrics.get(key), int | float):
            return float(metrics[key])
    return None


def threads_per_job(hydra_config: Any) -> int | None:
    """TensorFlow threads per job so that parallel jobs x threads never exceed the cores."""
    launcher = hydra_config.launcher
    # SLURM and Ray give each job a number of CPUs: train with that many threads.
    allotted = launcher.get("cpus_per_task") or OmegaConf.select(launcher, "ray.remote.num_cpus")
    if isinstance(allotted, int) and allotted > 0:
        return allotted
    jobs = launcher.get("n_jobs") if "n_jobs" in launcher else None
    if not jobs:
        return None
    cores = os.cpu_count() or 1
    parallel = cores if jobs < 0 else min(jobs, cores)
    return max(1, cores // parallel)


def with_sweep_folder(arguments: list[str]) -> list[str]:
    """Name a sweep's folder after its command, so re-running the command resumes the sweep."""
    if not {"-m", "--multirun"} & set(arguments):
        return arguments
    if any(a.startswith("hydra.sweep.dir=") for a in arguments):
        return arguments
    overrides = [a for a in arguments if not a.startswith("-")]
    root = next((a.split("=", 1)[1] for a in arguments if a.startswith("output_root=")), "outputs")
    # Absolute: jobs on Ray's workers run in another directory but must write here.
    folder = Path(root).resolve() / "multirun" / sweep_name(overrides)
    return [*arguments, f"hydra.sweep.dir='{folder}'"]


def run_train(arguments: list[str]) -> int:
    task = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="train")(_task)
    saved_argv = sys.argv
    sys.argv = ["ldl train", *with_sweep_folder(with_default_experiment(arguments))]
    try:
        task()
    finally:
        sys.argv = saved_argv
    return 0
