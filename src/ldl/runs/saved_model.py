"""The one place that loads a run folder's trained Keras model (or its latest checkpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldl.errors import ConfigError
from ldl.runs.files import DamagedFileError, read_json
from ldl.runs.run_folder import RunFolder
from ldl.targets import import_defining_module


@dataclass
class LoadedRun:
    run: RunFolder
    model: Any  # keras.Model
    # data.json: what the dataset saved for later commands (a vocabulary, tokenizers); {} if none.
    metadata: dict[str, Any]


def load_run_model(
    run_dir: str | Path, *, needs_metadata: str | None = None, allow_checkpoint: bool = True
) -> LoadedRun:
    """The run folder, its trained model and its data.json, or one clear error.

    `needs_metadata` names what data.json is needed for (an error when it is missing says so). An
    unfinished run is loaded from its latest checkpoint when `allow_checkpoint` is true.
    """
    run = RunFolder(run_dir)
    if not run.exists():
        raise ConfigError(
            f"{run.path} is not an ldl run folder (no config.yaml). Pass the folder a training run "
            "printed as 'run folder: ...'."
        )
    model_path = run.model_path
    if not model_path.exists():
        model_path = _checkpoint_model(run, allow_checkpoint)
    data_json = run.path / "data.json"
    if needs_metadata and not data_json.exists():
        raise ConfigError(f"{run.path} has no data.json, so {needs_metadata}.")
    from ldl import tf_setup

    tf_setup.import_tensorflow()
    # Custom losses and metrics register themselves with Keras when imported; saved models name them.
    import ldl.training.losses
    import ldl.training.metrics  # noqa: F401

    import_defining_module(run.read_config().get("model") or {})
    metadata = read_json(data_json) if data_json.exists() else {}
    return LoadedRun(run, load_keras_file(model_path), metadata)


def load_keras_file(path: Path) -> Any:
    """A saved Keras model; a damaged file is a DamagedFileError naming it (Keras would say "File
    not found" for an empty file that is there)."""
    import keras

    if path.stat().st_size == 0:
        raise DamagedFileError(path, "it is empty", _RETRAIN_HINT)
    try:
        return keras.saving.load_model(path)
    except Exception as error:  # zip, HDF5 and deserialization errors all mean a damaged file
        raise DamagedFileError(
            path, f"Keras cannot load it ({type(error).__name__}: {error})", _RETRAIN_HINT
        ) from None


_RETRAIN_HINT = (
    "Restore it from a copy, or train the run again (delete model.keras and resume with ldl train ... "
    "hydra.run.dir=<that folder>, which retrains from the last checkpoint if there is one)."
)


def without_a_model(run: RunFolder) -> str | None:
    """Why a run folder that is no unfinished training run has no model.keras: a cross-validation
    job (cv.fold=all) keeps one per fold, a run of another runner (a NumPy program of chapters 1-4,
    feature extraction, inference) saves none. None for a run that simply did not finish."""
    try:
        metrics = run.read_metrics()
        config = run.read_config()
    except DamagedFileError:
        return None
    if "cv/k" in metrics or (run.path / "fold_0").is_dir():
        return (
            f"{run.path} is a cross-validation job (cv.fold=all): it keeps no model of its own, each "
            f"fold's is in {run.path}/fold_<i>/. Give one fold, e.g. run={run.path / 'fold_0'}, or "
            "train the configuration once on all training data (ldl train without cv.fold)."
        )
    runner = config.get("runner")
    name = runner.get("name") if isinstance(runner, dict) else None
    if name not in (None, "keras_fit"):
        return (
            f"{run.path} is a run of runner={name} ({config.get('experiment_id', 'no experiment')}): "
            "it trains no Keras model, so there is no model.keras to load. Its results are in "
            "metrics.json and output.txt; commands that load a model need a run of a Keras "
            "experiment."
        )
    if run.status() == "completed" and not run.has_checkpoint():
        # (a completed run that kept its checkpoint, trainer.keep_checkpoint=true, still has one)
        return (
            f"{run.path} says it completed, but its model.keras is gone. Restore it from a copy, or "
            "train the run again in a new folder."
        )
    return None


def _checkpoint_model(run: RunFolder, allow_checkpoint: bool) -> Path:
    from ldl.training.checkpoint import Checkpointer

    reason = without_a_model(run)
    if reason is not None:
        raise ConfigError(reason)
    state = Checkpointer(run.checkpoint_dir).load_state() if allow_checkpoint else None
    if state is None:
        raise ConfigError(
            f"{run.path} has no model.keras{' and no checkpoint' if allow_checkpoint else ''}: the "
            f"run did not complete (status: {run.status()}). Resume it first with ldl train ... "
            "hydra.run.dir=<that folder>."
        )
    print(
        f"note: {run.path.name} is unfinished (status: {run.status()}); using its checkpoint "
        f"after epoch {state.epochs_completed}."
    )
    return run.checkpoint_dir / state.model_file
