"""Population training: the members of one configuration (its k folds, or K seeds) trained together.

`train_population(member_configs)` does for every member what `train(cfg)` does for one run — its own
run folder (`fold_<i>/`, `repeat_<i>/`) with its lock, config.yaml, output.txt, history.csv,
metrics.json, checkpoints, TensorBoard logs and book comparison — except that the members' epochs run
together in one graph (`training/population_loop.py`; stacked where the model allows,
`training/stacked.py`). Each member is set up exactly as it would be
alone (a fresh Keras session seeded with its own seed, then its data, then its model), so its numbers
are those of the same fold or seed trained alone; tests/sweeps/test_population.py checks that bit for bit.

`population_blockers(cfg)` says why a configuration cannot be trained this way (the graph loop's own
reasons: lazily loaded or per-epoch augmented data, a distribution strategy, convolutions, callbacks
that act during training; or trainer.loop=fit / trainer.population=in_turn); its callers then train
the members in turn, as before, and say so in one line.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ldl.config import resolved_config, validate_config
from ldl.errors import LdlError
from ldl.runs.files import write_json
from ldl.runs.location import location_error
from ldl.runs.lock import FolderLock
from ldl.runs.reporter import Say, make_reporter
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode, select_run_folder
from ldl.training.train import RunInterruptedError, _compare_with_book, _record_failure

KERAS_RUNNER = "ldl.training.recipe.train_keras"


@dataclass
class _Member:
    """One member's run folder and, once set up, what training it needs."""

    cfg: DictConfig
    run: RunFolder
    mode: RunMode
    say: Say
    loop: Any = None  # its population_loop.LoopMember
    context: Any = None  # its run_context.RunContext, once set up


def _config_blockers(cfg: DictConfig) -> list[str]:
    """Reasons found in the config alone (no TensorFlow needed)."""
    reasons = []
    if OmegaConf.select(cfg, "runner._target_") != KERAS_RUNNER:
        reasons.append(f"the runner is {OmegaConf.select(cfg, 'runner.name')}, not keras_fit")
    if OmegaConf.select(cfg, "trainer.population", default="auto") == "in_turn":
        reasons.append("trainer.population=in_turn")
    if OmegaConf.select(cfg, "trainer.loop", default="auto") == "fit":
        reasons.append("trainer.loop=fit")
    if OmegaConf.select(cfg, "trainer.distribute"):
        reasons.append("training runs under a tf.distribute strategy")
    if (cfg.get("fine_tune") or {}).get("epochs"):
        reasons.append("transfer learning's second phase recompiles the model")
    return reasons


def population_blockers(cfg: DictConfig) -> list[str]:
    """Why the members of `cfg` (one member's config) cannot be trained together; empty if they can.

    Beyond the config, this prepares the member's data and builds its model once, in memory (nothing
    is written), to ask the graph loop's own questions (training/graph_loop.py: loop_blockers).
    With trainer.population=stacked, members that cannot be stacked are refused here (ConfigError)."""
    stacked = OmegaConf.select(cfg, "trainer.population", default="auto") == "stacked"
    reasons = _config_blockers(cfg) or _loop_blockers(cfg, stacked)
    if reasons and stacked:
        from ldl.training.stacked import unstackable

        raise unstackable([f"they would train in turn ({'; '.join(reasons)})"])
    return reasons


