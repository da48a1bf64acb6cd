"""ldl from Python and notebooks, without Hydra: `ldl.train`, `ldl.load_run`, `ldl.plot_runs`.

    import ldl
    metrics = ldl.train(["experiment=c5e2", "trainer.epochs=3", "data.max_train_examples=2000"])
    run = ldl.load_run(metrics["run_dir"])
    run.history.plot(x="epoch", y=["train/error", "val/error"])

`train` takes the same overrides as `ldl train`, checks them as the command does (a bad value is one
clear ConfigError before any work), and picks the run folder itself, as the command would
(`<output_root>/<date>/<time>_<experiment>`), so no Hydra app or `run_dir` is needed — in Jupyter too.
TensorFlow is imported only when a run trains or a model is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ldl.errors import RunFolderError
from ldl.runs.run_folder import RunFolder


def _default_run_dir(output_root: str, experiment_id: str) -> Path:
    """Where `ldl train` would put the run: `<output_root>/<date>/<time with microseconds>_<id>`."""
    now = datetime.now()
    return Path(output_root) / now.strftime("%Y-%m-%d") / f"{now:%H-%M-%S-%f}_{experiment_id}"


def compose(overrides: Sequence[str] = (), run_dir: str | Path | None = None) -> Any:
    """The checked config of one run (an omegaconf DictConfig), `run_dir` set (default: a new folder
    below `output_root`, as `ldl train` names it)."""
    from omegaconf import open_dict

    from ldl.cli.train_check import check_command

    checked = check_command([str(override) for override in overrides])
    with open_dict(checked):
        del checked["hydra"]  # Hydra's own settings belong to the command line, not to the run
    checked.run_dir = str(
        run_dir
        if run_dir is not None
        else _default_run_dir(str(checked.output_root), str(checked.experiment_id))
    )
    return checked


def train(overrides: Sequence[str] = (), run_dir: str | Path | None = None) -> dict[str, Any]:
    """Train and evaluate one run, as `ldl train <overrides>` does; its flat metrics, with
    `run_dir` (the run folder) added. `cv.fold=all` trains every fold and returns their mean."""
    from ldl.tf_setup import import_tensorflow

    cfg = compose(overrides, run_dir)
    import_tensorflow()
    from ldl.sweeps.cross_validation import train_or_cross_validate

    metrics = train_or_cross_validate(cfg)
    return {**metrics, "run_dir": str(cfg.run_dir)}


@dataclass
class Run:
    """A run folder's results: its config, metrics and per-epoch history; `model` loads model.keras
    (or the latest checkpoint of an unfinished run) when first used."""

    path: Path
    config: dict[str, Any]
    metrics: dict[str, Any]
    history: pd.DataFrame
    _model: Any = field(default=None, repr=False)

    @property
    def model(self) -> Any:
        if self._model is None:
            from ldl.runs.saved_model import load_run_model

            self._model = load_run_model(self.path).model
        return self._model


def load_run(folder: str | Path) -> Run:
    """A run folder (as `ldl train` and `ldl.train` leave it) as a Run."""
    run = RunFolder(Path(folder).expanduser())
    if not run.exists():
        raise RunFolderError(
            f"{run.path} is not an ldl run folder (no config.yaml). Pass the folder a training run "
            "printed as 'run folder: ...' (ldl.train returns it as metrics['run_dir'])."
        )
    history = pd.read_csv(run.history_path) if run.history_path.exists() else pd.DataFrame()
    return Run(run.path, run.read_config(), run.read_metrics(), history)


def plot_runs(folder: str | Path, path: str | Path, metric: str | None = None) -> Path:
    """Every run below `folder` in one chart at `path` (as `ldl report <folder> plot=<path>`); the
    chart's path, e.g. for IPython.display.Image."""
    from ldl.runs.comparison import plot_run_comparison

    plot_run_comparison(Path(folder), Path(path), metric)
    return Path(path)
