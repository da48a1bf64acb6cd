"""The run's fit step, as phases: `fit()` to trainer.epochs, and for transfer learning the
fine-tuning phase (chapter 8) after the recompile it needs. The recipe runs each phase with
`model.fit` or the graph loop (`graph_loop.py`, where `trainer.loop` allows)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ldl.training.callback_setup import verbosity
from ldl.training.fine_tuning import fine_tune_settings, phase_two_optimizer, unfreeze_top_layers
from ldl.training.graph_loop import LoopSetting, has_convolutions, uses_graph_loop
from ldl.training.recorder import RunRecorder
from ldl.training.run_context import RunContext


@dataclass(frozen=True)
class Phase:
    """One fit() call: from `initial_epoch` to `epochs`, in the graph loop or not."""

    epochs: int
    initial_epoch: int
    in_graph: bool
    verbose: int


def fit_phases(context: RunContext) -> Iterator[Phase]:
    """Train up to trainer.epochs; then, for transfer learning, unfreeze the top of the pretrained base
    and continue to trainer.epochs + fine_tune.epochs at the smaller learning rate (chapter 8).
    Each phase is yielded to be run; the next is decided after it ran."""
    cfg, model, recorder = context.cfg, context.model, context.recorder
    epochs = cfg.trainer.epochs
    resumed_after = recorder.state.epochs_completed
    if recorder.state.fits_ended == 0:
        yield _phase(context, _last_epoch(recorder, epochs), resumed_after)
    fine_tune_epochs, unfreeze_top, fine_tune_rate = fine_tune_settings(cfg.get("fine_tune"))
    if not fine_tune_epochs or recorder.diverged_at is not None or recorder.state.fits_ended > 1:
        return
    with context.runtime.strategy.scope():
        unfrozen = unfreeze_top_layers(model, unfreeze_top)
        # A run resumed inside phase 2 restored the phase-2 optimizer from its checkpoint.
        phase_two = recorder.state.epochs_completed <= epochs
        optimizer = phase_two_optimizer(model, fine_tune_rate) if phase_two else model.optimizer
        model.compile(optimizer=optimizer, **context.compile_arguments)
    context.say(
        f"Fine-tuning: {unfrozen} layers of the pretrained base unfrozen, learning rate "
        f"{fine_tune_rate:g}, epochs {epochs + 1}-{recorder.epochs}."
    )
    initial_epoch = max(recorder.state.epochs_completed, epochs)
    yield _phase(context, _last_epoch(recorder, recorder.epochs), initial_epoch)


def _phase(context: RunContext, epochs: int, initial_epoch: int) -> Phase:
    """The phase, with `trainer.loop`'s choice between fit() and the graph loop made for it."""
    datasets = context.datasets
    setting = LoopSetting(
        train=datasets.train,
        augmented=datasets.data.train_transform is not None,
        convolutional=has_convolutions(context.model),
    )
    in_graph = uses_graph_loop(context.cfg, setting, context.callbacks)
    return Phase(epochs, initial_epoch, in_graph, verbosity(context.cfg.trainer.verbose))


def _last_epoch(recorder: RunRecorder, epochs: int) -> int:
    """Where a fit() call ends: `epochs`, or at once for a resumed run whose early stopping had
    already decided to stop (fit() then only runs the callbacks' train end: the best weights)."""
    state = recorder.state
    return state.epochs_completed if state.stop_training else epochs
