"""Run-folder policy: where a run lives, whether it is new, resumed or complete, and what to discard."""

from __future__ import annotations

import enum
import shutil
from pathlib import Path

from omegaconf import DictConfig

from ldl.config import resolved_config
from ldl.errors import RunFolderError
from ldl.runs.files import DamagedFileError
from ldl.runs.run_folder import RunFolder, config_differences, find_resumable_run


class RunMode(enum.Enum):
    """How `train` treats the run folder it was given."""

    NEW = "new"  # nothing there yet
    RESUME = "resume"  # an unfinished run with a checkpoint: continue after its last saved epoch
    RESTART = "restart"  # an unfinished run that never saved a checkpoint: start it again
    COMPLETED = "completed"  # a finished run: report its metrics, change nothing


# What Hydra writes into a run folder before ldl has looked at it (the command line moves its files
# from `.hydra.pending` to `.hydra` only once ldl goes on to use the folder).
HYDRA_DEBRIS = (".hydra", ".hydra.pending", "train.log")


def _discard_if_empty(folder: Path, keep_root: Path | None = None) -> None:
    """Remove a run folder Hydra created for this invocation if nothing of ldl's is in it, and the
    date folders above it that this leaves empty (up to, not including, `keep_root`)."""
    if folder.is_dir() and all(p.name in HYDRA_DEBRIS for p in folder.iterdir()):
        shutil.rmtree(folder, ignore_errors=True)
        remove_empty_parents(folder, keep_root)


def remove_empty_parents(folder: Path, keep_root: Path | None) -> None:
    """Remove the empty folders above `folder` up to `keep_root` (e.g. outputs/<date>/)."""
    if keep_root is None:
        return
    root = keep_root.resolve()
    parent = folder.resolve().parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()  # only succeeds when empty
        except OSError:
            return
        parent = parent.parent


def _requested_run(cfg: DictConfig, config: dict) -> RunFolder:
    """The folder trainer.resume points at (true: the latest unfinished run of this config)."""
    requested = cfg.trainer.resume
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
        return RunFolder(found)
    if requested not in (False, "auto"):
        chosen = RunFolder(str(requested))
        if not chosen.exists():
            raise RunFolderError(
                f"trainer.resume={requested}: that folder holds no ldl run (no config.yaml). "
                "Give the folder of the run to resume, e.g. outputs/2026-01-31/12-00-00-000000_c5e2."
            )
        if chosen.path.resolve() != run.path.resolve():
            _discard_if_empty(run.path)
        return chosen
    return run


def select_run_folder(cfg: DictConfig) -> tuple[RunFolder, RunMode]:
    """Decide where this run lives and whether it is new, resumed, restarted or already complete."""
    config = resolved_config(cfg)
    run = _requested_run(cfg, config)
    if not run.exists():
        return run, RunMode.NEW
    differences = config_differences(run.read_config(), config)
    if differences:
        raise RunFolderError(
            f"The run folder {run.path} already holds a run with a different config (differs in: "
            f"{', '.join(differences[:8])}). Nothing was changed. Start a new run in another folder "
            "(leave out hydra.run.dir), or repeat the original overrides to resume it."
        )
    if run.status() == "completed":
        return run, RunMode.COMPLETED
    if cfg.trainer.resume is False:
        raise RunFolderError(
            f"The run folder {run.path} holds an unfinished run and trainer.resume=false. Use another "
            "folder, or allow the resume with trainer.resume=auto."
        )
    return run, RunMode.RESUME if run.has_checkpoint() else RunMode.RESTART


def discard_unstarted_run(folder: Path | str, output_root: Path | str | None = None) -> None:
    """Remove a run folder in which no epoch was ever trained (a config or data error at start-up),
    and the date folders above it that this leaves empty.

    The command line calls this for single runs that it created in this invocation, so a mistyped
    command leaves no folder behind; sweeps keep such folders, because their summary must list the
    failed job.
    """
    run = RunFolder(folder)
    if run.has_checkpoint() or run.model_path.exists() or run.history_path.exists():
        return
    try:
        if run.status() not in (None, "failed", "running"):
            return
    except DamagedFileError:
        return
    for path in (run.config_path, run.metrics_path, run.log_path, run.path / "data.json"):
        path.unlink(missing_ok=True)
    shutil.rmtree(run.tensorboard_dir, ignore_errors=True)
    _discard_if_empty(run.path, Path(output_root) if output_root is not None else None)
