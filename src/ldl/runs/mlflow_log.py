"""`logger=mlflow`: a finished run folder into an MLflow tracking store (the [mlflow] extra).

Once a run has ended and its metrics.json is final, everything the folder holds goes to MLflow: the
resolved config as parameters, every history.csv column per epoch as metrics (step = epoch), the test and
other final numbers as metrics, the book comparison (`book_verdict/<metric>`), status, seed and device as
tags, and the folder's files as artefacts (not the checkpoint, which a completed run no longer needs).
Reading the folder, not hooking into training, makes it the same for every runner (Keras, the NumPy
programs) and for both training loops.

The store defaults to SQLite in `mlflow.db` beside the outputs folder (`sqlite:///<parent of
output_root>/mlflow.db`), artefacts to `mlartifacts/` next to it; a sweep's jobs are runs of one MLflow
experiment named after the sweep folder, a single run goes to an experiment named after its experiment id.
A failure to log is reported and leaves the run as it ended: the run folder is the record.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ldl.config import flatten, resolved_config
from ldl.errors import ConfigError
from ldl.runs.files import DamagedFileError, read_json
from ldl.runs.run_folder import RunFolder

# MLflow takes at most this many entries in one log_batch call, and parameter values this long.
_BATCH = 100
_PARAM_CHARS = 6000
# What a run folder holds that is no result: the resume checkpoint, the lock, Hydra's pending files.
_NOT_ARTEFACTS = ("checkpoint", "ldl.lock", ".hydra.pending")
# Config sections that are bookkeeping, not settings of the run.
_NOT_PARAMETERS = ("hydra", "book", "deviations", "description")


def mlflow_callback(**settings: Any) -> Any:
    """What the `logger.mlflow` entry builds for Keras: a callback that does nothing during training
    (the run is logged from its folder once it has ended, `log_run`), so it never keeps a run off the
    multi-epoch graph loop."""
    import keras

    callback = keras.callbacks.Callback()
    callback.reads_epoch_logs_only = True
    return callback


def require_mlflow() -> None:
    """A ConfigError, before any work, when the [mlflow] extra is not installed."""
    try:
        import mlflow  # noqa: F401
    except ImportError:
        raise ConfigError(
            "logger=mlflow needs MLflow, which is not installed. Install ldl's mlflow extra "
            "(pip install -e '.[mlflow]'), or choose logger=tensorboard or logger=none."
        ) from None


def mlflow_settings(cfg: DictConfig) -> DictConfig | None:
    """The run's `logger.mlflow` entry, None when it does not log to MLflow."""
    spec = OmegaConf.select(cfg, "logger.mlflow", default=None)
    return spec if isinstance(spec, DictConfig) else None


def tracking_uri(settings: DictConfig | dict, output_root: str) -> str:
    """The configured tracking URI, or SQLite in mlflow.db beside the outputs folder."""
    configured = settings.get("tracking_uri")
    if configured:
        return str(configured)
    return f"sqlite:///{Path(output_root).expanduser().resolve().parent / 'mlflow.db'}"


