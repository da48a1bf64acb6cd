"""`train(cfg) -> metrics`: one experiment from config to a complete run folder.

This is a plain function (no Hydra needed): compose a config any way you like, set `run_dir`, call it.
It resumes an unfinished run found in `run_dir`, stops cleanly on NaN losses, and always leaves
`metrics.json` with a `status` saying how the run ended.
"""

from __future__ import annotations

import errno
import math
import secrets
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ldl.config import flatten, validate_config
from ldl.errors import LdlError, RunFolderError, TrainingDivergedError
from ldl.runs.book import book_metrics, compare_with_book, format_book_table
from ldl.runs.files import write_json
from ldl.runs.run_folder import (
    RESUME_INDEPENDENT_KEYS,
    RunFolder,
    config_differences,
    find_resumable_run,
)
from ldl.training.classic_runner import CLASSIC_MODELS, run_classic


class RunInterruptedError(LdlError):
    """Ctrl-C or SIGTERM during training; the last completed epoch is kept for a resume."""

    exit_code = 130


def _make_reporter(run: RunFolder) -> Callable[[str], None]:
    """Print a line and keep it in the run folder's output.txt (the run's own record)."""

    def say(message: str = "") -> None:
        print(message, flush=True)
        with run.log_path.open("a") as log:
            log.write(message + "\n")

    return say


def _resolved_config(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True)


def _discard_if_empty(folder: Path) -> None:
    """Remove a run folder Hydra created for this invocation if nothing of ldl's is in it."""
    if folder.is_dir() and all(p.name in (".hydra", "train.log") for p in folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)


def select_run_folder(cfg: DictConfig) -> tuple[RunFolder, str]:
    """Decide where this run lives and whether it is new, resumed or already complete.

    Returns the folder and one of: "new", "resume" (a checkpoint exists), "restart" (an earlier start
    left no checkpoint) or "completed".
    """
    requested = cfg.trainer.resume
    config = _resolved_config(cfg)
    run = RunFolder(cfg.run_dir)
    if requested is True:
        found = find_resumable_run(Path(cfg.output_root), config)
        if found is None:
            raise RunFolderError(
                f"trainer.resume=true, but no unfinished run with this config was found under "
                f"{cfg.output_root}/. Check the overrides (they must match the interrupted run's), or "
                "point at the run folder with trainer.resume=<run folder>."
            )
        if found.resolve() != run.path.resolve():
            _discard_if_empty(run.path)
        run = RunFolder(found)
    elif requested not in (False, "auto"):
        run = RunFolder(str(requested))
        if not run.exists():
            raise RunFolderError(
                f"trainer.resume={requested}: that folder holds no ldl run (no config.yaml). "
                "Give the folder of the run to resume, e.g. outputs/2026-01-31/12-00-00-000000_c5e2."
            )
        if run.path.resolve() != Path(cfg.run_dir).resolve():
            _discard_if_empty(Path(cfg.run_dir))
    if not run.exists():
        return run, "new"
    differences = config_differences(run.read_config(), config)
    if differences:
        raise RunFolderError(
            f"The run folder {run.path} already holds a run with a different config (differs in: "
            f"{', '.join(differences[:8])}). Nothing was changed. Start a new run in another folder "
            "(leave out hydra.run.dir), or repeat the original overrides to resume it."
        )
    if run.status() == "completed":
        return run, "completed"
    if requested is False:
        raise RunFolderError(
            f"The run folder {run.path} holds an unfinished run and trainer.resume=false. Use another "
            "folder, or allow the resume with trainer.resume=auto."
        )
    return run, "resume" if run.has_checkpoint() else "restart"