def _loop_blockers(cfg: DictConfig, stacked: bool) -> list[str]:
    """The graph loop's reasons, asked of the member's data and model; with `stacked` and none of
    them, members whose model, optimizer, loss or data cannot be stacked are refused (the population
    loop checks the compiled metrics again once the members are built)."""
    import keras

    from ldl.models import build_model
    from ldl.training.batches import prepare_run_data
    from ldl.training.callback_setup import instantiate_callbacks
    from ldl.training.graph_loop import LoopSetting, has_convolutions, loop_blockers
    from ldl.training.pipeline import EpochShuffledDataset

    data = prepare_run_data(cfg)
    if data.batches is not None:
        return ["the dataset loads its batches lazily"]
    keras.backend.clear_session(free_memory=False)
    model = build_model(cfg.model, cfg.initializer, data.input_shape, data.num_outputs)
    # The training batches would be an EpochShuffledDataset (the data loads none itself); only its
    # kind matters here, so an unbuilt one stands in for it.
    in_memory = object.__new__(EpochShuffledDataset)
    setting = LoopSetting(in_memory, data.train_transform is not None, has_convolutions(model))
    callbacks = instantiate_callbacks(cfg.get("callbacks"))
    callbacks += instantiate_callbacks(cfg.get("logger"))
    reasons = loop_blockers(cfg, setting, callbacks)
    unstacked = _stacking_blockers(cfg, model, data) if stacked and not reasons else []
    keras.backend.clear_session(free_memory=False)
    if unstacked:
        from ldl.training.stacked import unstackable

        raise unstackable(unstacked)
    return reasons


def _stacking_blockers(cfg: DictConfig, model: Any, data: Any) -> list[str]:
    """Why members like `model` (compiled here with the config's optimizer, loss and metrics) and
    `data` cannot be stacked."""
    from ldl.training.compile import loss_and_metrics
    from ldl.training.optimizers import build_optimizer
    from ldl.training.stacked import arrays_blockers, compiled_model_blockers

    model.compile(optimizer=build_optimizer(cfg.optimizer), **loss_and_metrics(cfg))
    return compiled_model_blockers(model, arrays_blockers([data.x_train, data.y_train]))


def _claim_member(cfg: DictConfig, locks: contextlib.ExitStack) -> tuple[_Member | None, Any]:
    """The member's run folder chosen and locked as train() does; (None, metrics) when complete."""
    validate_config(cfg)
    cfg.data_dir = os.path.abspath(os.path.expanduser(str(cfg.data_dir)))
    run, mode = select_run_folder(cfg)
    if str(run.path) != str(cfg.run_dir):
        cfg.run_dir = str(run.path)
    if mode is RunMode.COMPLETED:
        return None, run.read_metrics()
    try:
        run.path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise location_error(error, run.path) from None
    locks.enter_context(FolderLock(run.path))
    say = make_reporter(run)
    if mode is RunMode.NEW:
        run.write_config(resolved_config(cfg))
    say(f"ldl train: {cfg.experiment_id} - {cfg.description}")
    say(f"run folder: {run.path} (a member of a population trained together)")
    earlier = {k: v for k, v in run.read_metrics().items() if k != "error"}
    write_json(run.metrics_path, {**earlier, "experiment": cfg.experiment_id, "status": "running"})
    return _Member(cfg, run, mode, say), None


def _set_up(member: _Member) -> None:
    """What train_keras does before fit(), for one member, in a fresh session seeded with its seed."""
    from ldl.training.population_loop import LoopMember
    from ldl.training.recipe import start_run

    context = start_run(member.cfg, member.run, member.mode, member.say)
    member.context = context
    member.loop = LoopMember(
        model=context.model,
        train=context.datasets.train,
        validation_batches=context.datasets.validation_batches,
        eval_batch_size=context.datasets.eval_batch_size,
        callbacks=context.callbacks,
        epochs=int(member.cfg.trainer.epochs),
        epoch=context.recorder.state.epochs_completed,
    )


def _finish(member: _Member) -> dict[str, Any]:
    """Evaluate and save the trained member, compare it with the book; its flat metrics."""
    from ldl.training.outcome import evaluate_and_save, refuse_diverged

    cfg, run, context = member.cfg, member.run, member.context
    refuse_diverged(context)
    metrics = evaluate_and_save(context)
    metrics = {"experiment": cfg.experiment_id, **metrics, "status": "completed"}
    _compare_with_book(cfg, metrics, member.say)
    write_json(run.metrics_path, metrics)
    from ldl.runs.mlflow_log import log_run  # logger=mlflow: the finished folder into MLflow

    log_run(cfg, run, member.say)
    return metrics


