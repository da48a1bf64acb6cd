"""Optuna searches whose study outlives the process: kill, re-run, share, and still get `n_trials`.

Hydra's Optuna sweeper keeps the study in memory unless told otherwise, runs `n_trials` *more* trials
on every start, and numbers its jobs from 0 each time, so a re-run writes over the first run's folders.
This sweeper keeps its options and search-space syntax (`hydra.sweeper.params`) and changes what a
durable search needs:

- The study lives in `optuna.db` (SQLite) or `optuna.journal` (`storage=journal`) in the sweep folder
  unless `storage` names a database URL (`storage.py`); its name defaults to the sweep folder's,
  which the command decides. A study folder reused with another search space is refused, naming
  what changed, before any trial starts.
- `n_trials` counts the whole study: a re-run of the same command runs only the trials still missing,
  and two processes started with the same command split the work, because counting the trials and
  asking for new ones happens under a lock on the sweep folder.
- Trial k runs in the job folder numbered k, whichever process runs it. A trial whose process was killed
  is taken back (see `liveness`) and retried in its own folder, so the job resumes where it stopped.
- A failed job is told to Optuna as a failed trial and the search goes on.
- Each trial's sampler is seeded with `seed +` the number of configurations asked before (a retry of a
  killed or stopped trial is none): a resumed or shared study draws the same parameters for the same
  history, and two processes never draw in lockstep.
- With a pruner (`hydra/sweeper/pruner=median`, ...) each job reports to its trial as it trains
  (`pruning.py`); a job its pruner stopped is told to Optuna as PRUNED, never re-run.
- Every trial records its job folder (the user attribute `ldl_run_folder`), shown in study.csv,
  summary.md and the dashboard.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from ldl.errors import ConfigError, StoppedError
from ldl.sweeps.optuna_study.liveness import (
    INTERRUPTED_ATTRIBUTE,
    WORKER_ATTRIBUTE,
    Heartbeat,
    first_attempt,
    study_lock,
    take_back_dead_trials,
    this_worker,
)
from ldl.sweeps.optuna_study.options import check_options, directions_of, has_pruner
from ldl.sweeps.optuna_study.pruning import PRUNED_AT_ATTRIBUTE, job_environment
from ldl.sweeps.optuna_study.search_space import parse_search_space, space_changes, space_to_json
from ldl.sweeps.optuna_study.storage import check_storage, open_storage, storage_url
from ldl.sweeps.optuna_study.table import write_study_table
from ldl.training import stop_signals

log = logging.getLogger(__name__)

# User attributes: each trial's job folder; the study's search space (to refuse another one).
RUN_FOLDER_ATTRIBUTE = "ldl_run_folder"
SEARCH_SPACE_ATTRIBUTE = "ldl_search_space"


class DurableOptunaSearch:
    """The search behind `hydra/sweeper=optuna_study` (options documented in its YAML file)."""

    def __init__(
        self,
        sampler: DictConfig,
        direction: str | Sequence[str],
        storage: str | None,
        study_name: str | None,
        n_trials: int,
        n_jobs: int,
        params: DictConfig | None,
        heartbeat_interval: int,
        grace_period: int,
        max_retries: int,
        poll_seconds: float,
        pruner: DictConfig | None = None,
        report_every: int = 1,
        cv_steps: str = "fold",
    ) -> None:
        options = OmegaConf.create(
            {
                "sampler": sampler,
                "pruner": pruner,
                "direction": direction,
                "storage": storage,
                "study_name": study_name,
                "n_trials": n_trials,
                "n_jobs": n_jobs,
                "params": params,
                "report_every": report_every,
                "cv_steps": cv_steps,
                "heartbeat_interval": heartbeat_interval,
                "grace_period": grace_period,
                "max_retries": max_retries,
                "poll_seconds": poll_seconds,
            }
        )
        check_options(options)
        self.options = options
        self.sampler_config = sampler
        self.pruner_config = pruner
        self.directions = directions_of(direction)
        self.storage_option = storage
        self.study_name = study_name
        self.n_trials = n_trials
        self.n_jobs = n_jobs
        self.params = params
        self.grace_period = grace_period
        self.heartbeat_interval = heartbeat_interval
        self.max_retries = max_retries
        self.poll_seconds = poll_seconds
        self.job_idx = 0

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )
        self.sweep_dir = Path(str(config.hydra.sweep.dir)).resolve()

    # --- the study ---------------------------------------------------------------------------

    def _storage_url(self) -> str:
        return storage_url(self.storage_option, self.sweep_dir)

    def _pruner(self) -> Any:
        import optuna

        if self.pruner_config is None:
            return optuna.pruners.NopPruner()
        return instantiate(self.pruner_config)

    def _sampler(self, offset: int) -> Any:
        """The configured sampler, seeded with seed + offset (unseeded stays unseeded)."""
        seed = self.sampler_config.get("seed")
        overrides = {} if seed is None else {"seed": int(seed) + offset}
        return instantiate(self.sampler_config, **overrides)

    def _search_space(self, arguments: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        params = [f"{key!s}={value}" for key, value in (self.params or {}).items()]
        return parse_search_space([*params, *arguments])

    def _open_study(self, distributions: dict[str, Any]) -> Any:
        """The study (created on the first start), refused when it was searching another space or
        in another direction."""
        import optuna

        name = self.study_name or self.sweep_dir.name
        storage = open_storage(self._storage_url())
        existing = {s.study_name: s for s in optuna.get_all_study_summaries(storage, False)}
        if name in existing and list(existing[name].directions) != [
            optuna.study.StudyDirection[d.upper()] for d in self.directions
        ]:
            earlier = [d.name.lower() for d in existing[name].directions]
            raise ConfigError(
                f"The study {name} in {self.sweep_dir} was run with direction {earlier}, this "
                f"command asks for {self.directions}. Use the study's direction, or another sweep "
                "folder (hydra.sweep.dir=...) for a new study."
            )
        study = optuna.create_study(
            study_name=name,
            storage=storage,
            sampler=self._sampler(0),
            pruner=self._pruner(),
            directions=[optuna.study.StudyDirection[d.upper()] for d in self.directions],
            load_if_exists=True,
        )
        space = space_to_json(distributions)
        earlier_space = study.user_attrs.get(SEARCH_SPACE_ATTRIBUTE)
        if earlier_space is None and study.get_trials(deepcopy=False):
            earlier_space = space_to_json(
                {n: d for t in study.get_trials(deepcopy=False) for n, d in t.distributions.items()}
            )
        if earlier_space is not None and earlier_space != space:
            changes = space_changes(earlier_space, space)
            raise ConfigError(
                f"The study {name} in {self.sweep_dir} searched another space: "
                f"{'; '.join(changes)}. Its trials cannot be mixed with this search's. Run the "
                "search as it was, or give this one its own sweep folder (hydra.sweep.dir=...)."
            )
        if earlier_space is None:
            study.set_user_attr(SEARCH_SPACE_ATTRIBUTE, space)
        return study

    def _job_subdir(self, trial_number: int) -> str:
        """The configured `hydra.sweep.subdir` with the trial's number as the job number."""
        template = str(self.config.hydra.sweep._get_node("subdir")._value())
        return template.replace("${hydra.job.num}", str(trial_number))

    def _job_folder_name(self, trial_number: int) -> str:
        """The job folder's name as Hydra resolves it (for tables)."""
        config = OmegaConf.create(OmegaConf.to_container(self.config, resolve=False))
        config.hydra.job.num = trial_number
        try:
            return str(
                OmegaConf.select(config, "hydra.sweep.subdir", throw_on_resolution_failure=True)
            )
        except Exception:  # an interpolation only a job can resolve: show the pattern
            return self._job_subdir(trial_number)

    # --- the loop ----------------------------------------------------------------------------

    def sweep(self, arguments: list[str]) -> None:
        import warnings

        import optuna
        from optuna.trial import TrialState

        # Retries (and some samplers' options) are marked experimental; they are what this relies on.
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        # This sweeper logs what the study holds itself; Optuna's own start-up lines say less.
        optuna.logging.set_verbosity(optuna.logging.WARNING)

        distributions, fixed = self._search_space(arguments)
        n_trials = self.n_trials
        check_storage(self._storage_url())  # a refused storage is left as it was, lock file and all
        with study_lock(self.sweep_dir):
            study = self._open_study(distributions)
            taken = self._take_back(study)
        _log_start(study, n_trials, taken)
        heartbeat = Heartbeat(study._storage, self.heartbeat_interval).start()
        waiting_logged = False
        try:
            while True:
                with study_lock(self.sweep_dir):
                    self._take_back(study)
                    trials = self._ask(study, n_trials, heartbeat)
                if trials:
                    waiting_logged = False
                    self._run(study, trials, distributions, fixed, heartbeat)
                    if stop_signals.requested():
                        # Ctrl-C, SIGTERM: no further trial. The interrupted ones stay RUNNING
                        # without a live process, so the same command takes them back and resumes
                        # each in its own folder (liveness.py).
                        raise StoppedError("the Optuna study stopped at a stop request")
                    continue
                running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                if not running:
                    break
                if not waiting_logged:
                    log.info(
                        f"Waiting for {len(running)} trial(s) that other processes are running "
                        f"(numbers {[t.number for t in running]}); a killed one is retried here."
                    )
                    waiting_logged = True
                time.sleep(self.poll_seconds)
        finally:
            heartbeat.stop()
        self._finish(study)

    def _take_back(self, study: Any) -> list[int]:
        return take_back_dead_trials(study, self.grace_period, self.max_retries)

    def _ask(self, study: Any, n_trials: int, heartbeat: Heartbeat) -> list[Any]:
        """Up to n_jobs trials to run now: retries first, then new trials up to n_trials in all."""
        from optuna.trial import TrialState

        trials = study.get_trials(deepcopy=False)
        waiting = sum(t.state == TrialState.WAITING for t in trials)
        missing = n_trials - len({first_attempt(t) for t in trials})
        asked = []
        for _ in range(min(self.n_jobs, waiting + max(0, missing))):
            # Seeded by how many configurations were asked before (a retry of a killed or stopped
            # trial is no new one): a resumed study draws what the uninterrupted one drew.
            asked_before = {first_attempt(t) for t in study.get_trials(deepcopy=False)}
            study.sampler = self._sampler(len(asked_before))
            trial = study.ask()
            study._storage.set_trial_system_attr(trial._trial_id, WORKER_ATTRIBUTE, this_worker())
            heartbeat.add(trial._trial_id)
            asked.append(trial)
        return asked

    def _run(
        self,
        study: Any,
        trials: list[Any],
        distributions: dict[str, Any],
        fixed: dict[str, Any],
        heartbeat: Heartbeat,
    ) -> None:
        from optuna.trial import TrialState

        batch = []
        for trial in trials:
            for name, distribution in distributions.items():
                trial._suggest(name, distribution)
            for name, value in fixed.items():
                trial.set_user_attr(name, value)
            overrides = [f"{name}={value}" for name, value in {**trial.params, **fixed}.items()]
            folder = first_attempt(trial)
            trial.set_user_attr(
                RUN_FOLDER_ATTRIBUTE, str(self.sweep_dir / self._job_folder_name(folder))
            )
            link = (
                job_environment(self._storage_url(), study.study_name, trial.number)
                if has_pruner(self.options)
                else []
            )
            batch.append((*overrides, f"hydra.sweep.subdir={self._job_subdir(folder)}", *link))
            retry = "" if folder == trial.number else f" (retry of trial {folder}, same folder)"
            log.info(f"Trial {trial.number}{retry}: {' '.join(overrides)}")
        returns = self.launcher.launch(batch, initial_job_idx=self.job_idx)
        self.job_idx += len(returns)
        stopping = stop_signals.requested()
        for trial, result in zip(trials, returns, strict=True):
            heartbeat.remove(trial._trial_id)
            value = None if result.status == JobStatus.FAILED else result.return_value
            values = _objective_values(value, len(self.directions))
            pruned_at = study._storage.get_trial(trial._trial_id).user_attrs.get(
                PRUNED_AT_ATTRIBUTE
            )
            if stopping and values is None and pruned_at is None:
                # Interrupted (or never started): not a failure. It stays RUNNING without a live
                # process, so the same command takes it back and resumes it in its own folder.
                study._storage.set_trial_system_attr(trial._trial_id, INTERRUPTED_ATTRIBUTE, True)
                continue
            if pruned_at is not None:
                study.tell(trial, state=TrialState.PRUNED)
                log.info(f"Trial {trial.number} was pruned after {pruned_at}.")
            elif values is None:
                study.tell(trial, state=TrialState.FAIL)
                log.warning(f"Trial {trial.number} failed (its job folder says why); going on.")
            else:
                study.tell(trial, values=values)

    def _finish(self, study: Any) -> None:
        from optuna.trial import TrialState

        write_study_table(study, self.sweep_dir, self._job_folder_name)
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete:
            log.warning("No trial of the study completed.")
            return
        if len(self.directions) == 1:
            best = study.best_trial
            results: dict[str, Any] = {
                "name": "optuna",
                "best_params": best.params,
                "best_value": best.value,
                "best_trial": best.number,
            }
            log.info(f"Best trial {best.number}: {best.params}, value {best.value}")
        else:
            results = {
                "name": "optuna",
                "solutions": [{"params": t.params, "values": t.values} for t in study.best_trials],
            }
        OmegaConf.save(OmegaConf.create(results), self.sweep_dir / "optimization_results.yaml")


def _objective_values(value: Any, count: int) -> list[float] | None:
    """The job's return value as `count` finite floats, or None (the trial failed)."""
    import math

    if value is None:
        return None
    raw = [value] if count == 1 else list(value)
    try:
        values = [float(v) for v in raw]
    except (TypeError, ValueError):
        return None
    if len(values) != count or not all(math.isfinite(v) for v in values):
        return None
    return values


def _log_start(study: Any, n_trials: int, taken: list[int]) -> None:
    from collections import Counter

    states = Counter(t.state.name.lower() for t in study.get_trials(deepcopy=False))
    so_far = ", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "none"
    log.info(f"Study {study.study_name}: trials so far: {so_far}; {n_trials} in all.")
    if taken:
        log.info(f"Trials {taken} were left running by a process that is gone; retrying them.")
