"""`train(cfg) -> metrics`: one experiment from config to a complete run folder.

This is a plain function (no Hydra needed): compose a config any way you like, set `run_dir`, call it.
It resumes an unfinished run found in `run_dir`, stops cleanly on NaN losses, and always leaves
`metrics.json` with a `status` saying how the run ended. How the run is carried out (Keras fit(), a
hand-written NumPy program, inference only) is the `runner` config's business.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

from omegaconf import DictConfig, OmegaConf

from ldl.config import resolved_config, validate_config
from ldl.errors import LdlError, RunFolderError, StoppedError
from ldl.runs.book import book_metrics, compare_with_book, format_book_table
from ldl.runs.files import write_json
from ldl.runs.location import location_error
from ldl.runs.lock import FolderLock
from ldl.runs.reporter import Say, make_reporter, print_summary
from ldl.runs.run_folder import RESUME_INDEPENDENT_KEYS, RunFolder
from ldl.runs.selection import RunMode, select_run_folder
from ldl.targets import target_of
from ldl.training import stop_signals

# Called once the run folder is chosen and locked, before anything is written to it (the command line
# moves Hydra's files in then; a refused command never reaches it).
Claim = Callable[[RunFolder, RunMode], None]


class Runner(Protocol):
    """What a `runner` config's `_target_` names: carry out the run, return its flat metrics."""

    def __call__(
        self, cfg: DictConfig, run: RunFolder, mode: RunMode, say: Say
    ) -> dict[str, Any]: ...


class RunInterruptedError(StoppedError):
    """Ctrl-C or SIGTERM during training; the last completed epoch is kept for a resume."""


def train(cfg: DictConfig, claim: Claim | None = None, checked: bool = False) -> dict[str, Any]:
    """Train and evaluate the experiment `cfg` describes; return its flat metrics.

    The run folder (`cfg.run_dir`) receives config.yaml, metrics.json, history.csv, model.keras,
    learning_curve.png and TensorBoard logs. Nothing is written before the config has been checked,
    the folder chosen and its lock taken (one writer per run folder). `checked`: the caller has
    validated this very config already (`ldl train` does, before Hydra creates the run folder).
    """
    if not checked:
        validate_config(cfg)
    runner: Runner = target_of(cfg.runner, "runner")
    # Stored absolute, so later commands (ldl eval) find the data from any working directory.
    cfg.data_dir = os.path.abspath(os.path.expanduser(str(cfg.data_dir)))
    run, mode = select_run_folder(cfg)
    if str(run.path) != str(cfg.run_dir):
        cfg.run_dir = str(run.path)
    if mode is RunMode.COMPLETED:  # reported, not touched
        if claim is not None:
            claim(run, mode)
        metrics = run.read_metrics()
        print(f"{run.path} already holds a completed run; its metrics are unchanged:")
        print_summary(metrics, lambda message="": print(message))
        return metrics
    try:
        run.path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise location_error(error, run.path) from None
    with FolderLock(run.path):
        if claim is not None:
            claim(run, mode)
        say = _open_run(cfg, run, mode)
        with recording_failures(cfg, run):
            metrics = runner(cfg, run, mode, say)
        metrics = {"experiment": cfg.experiment_id, **metrics, "status": "completed"}
        _compare_with_book(cfg, metrics, say)
        write_json(run.metrics_path, metrics)
        from ldl.runs.mlflow_log import log_run  # logger=mlflow: the finished folder into MLflow

        log_run(cfg, run, say)
        return metrics


def _open_run(cfg: DictConfig, run: RunFolder, mode: RunMode) -> Say:
    """The run's config.yaml (a new run), its first lines, and metrics.json saying `running`."""
    say = make_reporter(run)
    if mode is RunMode.NEW:
        run.write_config(resolved_config(cfg))
    say(f"ldl train: {cfg.experiment_id} - {cfg.description}")
    say(f"run folder: {_display_path(run.path)}")
    # A resumed run keeps what its metrics.json holds (epochs, last metrics) until it has more.
    earlier = {k: v for k, v in run.read_metrics().items() if k != "error"}
    write_json(run.metrics_path, {**earlier, "experiment": cfg.experiment_id, "status": "running"})
    return say