def _artifact_root(uri: str, experiment: str) -> str | None:
    """For a SQLite store, artefacts in `mlartifacts/<experiment>/` beside its file (MLflow's own
    default is relative to the working directory, which differs between runs)."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts" / experiment).as_uri()


@contextlib.contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow and Alembic announce creating and migrating the store at INFO level: not ldl's output."""
    loggers = [logging.getLogger(name) for name in ("mlflow", "alembic")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _sweep_name() -> str | None:
    """The sweep folder's name when this process runs a job of a Hydra sweep."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    return Path(str(hydra.sweep.dir)).name if hydra.mode == RunMode.MULTIRUN else None


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _epoch_metrics(run: RunFolder, timestamp: int) -> Iterable[Any]:
    """Every history.csv column per epoch (step = epoch)."""
    import pandas as pd
    from mlflow.entities import Metric

    if not run.history_path.exists():
        return []
    frame = pd.read_csv(run.history_path)
    return [
        Metric(str(column), float(value), timestamp, int(epoch))
        for column in frame.columns
        if column != "epoch"
        for epoch, value in zip(frame["epoch"], frame[column], strict=True)
        if _number(float(value))
    ]


def log_run(cfg: DictConfig, run: RunFolder, say: Any = print) -> str | None:
    """Log the ended run folder to MLflow when the config asks for it; the MLflow run id."""
    settings = mlflow_settings(cfg)
    if settings is None:
        return None
    try:
        with _quiet_mlflow():
            return _log(cfg, settings, run)
    except Exception as error:  # the run itself is complete: say so, never fail it afterwards
        say(f"Note: the run could not be logged to MLflow ({type(error).__name__}: {error}).")
        return None


def _log(cfg: DictConfig, settings: DictConfig, run: RunFolder) -> str:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    uri = tracking_uri(settings, str(cfg.output_root))
    client = MlflowClient(tracking_uri=uri)
    name = str(settings.get("experiment_name") or _sweep_name() or cfg.experiment_id)
    experiment = client.get_experiment_by_name(name)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(name, artifact_location=_artifact_root(uri, name))
    )
    try:
        metrics = read_json(run.metrics_path)
    except DamagedFileError:
        metrics = {}
    tags = {
        "ldl.run_folder": str(run.path.resolve()),
        "ldl.experiment": str(cfg.experiment_id),
        **{key: str(metrics[key]) for key in ("status", "seed", "device") if key in metrics},
        **{key: str(value) for key, value in metrics.items() if key.startswith("book_verdict/")},
    }
    # The run's own span: config.yaml is written when it starts, metrics.json last when it ends.
    started, ended = (
        int(path.stat().st_mtime * 1000) if path.exists() else None
        for path in (run.config_path, run.metrics_path)
    )
    mlflow_run = client.create_run(
        experiment_id, start_time=started, run_name=run.path.name, tags=tags
    )
    run_id = mlflow_run.info.run_id
    parameters = [
        Param(key[:250], str(value)[:_PARAM_CHARS])
        for key, value in flatten(resolved_config(cfg)).items()
        if key.split(".", 1)[0] not in _NOT_PARAMETERS
    ]
    for chunk in _chunks(parameters):
        client.log_batch(run_id, params=chunk)
    now = int(time.time() * 1000)
    final_step = int(metrics.get("epochs_completed") or 0)
    finals = [
        Metric(key, float(value), now, final_step)
        for key, value in metrics.items()
        if _number(value) and key not in ("seed", "parameters")
    ]
    for chunk in _chunks([*_epoch_metrics(run, now), *finals]):
        client.log_batch(run_id, metrics=chunk)
    client.log_batch(run_id, tags=[RunTag("mlflow.note.content", _note(cfg, metrics))])
    if settings.get("artifacts", True):
        for path in sorted(run.path.rglob("*")):
            relative = path.relative_to(run.path)
            if path.is_file() and relative.parts[0] not in _NOT_ARTEFACTS:
                parent = relative.parent.as_posix()
                client.log_artifact(run_id, str(path), None if parent == "." else parent)
    status = {"completed": "FINISHED", "interrupted": "KILLED"}.get(
        str(metrics.get("status")), "FAILED"
    )
    client.set_terminated(run_id, status=status, end_time=ended)
    return str(run_id)


def _note(cfg: DictConfig, metrics: dict[str, Any]) -> str:
    """The run's description as MLflow shows it: what ldl ran and how it compares with the book."""
    verdicts = [
        f"{key.removeprefix('book_verdict/')}: {value}"
        for key, value in metrics.items()
        if key.startswith("book_verdict/")
    ]
    lines = [f"ldl {cfg.experiment_id}: {cfg.description}"]
    if verdicts:
        lines.append("Compared with the book: " + "; ".join(verdicts))
    return "\n".join(lines)
