"""A Hydra sweeper that runs chapter 17's architecture searches through the configured launcher.

Every candidate is a job of the sweep: `model=cnn` with the candidate's layers, trained for
`eval_epochs` into its own run folder, scored by its last epoch's validation accuracy. Random search and
each evolutionary generation launch their candidates as one batch, hill climbing one (or
`neighbours_per_step`) at a time, so the basic, parallel, isolated, SLURM and Ray launchers all run the
same search unchanged. The candidates come from one seeded RandomState; a re-run of the same command
replays the draws and reads the scores of finished candidates from their run folders instead of
training them again, so a killed search continues exactly where it stopped. A candidate whose job fails
scores 0 and the search goes on. At the end the best definition is retrained for `final_epochs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from hydra.core.plugins import Plugins
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from ldl.errors import ConfigError, RunFolderError, StoppedError
from ldl.runs.files import read_json, write_json
from ldl.sweeps.architecture_search.options import parse_options
from ldl.sweeps.architecture_search.results import write_search_results
from ldl.sweeps.architecture_search.space import Definition, estimate_weights, to_layer_tokens
from ldl.sweeps.architecture_search.state import (
    STATE_FILE,
    failure_of,
    finished_score,
    job_folder,
    read_state,
)
from ldl.sweeps.architecture_search.strategies import Scored, evolution, hill_climb, random_search
from ldl.training import stop_signals


class JobEvaluator:
    """Evaluates definitions as jobs of the sweep, numbering them in the order they are asked for."""

    def __init__(
        self,
        launcher: Any,
        sweep_dir: Path,
        experiment_id: str,
        arguments: Sequence[str],
        candidate_overrides: Sequence[str],
        state: dict[str, Any],
        rng: np.random.RandomState,
    ) -> None:
        self.rng = rng
        self.launcher = launcher
        self.sweep_dir = sweep_dir
        self.experiment_id = experiment_id
        self.arguments = list(arguments)
        self.candidate_overrides = list(candidate_overrides)
        self.state = state
        self.next_index = 0

    def overrides(self, definition: Definition, extra: Sequence[str]) -> list[str]:
        layers = ",".join(to_layer_tokens(definition))
        return [*self.arguments, f"model.layers=[{layers}]", *extra]

    def __call__(self, definitions: Sequence[Definition], phase: str) -> list[float]:
        first = self.next_index
        self.next_index += len(definitions)
        indexes = list(range(first, self.next_index))
        for index, definition in zip(indexes, definitions, strict=True):
            self._record(index, phase, definition)
        batch = [self.overrides(d, self.candidate_overrides) for d in definitions]
        scores = self._run(indexes, batch)
        for index, score in zip(indexes, scores, strict=True):
            best = max(self.state["best_score"], score)
            self.state["best_score"] = best
            print(f"candidate {index} ({phase}): validation accuracy {score:.4f}, best {best:.4f}")
        self._save_state()
        return scores

    def final(self, definition: Definition, final_overrides: Sequence[str]) -> float:
        index = self.next_index
        self.next_index += 1
        self._record(index, "final", definition)
        self.state["final_index"] = index
        score = self._run([index], [self.overrides(definition, final_overrides)])[0]
        self._save_state()
        return score

    def _record(self, index: int, phase: str, definition: Definition) -> None:
        candidates = self.state["candidates"]
        record = {
            "index": index,
            "phase": phase,
            "layers": to_layer_tokens(definition),
            "estimated_weights": estimate_weights(definition),
        }
        if index < len(candidates):
            if candidates[index]["layers"] != record["layers"]:
                raise ConfigError(
                    f"{self.sweep_dir} holds a different architecture search (candidate {index} "
                    "differs). Re-run it with its original overrides, or start a new sweep folder."
                )
            return
        candidates.append(record)

    def _run(self, indexes: list[int], batch: list[list[str]]) -> list[float]:
        """Launch the jobs that have not finished, in runs of consecutive indexes."""
        scores = {
            i: finished_score(job_folder(self.sweep_dir, i, self.experiment_id)) for i in indexes
        }
        pending = [position for position, i in enumerate(indexes) if scores[i] is None]
        for run in _consecutive(pending):
            try:
                self.launcher.launch([batch[p] for p in run], initial_job_idx=indexes[run[0]])
            except Exception as error:  # e.g. the system killed a candidate's process (memory)
                if stop_signals.requested():
                    break
                self._record_unfinished_as_failed([indexes[p] for p in run], error)
            if stop_signals.requested():
                break
            for p in run:
                folder = job_folder(self.sweep_dir, indexes[p], self.experiment_id)
                scores[indexes[p]] = finished_score(folder) or 0.0  # a job that died scores 0
        if stop_signals.requested():
            # Ctrl-C or SIGTERM: no further candidate; the interrupted one is neither scored nor
            # failed, so the same command resumes it and goes on with the search.
            raise StoppedError("the architecture search stopped at a stop request")
        return [float(scores[i] or 0.0) for i in indexes]

    def _record_unfinished_as_failed(self, indexes: list[int], error: Exception) -> None:
        """A launcher that fails takes no candidate's score with it: each unfinished job of the batch
        is recorded as failed (score 0), so the search goes on and a re-run does not retry it."""
        for index in indexes:
            folder = job_folder(self.sweep_dir, index, self.experiment_id)
            if finished_score(folder) is None:
                folder.mkdir(parents=True, exist_ok=True)
                metrics = (
                    read_json(folder / "metrics.json") if (folder / "metrics.json").exists() else {}
                )
                write_json(
                    folder / "metrics.json", {**metrics, "status": "failed", "error": str(error)}
                )
                print(f"candidate {index}: its job ended without a result ({error}); it scores 0.")

    def _save_state(self) -> None:
        """The candidates so far and the generator's state after drawing them (a re-run replays the
        draws from the seed and reaches this same state at the same candidate)."""
        name, keys, position, has_gauss, cached = self.rng.get_state()
        self.state["random_state"] = {
            "after_candidates": self.next_index,
            "state": [name, [int(k) for k in keys], int(position), int(has_gauss), float(cached)],
        }
        write_json(self.sweep_dir / STATE_FILE, self.state)


def _consecutive(positions: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for position in positions:
        if runs and runs[-1][-1] == position - 1:
            runs[-1].append(position)
        else:
            runs.append([position])
    return runs


class ArchitectureSearch:
    """Chapter 17's searches, one job per candidate (Hydra's `hydra/sweeper=architecture_search`);
    the options are `SearchOptions`' (ldl.sweeps.architecture_search.options)."""

    @staticmethod
    def check_options(options: Mapping[str, Any]) -> None:
        """Refuse bad `hydra.sweeper.*` values before the sweep starts (called by `ldl train`)."""
        parse_options(options)

    def __init__(self, **options: Any) -> None:
        parsed = parse_options(options)
        self.options = parsed
        self.strategy = parsed.strategy
        self.seed = parsed.seed
        self.candidate_evaluations = parsed.candidate_evaluations
        self.hill_climb_steps = parsed.hill_climb_steps
        self.neighbours_per_step = parsed.neighbours_per_step
        self.population_size = parsed.population_size
        self.eval_epochs = parsed.eval_epochs
        self.final_epochs = parsed.final_epochs
        self.max_model_size = parsed.max_model_size
        self.train_fraction = parsed.train_fraction
        self.selection_split = parsed.selection_split
        self.reproduce_aliasing_quirk = parsed.reproduce_aliasing_quirk
        self.config: DictConfig | None = None
        self.launcher: Any = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def candidate_overrides(self) -> list[str]:
        """How every candidate trains: eval_epochs, no shuffling (the book's), one seed for all."""
        overrides = [
            f"trainer.epochs={self.eval_epochs}",
            "trainer.shuffle=false",
            f"trainer.seed={self.seed}",
            f"trainer.validation={self.selection_split}",
        ]
        if self.train_fraction is not None and self.train_fraction < 1:
            overrides.append(f"data.train_fraction={self.train_fraction}")
        return overrides

    def final_overrides(self) -> list[str]:
        """The best definition's retraining: final_epochs on all training data, shuffled, tested."""
        return [
            f"trainer.epochs={self.final_epochs}",
            "trainer.shuffle=true",
            f"trainer.seed={self.seed}",
            "trainer.validation=test",
        ]

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None  # setup() comes first (Hydra's contract)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        state = self._load_state(sweep_dir, arguments)  # refused: the folder stays as it was
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        rng = np.random.RandomState(self.seed)
        evaluate = JobEvaluator(
            self.launcher, sweep_dir, str(self.config.experiment_id), arguments,
            self.candidate_overrides(), state, rng,
        )  # fmt: skip
        best = self._search(rng, evaluate)
        state["best"] = {"score": best.score, "layers": to_layer_tokens(best.definition)}
        print(f"best candidate: validation accuracy {best.score:.4f}: {state['best']['layers']}")
        if self.final_epochs > 0:
            final = evaluate.final(best.definition, self.final_overrides())
            print(f"the best definition after {self.final_epochs} epochs: {final:.4f}")
        write_search_results(sweep_dir)
        return state

    def _search(self, rng: np.random.RandomState, jobs: JobEvaluator) -> Scored:
        evaluate = _StopWhenNothingTrains(jobs)
        if self.strategy == "evolution":
            generations = max(1, self.candidate_evaluations // self.population_size)
            population = evolution(
                rng, evaluate, self.population_size, generations, self.max_model_size,
                self.options.space, self.options.variation,
            )  # fmt: skip
            return max(reversed(population), key=lambda member: member.score)
        space = self.options.space
        best = random_search(rng, evaluate, self.candidate_evaluations, self.max_model_size, space)
        if self.strategy == "random":
            return best
        return hill_climb(
            rng, evaluate, best, self.hill_climb_steps, self.max_model_size,
            self.neighbours_per_step, self.reproduce_aliasing_quirk, space,
        )  # fmt: skip

    def _load_state(self, sweep_dir: Path, arguments: Sequence[str]) -> dict[str, Any]:
        """The state of an earlier, possibly killed, run of this search, or a fresh one. A folder
        whose search had other settings or other overrides is refused, naming what changed: its
        scores would mean something else than the new ones."""
        settings = {**self.options.settings(), "arguments": _scoring_overrides(arguments)}
        path = sweep_dir / STATE_FILE
        if not path.exists():
            return {
                **settings,
                "experiment_id": str(self.config.experiment_id) if self.config else "",
                "candidates": [],
                "best_score": 0.0,
                "final_index": None,
            }
        state = read_state(sweep_dir)
        # A key an older ldl did not record cannot be compared; the candidates' layers still are.
        changes = [
            _change(key, state[key], value)
            for key, value in settings.items()
            if key in state and state[key] != value
        ]
        if changes:
            raise ConfigError(
                f"{sweep_dir} holds an architecture search with other settings ({'; '.join(changes)}): "
                "its candidates' scores would be mixed with new ones. Re-run it with its original "
                "settings to resume it, or give the new search another folder "
                "(hydra.sweep.dir=<new folder>)."
            )
        return {**state, "best_score": 0.0}


# Overrides that do not change what a candidate scores: a resumed search may change them.
_UNSCORED_KEYS = ("data_dir", "output_root", "logger", "trainer.verbose", "trainer.threads")


def _scoring_overrides(arguments: Sequence[str]) -> list[str]:
    return sorted(a for a in arguments if a.split("=", 1)[0].lstrip("+~") not in _UNSCORED_KEYS)


def _change(key: str, before: Any, now: Any) -> str:
    if key != "arguments":
        return f"hydra.sweeper.{key} was {before!r}, now {now!r}"
    added = [o for o in now if o not in before]
    removed = [o for o in before if o not in now]
    parts = ([f"added {' '.join(added)}"] if added else []) + (
        [f"without {' '.join(removed)}"] if removed else []
    )
    return f"the overrides changed ({', '.join(parts)})"


class _StopWhenNothingTrains:
    """Ends the search when its first candidates fail alike: a missing dataset or a broken option
    fails every candidate, and a search that went on would train (and fail) all of its first batch,
    then report the best of failures. The first batch's first two candidates run alone; when both
    fail with the same error, or every candidate of the first batch fails, the search stops and
    names the error its first job recorded. (Running them alone changes no number: the candidates
    are drawn before the batch and keep their job numbers.)"""

    def __init__(self, evaluate: JobEvaluator) -> None:
        self.evaluate = evaluate
        self.checked = False

    def __call__(self, definitions: Sequence[Definition], phase: str) -> list[float]:
        if self.checked:
            return self.evaluate(definitions, phase)
        self.checked = True
        first = self.evaluate.next_index
        scores: list[float] = []
        failures: list[str] = []
        alone = 0
        while alone < min(2, len(definitions) - 1):
            scores += self.evaluate([definitions[alone]], phase)
            failure = failure_of(self._folder(first + alone))
            alone += 1
            if failure is None:
                break
            failures.append(failure)
        if len(failures) == 2 and failures[0] == failures[1]:
            raise self._stopped(f"its first {len(failures)} candidates failed alike", first)
        scores += self.evaluate(definitions[alone:], phase)
        indexes = range(first, first + len(definitions))
        if all(failure_of(self._folder(index)) is not None for index in indexes):
            raise self._stopped(
                f"all {len(definitions)} candidates of its first batch failed", first
            )
        return scores

    def _folder(self, index: int) -> Path:
        return job_folder(self.evaluate.sweep_dir, index, self.evaluate.experiment_id)

    def _stopped(self, what: str, first: int) -> RunFolderError:
        return RunFolderError(
            f"The architecture search stopped: {what}. The first ({self._folder(first)}) failed "
            f"with: {failure_of(self._folder(first))} Fix that (a data_dir without the dataset "
            f"fails every candidate), then delete {self.evaluate.sweep_dir} and run the search again."
        )