@contextlib.contextmanager
def recording_failures(cfg: DictConfig, run: RunFolder) -> Iterator[None]:
    """On any failure ldl can explain, leave metrics.json saying how the run ended."""
    try:
        yield
    except KeyboardInterrupt:
        recorded = {**run.read_metrics(), "status": "interrupted"}
        with contextlib.suppress(OSError):  # a full disk: the checkpoint still stands
            write_json(run.metrics_path, recorded)
        if not stop_signals.installed():
            raise  # ldl called from Python (a test, a notebook): Ctrl-C stops the caller too
        raise RunInterruptedError(interrupted_message(run, recorded, cfg)) from None
    except OSError as error:
        if error.errno != errno.ENOSPC:
            _record_failure(run, error)
            raise
        raise RunFolderError(
            f"No space left on the device while writing {error.filename or run.path}. Free some disk "
            "space (or set output_root to another disk), then resume with the same command plus "
            f"hydra.run.dir={run.path}; the last completed epoch was kept."
        ) from None
    except Exception as error:  # anything else (a bug, out of memory): never `running` forever
        _record_failure(run, error)
        raise


def interrupted_message(run: RunFolder, metrics: dict[str, Any], cfg: DictConfig) -> str:
    """What stopped the run, where it stands, and the command that continues it."""
    epochs = int(metrics.get("epochs_completed") or 0)
    kept = (
        f"epoch {epochs} of {cfg.trainer.epochs} is saved in {_display_path(run.checkpoint_dir)}"
        if run.has_checkpoint()
        else "no epoch had completed, so it will start from the beginning"
    )
    return (
        f"Stopped by {stop_signals.reason()}: the run {_display_path(run.path)} is interrupted and "
        f"{kept}. Run the same command with hydra.run.dir={_display_path(run.path)} (or "
        "trainer.resume=true) to continue it; it ends exactly as an uninterrupted run would."
    )


def _record_failure(run: RunFolder, error: BaseException) -> None:
    """metrics.json says `failed` with the error, and keeps everything it held before."""
    message = str(error) if isinstance(error, LdlError) else f"{type(error).__name__}: {error}"
    # On a full disk or with a damaged metrics.json the error itself is still reported.
    with contextlib.suppress(OSError, LdlError):
        write_json(run.metrics_path, {**run.read_metrics(), "status": "failed", "error": message})


def _compare_with_book(cfg: DictConfig, metrics: dict[str, Any], say: Say) -> None:
    """Add the book verdicts to `metrics` and print the result and the comparison table."""
    # Cross-validation runs measure no test metrics: there is nothing to compare with the book.
    cross_validating = OmegaConf.select(cfg, "cv.fold") is not None
    rows = [] if cross_validating else compare_with_book(cfg.book, metrics)
    metrics.update(book_metrics(rows))
    print_summary(metrics, say)
    if not rows:
        return
    say(format_book_table(rows, cfg.book.get("source")))
    changed = _result_changing_overrides()
    if changed:
        say(
            f"Note: this run overrides {', '.join(changed)}; the book's numbers are for "
            f"{cfg.experiment_id} as configured."
        )


# Overrides that cannot make a run differ from the book's setup: the experiment itself, its seed, and
# everything that cannot change a run's numbers (where things live, how fast, what is logged). A search
# (hparams_search=, the book's chapter=) names its swept settings as overrides of their own.
_NEUTRAL_OVERRIDES = (
    "experiment",
    "hparams_search=",
    "chapter=",
    "hydra.",
    "trainer.seed",
    *RESUME_INDEPENDENT_KEYS,
)


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
