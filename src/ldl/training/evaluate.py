"""`evaluate_run`: reload a run's saved model and measure it on the test set again.

The data are rebuilt from the run's own config.yaml (same split, same training statistics), so the
numbers must equal the test metrics that training recorded in metrics.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ldl import tf_setup
from ldl.data.datasets import PreparedData, prepare_data
from ldl.errors import RunFolderError
from ldl.runs.files import DamagedFileError
from ldl.runs.report import with_errors
from ldl.runs.run_folder import RunFolder
from ldl.runs.saved_model import load_run_model, without_a_model
from ldl.training.evaluation_batch import evaluation_batch_size


def evaluate_run(run_dir: str | Path, data_dir: str | Path | None = None) -> dict[str, Any]:
    """Return `{"test/<metric>": value}` for the run's saved model on its test set."""
    run = RunFolder(run_dir)
    if not run.exists():
        raise RunFolderError(
            f"{run.path} is not an ldl run folder (no config.yaml). Pass the folder a training run "
            "printed as 'run folder: ...', e.g. ldl eval run=outputs/2026-01-31/12-00-00-000000_c5e2."
        )
    if not run.model_path.exists():
        raise RunFolderError(
            without_a_model(run)
            or f"{run.path} has no model.keras: the run did not complete (status: {run.status()}). "
            "Resume it first with ldl train ... hydra.run.dir=<that folder>."
        )
    cfg = OmegaConf.create(run.read_config())
    for key in (
        "data._target_",
        "trainer.precision",
        "trainer.validation",
        "trainer.eval_batch_size",
    ):
        if OmegaConf.select(cfg, key) is None:
            raise DamagedFileError(run.config_path, f"it has no {key}")
    data_dir = data_dir if data_dir is not None else cfg.data_dir
    tf_setup.import_tensorflow()

    tf_setup.configure_precision(cfg.trainer.precision)
    data = prepare_data(
        cfg.data,
        data_dir,
        validation=cfg.trainer.validation,
        validation_fraction=cfg.trainer.validation_fraction,
        validation_seed=cfg.trainer.validation_seed,
        cv=cfg.get("cv"),
    )
    model = load_run_model(run.path, allow_checkpoint=False).model
    batch_size = evaluation_batch_size(cfg.trainer.eval_batch_size, model, cfg.trainer.batch_size)
    return measure_test_metrics(model, data, batch_size)


def measure_test_metrics(model: Any, data: PreparedData, batch_size: int) -> dict[str, float]:
    """`test/<metric>` of a model on the prepared test set, plus `test/error` where there is accuracy
    (the same numbers at the end of training and in `ldl eval`)."""
    from ldl.training.pipeline import evaluation_dataset

    if data.batches is not None:  # lazily loaded batches; a dataset may hold nothing out
        batches = data.batches("test", batch_size, 0, False)
        if batches is None:
            return {}
    else:
        batches = evaluation_dataset(data.x_test, data.y_test, batch_size, data.transform)
    logs = model.evaluate(batches, verbose=0, return_dict=True)
    return with_errors(logs, "test")
