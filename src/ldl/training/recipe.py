"""The keras_fit runner: a short recipe of named steps from config to a trained, evaluated run folder.

    set up the runtime (runtime.py) -> datasets (batches.py) -> build or restore the model, compiled
    (compile.py) -> validation batches sized for the model -> callbacks (callback_setup.py) -> each fit
    phase (fit.py) through `model.fit` or the graph loop (graph_loop.py) -> evaluate and save (outcome.py)

Tasks take part through their configs: a dataset's `test_report` and `metadata`, Keras callbacks named
in the `callbacks` config group. This module imports no task.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode
from ldl.training import callback_state, stop_signals
from ldl.training.batches import batch_validation, load_datasets
from ldl.training.callback_setup import make_callbacks
from ldl.training.checkpoint import Checkpointer
from ldl.training.compile import build_or_restore
from ldl.training.fine_tuning import fine_tune_settings
from ldl.training.fit import fit_phases
from ldl.training.graph_loop import fit_in_graph
from ldl.training.outcome import evaluate_and_save, refuse_diverged
from ldl.training.pipeline import num_examples
from ldl.training.recorder import CheckpointPolicy, RunRecorder
from ldl.training.run_context import RunContext
from ldl.training.runtime import set_up_runtime


def train_keras(cfg: DictConfig, run: RunFolder, mode: RunMode, say: Say) -> dict[str, Any]:
    """Fit the configured Keras model and return the run's flat metrics (status completed)."""
    context = start_run(cfg, run, mode, say)
    if context.runtime.saved:
        for name in callback_state.unsaved(context.callbacks):
            say(f"note: the callback {name} keeps no saved state; it starts afresh at this resume.")
    model, datasets = context.model, context.datasets
    # A first stop signal waits for the epoch's end (stop_signals.py); one that ends training
    # elsewhere (a report written at an epoch's end) still leaves the last completed epoch saved.
    with stop_signals.deferred():
        try:
            for phase in fit_phases(context):
                if phase.in_graph:  # many epochs per call into the graph (trainer.loop)
                    fit_in_graph(context, phase.epochs, phase.initial_epoch, phase.verbose)
                    continue
                model.fit(
                    datasets.train.dataset,
                    epochs=phase.epochs,
                    initial_epoch=phase.initial_epoch,
                    validation_data=datasets.validation_batches,
                    callbacks=context.callbacks,
                    shuffle=False,  # the pipeline shuffles, keyed by (seed, epoch)
                    verbose=phase.verbose,
                )
        except KeyboardInterrupt:
            if not stop_signals.at_once():
                context.recorder.stop_at_last_completed_epoch()
            raise
    refuse_diverged(context)
    return evaluate_and_save(context)


def start_run(cfg: DictConfig, run: RunFolder, mode: RunMode, say: Say) -> RunContext:
    """Everything before fit(), in this order (the seed's random draws depend on it): the runtime,
    the data, the model (new or restored, compiled), the validation batches, the recorder and the
    callbacks."""
    checkpointer = Checkpointer(run.checkpoint_dir)
    runtime = set_up_runtime(cfg, checkpointer if mode is RunMode.RESUME else None)
    datasets = load_datasets(cfg, runtime.seed, run)
    model, state, compile_arguments = build_or_restore(cfg, runtime, datasets, checkpointer, say)
    datasets = batch_validation(datasets, cfg, model)
    base_metrics = {
        "experiment": cfg.experiment_id,
        "seed": runtime.seed,
        "device": runtime.device,
        "parameters": model.count_params(),
        "train_examples": num_examples(datasets.data.x_train),
    }
    fine_tune_epochs = fine_tune_settings(cfg.get("fine_tune"))[0]
    recorder = RunRecorder(
        run,
        checkpointer,
        state,
        cfg.trainer.epochs + fine_tune_epochs,
        CheckpointPolicy.from_trainer(cfg.trainer),
        base_metrics,
    )
    context = RunContext(
        cfg, run, say, checkpointer, runtime, datasets, model, recorder, compile_arguments
    )
    context.base_metrics = base_metrics
    context.callbacks = make_callbacks(cfg, run, model, datasets, recorder)
    return context