def train(cfg: DictConfig) -> dict[str, Any]:
    """Train and evaluate the experiment `cfg` describes; return its flat metrics.

    The run folder (`cfg.run_dir`) receives config.yaml, metrics.json, history.csv, model.keras,
    learning_curve.png and TensorBoard logs.
    """
    validate_config(cfg)
    run, mode = select_run_folder(cfg)
    if str(run.path) != str(cfg.run_dir):
        cfg.run_dir = str(run.path)
    run.path.mkdir(parents=True, exist_ok=True)
    say = _make_reporter(run)
    if mode == "completed":
        metrics = run.read_metrics()
        say(f"{run.path} already holds a completed run; its metrics are unchanged:")
        _print_summary(metrics, say)
        return metrics
    if mode == "new":
        run.write_config(_resolved_config(cfg))

    title = cfg.experiment_id
    say(f"ldl train: {title} - {cfg.description}")
    say(f"run folder: {_display_path(run.path)}")
    started_metrics: dict[str, Any] = {"experiment": title, "status": "running"}
    write_json(run.metrics_path, started_metrics)
    try:
        if cfg.model.name in CLASSIC_MODELS:
            metrics = {"experiment": title, **run_classic(cfg, say), "status": "completed"}
        elif cfg.data.get("task") == "image_inference":  # c8e1: a pretrained network, no training
            from ldl.predict import run_image_inference

            metrics = {"experiment": title, **run_image_inference(cfg, say), "status": "completed"}
        elif (
            cfg.data.get("task") == "feature_extraction"
        ):  # c16e1: cache image features, no training
            from ldl.tasks.captioning.extraction import run_feature_extraction

            metrics = {
                "experiment": title,
                **run_feature_extraction(cfg, say),
                "status": "completed",
            }
        else:
            from ldl.training.keras_training import train_keras

            metrics = {"experiment": title, **train_keras(cfg, run, mode, say)}
    except KeyboardInterrupt:
        _finish(run, {**run.read_metrics(), "status": "interrupted"})
        raise RunInterruptedError(
            f"Training was interrupted; the last completed epoch is saved in {run.path}/checkpoint. "
            f"Resume with the same command plus hydra.run.dir={run.path} (or trainer.resume=true)."
        ) from None
    except TrainingDivergedError as error:
        _finish(run, {**run.read_metrics(), "status": "failed", "error": str(error)})
        raise
    except OSError as error:
        if error.errno != errno.ENOSPC:
            raise
        raise RunFolderError(
            f"No space left on the device while writing {error.filename or run.path}. Free some disk "
            "space (or set output_root to another disk), then resume with the same command plus "
            f"hydra.run.dir={run.path}; the last completed epoch was kept."
        ) from None
    except LdlError as error:
        _finish(run, {**run.read_metrics(), "status": "failed", "error": str(error)})
        raise

    # Cross-validation runs measure no test metrics: there is nothing to compare with the book.
    cross_validating = OmegaConf.select(cfg, "cv.fold") is not None
    rows = [] if cross_validating else compare_with_book(cfg.book, metrics)
    metrics.update(book_metrics(rows))
    _finish(run, metrics)
    _print_summary(metrics, say)
    if rows:
        say(format_book_table(rows, cfg.book.get("source")))
        changed = _result_changing_overrides()
        if changed:
            say(
                f"Note: this run overrides {', '.join(changed)}; the book's numbers are for "
                f"{cfg.experiment_id} as configured."
            )
    return metrics


# Overrides that cannot make a run differ from the book's setup: the experiment itself, its seed, and
# everything that cannot change a run's numbers (where things live, how fast, what is logged).
_NEUTRAL_OVERRIDES = ("experiment", "hydra.", "trainer.seed", *RESUME_INDEPENDENT_KEYS)


def _result_changing_overrides() -> list[str]:
    """The command-line overrides of this Hydra run that change what is being compared with the book."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return [
        override
        for override in HydraConfig.get().overrides.task
        if not override.lstrip("+~").startswith(_NEUTRAL_OVERRIDES)
    ]


def _display_path(path: Path) -> str:
    """Relative to the working directory when the run lies below it (shorter, copy-pasteable)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def discard_unstarted_run(folder: Path | str) -> None:
    """Remove a run folder in which no epoch was ever trained (a config or data error at start-up).

    The command line calls this for single runs, so a mistyped command leaves no folder behind; sweeps
    keep such folders, because their summary must list the failed job.
    """
    run = RunFolder(folder)
    if run.has_checkpoint() or run.model_path.exists() or run.history_path.exists():
        return
    if run.status() not in (None, "failed"):
        return
    for path in (run.config_path, run.metrics_path, run.log_path):
        path.unlink(missing_ok=True)
    shutil.rmtree(run.tensorboard_dir, ignore_errors=True)
    _discard_if_empty(run.path)


def _finish(run: RunFolder, metrics: dict[str, Any]) -> None:
    write_json(run.metrics_path, metrics)


def _print_summary(metrics: dict[str, Any], say: Callable[[str], None]) -> None:
    shown = [
        key
        for key in metrics
        if key.startswith(("test/", "val/", "train/", "output/", "weights/w"))
        and isinstance(metrics[key], int | float)
        and not isinstance(metrics[key], bool)
    ]
    finals = [key for key in shown if key.startswith("test/")] or shown
    parts = [
        f"{key} = {metrics[key]}"
        if isinstance(metrics[key], int)
        else f"{key} = {metrics[key]:.4f}"
        for key in finals
    ]
    if parts:
        say("Result: " + ", ".join(parts))


def draw_seed() -> int:
    """A fresh seed for an unseeded run (the book's behaviour), recorded so the run can be repeated."""
    return secrets.randbelow(2**31 - 1)


def is_finite_logs(logs: dict[str, float]) -> bool:
    return all(math.isfinite(float(v)) for v in logs.values() if isinstance(v, int | float))


def hparams_of(cfg: DictConfig) -> dict[str, Any]:
    """The hyperparameters shown in TensorBoard's HParams dashboard (what identifies a run)."""
    keep = ("data.", "model.", "optimizer.", "initializer.", "trainer.", "cv.", "loss")
    skip = ("trainer.verbose", "trainer.resume", "trainer.threads", "data.download")
    values = {}
    for key, value in flatten(_resolved_config(cfg)).items():
        if key.startswith(keep) and not key.startswith(skip):
            values[key] = value if isinstance(value, bool | int | float | str) else str(value)
    values["experiment"] = cfg.experiment_id
    return values


def verbosity(setting: Any) -> int:
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)