def train_population(
    member_configs: Sequence[DictConfig], what: str, say: Say | None = None
) -> list[dict[str, Any]]:
    """Train the members together; each member's metrics, in order. `what` names the population
    in messages ("the 5 folds"). Completed members are reported, not retrained; an interrupted
    population resumes every member from its own last checkpoint."""
    results: list[dict[str, Any] | None] = [None] * len(member_configs)
    with contextlib.ExitStack() as locks:
        members: dict[int, _Member] = {}
        for index, cfg in enumerate(member_configs):
            member, completed = _claim_member(cfg, locks)
            if member is None:
                results[index] = completed
            else:
                members[index] = member
        try:
            _train_members(list(members.values()), member_configs[0], say or print)
            first_error: LdlError | None = None
            for index, member in members.items():
                try:
                    results[index] = _finish(member)
                except LdlError as error:  # the other members still save their results
                    _record_failure(member.run, error)
                    first_error = first_error or error
        except KeyboardInterrupt:
            _interrupted(list(members.values()), what)
        except Exception as error:  # never `running` forever (train.py does the same for a run)
            for member in members.values():
                _record_failure(member.run, error)
            raise
        if first_error is not None:
            raise first_error
    return [metrics or {} for metrics in results]


def _train_members(members: list[_Member], cfg: DictConfig, say: Callable[[str], None]) -> None:
    """Set every member up as train_keras would, then train them together; a stop request ends
    the training with every member checkpointed at its last completed epoch."""
    from ldl.training import stop_signals
    from ldl.training.callback_setup import verbosity
    from ldl.training.population_loop import fit_population_in_graph

    for member in members:
        _set_up(member)
    # A first stop signal waits for the end of a call into the graph (stop_signals.py).
    with stop_signals.deferred():
        try:
            population = str(OmegaConf.select(cfg, "trainer.population", default="auto"))
            loops = [m.loop for m in members]
            fit_population_in_graph(loops, verbosity(cfg.trainer.verbose), population, say)
        except KeyboardInterrupt:
            if not stop_signals.at_once():
                for member in members:
                    member.context.recorder.stop_at_last_completed_epoch()
            raise


def _interrupted(members: list[_Member], what: str) -> None:
    """Every unfinished member says `interrupted`; then the stop goes on to the caller."""
    from ldl.training import stop_signals

    for member in members:
        with contextlib.suppress(OSError, LdlError):  # a full disk: the checkpoints still stand
            write_json(
                member.run.metrics_path, {**member.run.read_metrics(), "status": "interrupted"}
            )
    if not stop_signals.installed():
        raise KeyboardInterrupt  # ldl called from Python: Ctrl-C stops the caller too
    raise RunInterruptedError(
        f"Stopped by {stop_signals.reason()}: {what} are interrupted, each with its last completed "
        "epoch saved in its own checkpoint folder. Run the same command to continue them; each "
        "ends exactly as an uninterrupted run would."
    ) from None


def trains_members_together(train: Any) -> bool:
    """Whether `train` is ldl's own train() (a caller's own function trains its members itself)."""
    from ldl.training.train import train as one_run

    return train is one_run


def members_together(
    member_configs: Sequence[DictConfig], what: str, say: Say
) -> list[dict[str, Any]] | None:
    """The members' metrics, trained together; None (after one line saying why) when they cannot
    be, and the caller trains them in turn."""
    blockers = population_blockers(member_configs[0])
    if blockers:
        say(f"Training {what} in turn, not together in one graph: {'; '.join(blockers)}.")
        return None
    say(f"Training {what} together in one graph (a population of {len(member_configs)} members).")
    return train_population(member_configs, what, say)
