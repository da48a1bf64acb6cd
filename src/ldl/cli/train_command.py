"""`ldl train`: Hydra runs `ldl.training.train.train` on the composed config.

The command is composed and checked first (`ldl.cli.train_check`): a refused command writes nothing.
A single run is then handed to Hydra with that very config (composed once, validated once) and goes
straight to `train`: `main -> run_train -> Hydra's run_job -> _task -> train -> train_keras ->
model.fit`. A sweep (`-m`) is composed by Hydra, whose sweeper launches the jobs (`ldl.cli.hydra_app`).
Hydra's record of a job goes to `.hydra.pending` and becomes `.hydra` only once `train` uses the folder
(`ldl.cli.hydra_files`); a sweep holds its folder's lock while it runs.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import run_job
from hydra.types import RunMode
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from ldl.cli import hydra_app
from ldl.cli.hydra_files import HydraFiles
from ldl.cli.main import report_error
from ldl.cli.train_check import (
    MULTIRUN_FLAGS,
    check_command,
    hydra_error,
    is_multirun,
    overrides_of,
    refuse_search_as_experiment,
)
from ldl.config import sweep_name
from ldl.errors import ConfigError, DataError, LdlError, StoppedError
from ldl.runs.files import DamagedFileError, write_json
from ldl.runs.location import location_error, nearest_existing
from ldl.runs.lock import FolderBusyError, FolderLock
from ldl.runs.run_folder import RunFolder
from ldl.sweeps.job_paths import job_environment_override
from ldl.training import stop_signals

DEFAULT_EXPERIMENT = "c5e2"
# The sweep's stop file (training/stop_signals.py), one per `ldl train -m` process sharing the folder.
STOP_FILE_PREFIX = ".ldl-stop-"
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
    try:
        metrics = run.read_metrics()
    except DamagedFileError:
        metrics = {}
    if metrics.get("status") != "failed":
        run.path.mkdir(parents=True, exist_ok=True)
        write_json(run.metrics_path, {**metrics, "status": "failed", "error": str(error)})


def _task(cfg: DictConfig, keep_root: Path | None = None) -> float | None:
    """One Hydra job. A single run (`keep_root`: the closest folder that existed before the command,
    where a refused run's folder is cleaned up to) goes straight to `train`, or to the loop over its
    members for cv.fold=all and trainer.repeats; a sweep job too, with a sweep's extras."""
    # No TensorFlow here: a NumPy program never loads it, and the Keras runner's modules import it
    # quietly (`import ldl` installs the quiet import, in a launcher's worker process too).
    from ldl.runs.selection import discard_unstarted_run
    from ldl.training.train import train

    hydra_config = HydraConfig.get()
    output_dir = Path(hydra_config.runtime.output_dir)
    if hydra_config.mode != RunMode.MULTIRUN:
        files = HydraFiles(output_dir, keep_root or cfg.output_root)
        try:
            if _trains_members(cfg):
                metrics = _train_members(cfg, claim=files.claim)
            else:  # checked: run_train validated this config before Hydra ran
                metrics = train(cfg, claim=files.claim, checked=True)
        except LdlError as error:
            if not files.claimed:
                files.discard()  # refused: the folder is as it was
            elif files.fresh and isinstance(error, ConfigError | DataError):
                discard_unstarted_run(cfg.run_dir, keep_root or cfg.output_root)
            sys.exit(report_error("train", error))
        except BaseException:
            if not files.claimed:
                files.discard()
            raise
        return objective(metrics)

    # A sweep job: share the cores among parallel jobs, and never let one failure end the sweep.
    # In a launcher's worker process the stop handlers are installed here (the main process's are not
    # inherited); a job of a sweep that is stopping does not start.
    stop_signals.install_in_worker()
    files = HydraFiles(output_dir, output_dir.parent)
    if stop_signals.requested():
        files.discard()
        return None
    if cfg.trainer.threads is None:
        cfg.trainer.threads = threads_per_job(hydra_config)
    from ldl.sweeps.job_paths import anchor_relative_paths

    anchor_relative_paths(cfg, hydra_config.runtime.cwd)  # Ray's workers run elsewhere
    print(
        f"ldl train: {job_progress(hydra_config)}: {' '.join(hydra_config.overrides.task)}",
        flush=True,
    )
    try:
        # Outside its epochs a job stops at once (data loading, feature extraction, reports).
        with stop_signals.immediate():
            return objective(_train_members(cfg, claim=files.claim))
    except (StoppedError, KeyboardInterrupt):
        if not files.claimed:
            files.discard()
        print(
            f"ldl train: job {int(hydra_config.job.num) + 1} stopped by {stop_signals.reason()}; its last "
            "completed epoch is saved.",
            file=sys.stderr,
        )
        if stop_signals.at_once():
            raise KeyboardInterrupt from None
        return None
    except FolderBusyError as error:
        files.discard()
        print(f"ldl train: job {hydra_config.job.num} skipped: {error}", file=sys.stderr)
        return None
    except Exception as error:
        print(f"ldl train: job {hydra_config.job.num} failed: {error}", file=sys.stderr)
        if files.claimed or files.fresh:
            files.keep()  # a new job's folder records the failure for the sweep's summary
            _record_failed_job(cfg.run_dir, error)
        else:
            files.discard()  # refused: an existing job folder is left as it was
        return None


def _trains_members(cfg: DictConfig) -> bool:
    """Whether the run is several members in one job: the folds of cv.fold=all, trainer.repeats."""
    from ldl.sweeps.member_jobs import cross_validates_in_one_job
    from ldl.sweeps.repeats import repeats_of

    return cross_validates_in_one_job(cfg) or repeats_of(cfg) > 1


def _train_members(cfg: DictConfig, claim: Any) -> dict[str, Any]:
    """The job's members (or its one run, reporting to an Optuna study's pruner in a sweep)."""
    from ldl.sweeps.cross_validation import train_or_cross_validate

    return train_or_cross_validate(cfg, claim=claim)


def job_progress(hydra_config: Any) -> str:
    """`job k of n` (n when the sweep's plan says how many jobs there are)."""
    from ldl.sweeps.plan import planned_job_count

    number = int(hydra_config.job.num) + 1
    total = planned_job_count(Path(hydra_config.sweep.dir))
    return f"job {number} of {total}" if total else f"job {number}"


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
    from ldl.cli.show_config import split_flags

    overrides = split_flags(arguments)[1]  # not a flag's value (`--cfg job`)
    root = next((a.split("=", 1)[1] for a in arguments if a.startswith("output_root=")), "outputs")
    # Absolute: jobs on Ray's workers run in another directory but must write here.
    folder = Path(root).resolve() / "multirun" / sweep_name(overrides)
    return [*arguments, f"hydra.sweep.dir='{folder}'"]


def run_train(arguments: list[str]) -> int:
    from ldl.cli.show_config import (
        flags_first,
        print_sweep_configs,
        shows_sweep_configs,
        without_multirun,
    )

    refuse_search_as_experiment(overrides_of(arguments))
    arguments = flags_first(with_sweep_folder(with_default_experiment(arguments)))
    if any(a.startswith("-") and a not in MULTIRUN_FLAGS for a in arguments):
        if shows_sweep_configs(arguments):  # Hydra refuses --cfg with -m: every job's config
            return print_sweep_configs(arguments)
        if is_multirun(arguments):  # --info, --help with -m: about the config, as without -m
            arguments = without_multirun(arguments)
        with _told_in_ldl_words(arguments, Path.cwd()):
            hydra_app.run_flags(arguments)  # --help, --cfg, --info: Hydra's own
        return 0
    cfg = check_command(arguments)  # composed and validated: the run's config
    if is_multirun(arguments):
        return _run_sweep(arguments, cfg)
    run_dir = Path(str(cfg.hydra.run.dir))
    task = functools.partial(_task, keep_root=nearest_existing(run_dir))
    with _told_in_ldl_words(arguments, run_dir), hydra_app.application() as app:
        context = hydra_app.job_context(app, cfg)
        job = run_job(
            task_function=task,
            config=cfg,
            job_dir_key="hydra.run.dir",
            job_subdir_key=None,
            hydra_context=context,
        )
        hydra_app.end_run(context, cfg, job)
    return 0


def _run_sweep(arguments: list[str], cfg: DictConfig) -> int:
    """`ldl train -m`: the sweep folder locked (unless the sweeper shares it), stop signals passed on
    to every job, and the sweep's state told when it was stopped."""
    sweep_dir = Path(str(cfg.hydra.sweep.dir))
    created = not sweep_dir.exists()
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise location_error(error, sweep_dir, "sweep folder") from None
    lock = (
        contextlib.nullcontext()
        if sweeper_shares_its_folder(cfg)
        else FolderLock(sweep_dir, "sweep folder")
    )
    # A stop signal reaches every job of the sweep, in whatever process or machine it runs (Hydra
    # sets the job's environment from hydra.job.env_set), through this file.
    stop_file = sweep_dir.resolve() / f"{STOP_FILE_PREFIX}{os.getpid()}"
    stop_signals.watch_sweep(stop_file)
    overrides = [
        *overrides_of(arguments),
        job_environment_override(stop_signals.STOP_FILE_VARIABLE, str(stop_file)),
    ]
    try:
        with lock, stop_signals.deferred(), _told_in_ldl_words(overrides, sweep_dir):
            hydra_app.run_sweep(overrides, _task)
    except StoppedError:
        if not stop_signals.requested():
            raise
        # else a sweeper that stopped itself at the request: said below in the sweep's words
    finally:
        stop_signals.forget_sweep()
        if created and sweep_dir.is_dir() and not any(sweep_dir.iterdir()):
            sweep_dir.rmdir()  # a sweep refused before its first job leaves no folder
    if stop_signals.requested():
        raise sweep_stopped(sweep_dir)
    return 0


def sweep_stopped(sweep_dir: Path) -> StoppedError:
    """What stopped the sweep, what each job's state is, and the command that continues it."""
    from ldl.sweeps.summary import collect_jobs

    counts: dict[str, int] = {}
    with contextlib.suppress(LdlError, OSError):
        for job in collect_jobs(sweep_dir):
            counts[job.status] = counts.get(job.status, 0) + 1
    shown = ", ".join(f"{number} {status}" for status, number in sorted(counts.items()))
    return StoppedError(
        f"Stopped by {stop_signals.reason()}: the sweep {sweep_dir} is interrupted "
        f"({shown or 'no job had started'}); no further job was started. Run the same command to "
        "continue it: completed jobs are skipped and an interrupted job resumes from its last "
        "completed epoch, ending exactly as an uninterrupted sweep would."
    )


def sweeper_shares_its_folder(cfg: DictConfig) -> bool:
    """Whether the sweeper coordinates several processes in one sweep folder itself (a durable
    Optuna study); its class says so with `shares_its_folder = True`."""
    target = OmegaConf.select(cfg, "hydra.sweeper._target_", default=None)
    if not target:
        return False
    try:
        sweeper = get_class(str(target))
    except Exception:  # Hydra reports an unknown sweeper itself, in its own words
        return False
    return bool(getattr(sweeper, "shares_its_folder", False))


@contextlib.contextmanager
def _told_in_ldl_words(arguments: list[str], folder: Path) -> Iterator[None]:
    """Hydra's errors (and a folder it cannot create) as ldl's, naming the command's overrides."""
    try:
        yield
    except (LdlError, SystemExit, KeyboardInterrupt):
        raise
    except OSError as error:
        raise location_error(error, folder) from None
    except Exception as error:
        if not _is_hydra_error(error):
            raise
        raise hydra_error(error, overrides_of(arguments)) from None


def _is_hydra_error(error: BaseException) -> bool:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return isinstance(error, HydraException | OmegaConfBaseException)
