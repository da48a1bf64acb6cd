"""Chapter 17's architecture searches: the search space and its moves, the selection arithmetic, the
determinism of the candidate sequence, and whole searches through Hydra's launchers on a tiny CIFAR-10."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures import write_cifar10_npz
from helpers import compose_config, run_ldl, start_ldl

from ldl.errors import ConfigError
from ldl.models import build_model
from ldl.sweeps.architecture_search.space import (
    PARAMETERS,
    crossover,
    estimate_weights,
    first_dense_index,
    random_definition,
    to_layer_tokens,
    tweak,
)
from ldl.sweeps.architecture_search.strategies import (
    Scored,
    evolution,
    hill_climb,
    random_search,
    survivors,
)
from ldl.sweeps.architecture_search.sweeper import ArchitectureSearch


def well_formed(definition) -> bool:
    """At least one convolution/pooling layer, then at least one dense layer, values from the lists."""
    kinds = [layer["type"] for layer in definition]
    first_dense = kinds.index("DENSE") if "DENSE" in kinds else -1
    if first_dense < 1 or any(kind != "DENSE" for kind in kinds[first_dense:]):
        return False
    return all(
        layer[name] in values
        for layer in definition
        for name, values in PARAMETERS[layer["type"]].items()
    )


def test_the_weight_estimate_is_keras_s_count():
    cfg = compose_config("hparams_search=c17e4")
    rng = np.random.RandomState(0)
    checked = 0
    while checked < 12:
        definition = random_definition(rng)
        if estimate_weights(definition) > 300_000:  # keep the test's models small
            continue
        cfg.model.layers = to_layer_tokens(definition)
        model = build_model(cfg.model, cfg.initializer, (32, 32, 3), 10)
        assert model.count_params() == estimate_weights(definition), cfg.model.layers
        checked += 1


def test_random_definitions_and_tweaks_keep_the_layer_order_and_the_lists():
    rng = np.random.RandomState(7)
    for _ in range(300):
        definition = random_definition(rng)
        assert well_formed(definition) and 2 <= len(definition) <= 8
        for _ in range(5):
            tweak(rng, definition)
            assert well_formed(definition)


def test_a_parameter_tweak_steps_cyclically_through_its_list():
    definition = [{"type": "MAXPOOL2D", "kernel": 4, "stride": 1, "dropout": 0.9},
                  {"type": "DENSE", "size": 16, "activation": "relu", "dropout": 0.0}]  # fmt: skip
    seen = set()
    for seed in range(200):
        changed = copy.deepcopy(definition)
        tweak(np.random.RandomState(seed), changed)
        if len(changed) == 2:  # a parameter move, not an added or removed layer
            differences = [
                (layer["type"], name, before[name], layer[name])
                for before, layer in zip(definition, changed, strict=True)
                for name in layer
                if layer[name] != before[name]
            ]
            assert len(differences) == 1
            seen.add(differences[0])
    # Kernel 4 is the last value: +1 wraps to 1; size 16 is the first: -1 wraps to 4096.
    assert ("MAXPOOL2D", "kernel", 4, 1) in seen and ("MAXPOOL2D", "kernel", 4, 3) in seen
    assert ("DENSE", "size", 16, 4096) in seen and ("DENSE", "size", 16, 64) in seen
    assert ("MAXPOOL2D", "dropout", 0.9, 0.0) in seen


def test_removing_layers_never_removes_the_last_of_either_kind():
    rng = np.random.RandomState(3)
    for _ in range(500):
        definition = [{"type": "CONV2D", "size": 16, "activation": "relu", "kernel": 1,
                       "stride": 1, "dropout": 0.0},
                      {"type": "DENSE", "size": 16, "activation": "relu", "dropout": 0.0},
                      {"type": "DENSE", "size": 16, "activation": "tanh", "dropout": 0.0}]  # fmt: skip
        for _ in range(20):
            tweak(rng, definition)
            assert well_formed(definition)


def test_crossover_children_are_made_of_the_parents_parts():
    rng = np.random.RandomState(11)
    for _ in range(200):
        parents = [random_definition(rng), random_definition(rng)]
        child = crossover(rng, parents[0], parents[1], max_size=10**9)
        assert well_formed(child)
        bottoms = [p[: first_dense_index(p)] for p in parents]
        tops = [p[first_dense_index(p) :] for p in parents]
        bottom, top = child[: first_dense_index(child)], child[first_dense_index(child) :]
        assert bottom in (*bottoms, bottoms[0] + bottoms[1], bottoms[1] + bottoms[0])
        assert top in (*tops, tops[0] + tops[1], tops[1] + tops[0])
        combined = len(child) == len(parents[0]) + len(parents[1])
        assert combined or (bottom, top) in ((bottoms[0], tops[1]), (bottoms[1], tops[0]))


def test_crossover_does_not_combine_parents_that_are_too_large_together():
    rng = np.random.RandomState(5)
    for _ in range(100):
        parents = [random_definition(rng), random_definition(rng)]
        child = crossover(rng, parents[0], parents[1], max_size=1)
        assert len(child) < len(parents[0]) + len(parents[1])


def test_selection_keeps_20_discards_30_and_samples_30():
    rng = np.random.RandomState(0)
    population = [Scored(float(score), [{"id": score}]) for score in rng.permutation(100)]
    chosen = survivors(np.random.RandomState(1), population)
    scores = [member.score for member in chosen]
    assert len(chosen) == 50
    assert scores[30:] == [float(s) for s in range(80, 100)]  # the best 20, ascending, last
    assert all(30 <= s < 80 for s in scores[:30]) and len(set(scores[:30])) == 30
    assert not any(s < 30 for s in scores)  # the worst 30 are gone


def score_by_shape(definitions, phase):
    """A deterministic stand-in score for strategy tests: larger networks score higher, capped."""
    return [min(0.9, estimate_weights(d) / 200_000) for d in definitions]


def test_the_same_seed_draws_the_same_candidates():
    def run(seed):
        seen = []

        def evaluate(definitions, phase):
            seen.extend(to_layer_tokens(d) for d in definitions)
            return score_by_shape(definitions, phase)

        rng = np.random.RandomState(seed)
        best = random_search(rng, evaluate, 6, 500_000)
        best = hill_climb(rng, evaluate, best, 6, 500_000)
        return seen, best

    first, second, other = run(7), run(7), run(8)
    assert first[0] == second[0] and first[1].score == second[1].score
    assert first[0] != other[0]


def test_hill_climbing_never_loses_the_best_and_the_aliasing_quirk_changes_it():
    rng = np.random.RandomState(2)
    start = Scored(1.0, random_definition(rng))  # nothing can beat a perfect score
    kept = hill_climb(np.random.RandomState(3), score_by_shape, start, 4, 500_000)
    assert kept.definition == start.definition and kept.score == 1.0
    quirk = hill_climb(np.random.RandomState(3), score_by_shape, start, 4, 500_000,
                       reproduce_aliasing_quirk=True)  # fmt: skip
    assert quirk.score == 1.0 and quirk.definition != start.definition


def test_evolution_keeps_its_population_size_and_its_best():
    bests = []

    def evaluate(definitions, phase):
        scores = score_by_shape(definitions, phase)
        bests.append(max(scores))
        return scores

    population = evolution(np.random.RandomState(7), evaluate, 8, 4, 500_000)
    assert len(population) == 8  # half of parents and children survive: the population size
    # Elitism: the best of the final population is the best ever evaluated.
    assert max(member.score for member in population) == max(bests)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"strategy": "annealing"}, "strategy='annealing' is not known"),
        ({"selection_split": "train"}, "selection_split='train' is not known"),
        ({"population_size": 2}, "population_size must be a whole number >= 4"),
    ],
)
def test_bad_search_options_are_refused(option, message):
    with pytest.raises(ConfigError, match=message):
        ArchitectureSearch(**option)


# --- whole searches, candidates as jobs ---------------------------------------------------------

SMALL = (
    "hydra.sweeper.candidate_evaluations=3",
    "hydra.sweeper.hill_climb_steps=2",
    "hydra.sweeper.eval_epochs=1",
    "hydra.sweeper.final_epochs=1",
    "hydra.sweeper.max_model_size=30000",
    "trainer.verbose=0",
)


@pytest.fixture(scope="module")
def tiny_cifar(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny_cifar")
    write_cifar10_npz(directory, n_train=60, n_test=20)
    return directory


def search(tmp: Path, data: Path, *extra: str, folder: str = "search"):
    return run_ldl(
        "train", "-m", "hparams_search=c17e4", f"data_dir={data}", *SMALL, *extra,
        f"output_root={tmp}", f"hydra.sweep.dir={tmp / folder}", cwd=tmp, timeout=600,
    )  # fmt: skip


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory, tiny_cifar) -> Path:
    tmp = tmp_path_factory.mktemp("searches")
    result = search(tmp, tiny_cifar)
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp / "search"


@pytest.mark.slow
def test_a_search_leaves_its_table_plot_and_best_experiment(finished_search):
    table = pd.read_csv(finished_search / "search.csv")
    assert table["phase"].tolist() == ["random"] * 3 + ["hill_climb"] * 2 + ["final"]
    assert (table["status"] == "completed").all()
    assert (table["weights"] == table["estimated_weights"]).all()
    for name in ("search.md", "search_progress.png", "best_experiment.yaml", "search_state.json"):
        assert (finished_search / name).exists()
    assert any((finished_search / "tensorboard").iterdir())
    best = (finished_search / "best_experiment.yaml").read_text()
    assert "model:\n  layers: [" in best


@pytest.mark.slow
def test_the_search_climbs_from_the_scores_its_candidates_reached(finished_search):
    # The search decides on the scores it reads back from each candidate's job folder. When it read
    # none (every candidate scored 0), random search kept its first candidate, hill climbing never
    # moved and the final model was candidate 0, whatever the candidates had reached.
    table = pd.read_csv(finished_search / "search.csv")
    searched = table[table["phase"] != "final"]
    assert searched["score"].max() > 0, "no candidate learned anything: the check below is empty"
    state = json.loads((finished_search / "search_state.json").read_text())
    assert state["best_score"] == pytest.approx(searched["score"].max(), abs=1e-4)
    # The final model is one of the best candidates (several can tie on a tiny test set).
    best = searched[searched["score"] == searched["score"].max()]
    assert table.iloc[-1]["layers"] in best["layers"].tolist()


@pytest.mark.slow
def test_a_killed_search_resumes_to_the_uninterrupted_sequence(
    finished_search, tmp_path, tiny_cifar
):
    process = start_ldl("train", "-m", "hparams_search=c17e4", f"data_dir={tiny_cifar}", *SMALL,
                        f"output_root={tmp_path}", f"hydra.sweep.dir={tmp_path / 'search'}",
                        cwd=tmp_path)  # fmt: skip
    deadline = time.monotonic() + 300
    while not (tmp_path / "search" / "2_c17e4" / "metrics.json").exists():  # two candidates done
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    again = search(tmp_path, tiny_cifar)
    assert again.returncode == 0, again.stderr[-3000:]
    resumed = pd.read_csv(tmp_path / "search" / "search.csv")
    uninterrupted = pd.read_csv(finished_search / "search.csv")
    pd.testing.assert_series_equal(resumed["layers"], uninterrupted["layers"])
    pd.testing.assert_series_equal(resumed["score"], uninterrupted["score"])
    # The saved generator state is the uninterrupted search's, candidate for candidate.
    state = json.loads((tmp_path / "search" / "search_state.json").read_text())
    whole = json.loads((finished_search / "search_state.json").read_text())
    assert state["random_state"] == whole["random_state"]


@pytest.mark.slow
def test_sigterm_ends_a_search_and_the_same_command_continues_it(
    finished_search, tmp_path, tiny_cifar
):
    # `timeout`, SLURM's pre-emption: SIGTERM to the search's process. The search stops (no further
    # candidate), the candidate in progress is interrupted, not failed, and the same command goes on
    # to the uninterrupted search's sequence.
    process = start_ldl("train", "-m", "hparams_search=c17e4", f"data_dir={tiny_cifar}", *SMALL,
                        f"output_root={tmp_path}", f"hydra.sweep.dir={tmp_path / 'search'}",
                        cwd=tmp_path, stderr=subprocess.PIPE)  # fmt: skip
    deadline = time.monotonic() + 300
    while not (tmp_path / "search" / "1_c17e4" / "metrics.json").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130 and "Traceback" not in stderr, stderr
    assert "Stopped by SIGTERM: the sweep" in stderr, stderr
    folders = sorted(p.name for p in (tmp_path / "search").iterdir() if p.name.endswith("_c17e4"))
    assert len(folders) <= 3, folders  # at most the candidate after the one it waited for
    statuses = [
        json.loads((tmp_path / "search" / name / "metrics.json").read_text()).get("status")
        for name in folders
        if (tmp_path / "search" / name / "metrics.json").exists()
    ]
    assert "failed" not in statuses, statuses
    again = search(tmp_path, tiny_cifar)
    assert again.returncode == 0, again.stderr[-3000:]
    resumed = pd.read_csv(tmp_path / "search" / "search.csv")
    uninterrupted = pd.read_csv(finished_search / "search.csv")
    pd.testing.assert_series_equal(resumed["layers"], uninterrupted["layers"])
    pd.testing.assert_series_equal(resumed["score"], uninterrupted["score"])


@pytest.mark.slow
def test_a_failed_candidate_scores_zero_and_the_search_goes_on(tmp_path, tiny_cifar):
    # Candidate 1's job failed in an earlier run of this search (here: written as a failed run).
    failed = tmp_path / "search" / "1_c17e4"
    failed.mkdir(parents=True)
    (failed / "metrics.json").write_text('{"status": "failed", "error": "out of memory"}')
    result = search(tmp_path, tiny_cifar)
    assert result.returncode == 0, result.stderr[-3000:]
    table = pd.read_csv(tmp_path / "search" / "search.csv")
    assert table.loc[1, "status"] == "failed" and table.loc[1, "score"] == 0.0
    assert len(table) == 6 and table.loc[5, "phase"] == "final"


@pytest.mark.slow
def test_the_parallel_launcher_runs_the_same_search(finished_search, tmp_path, tiny_cifar):
    result = search(tmp_path, tiny_cifar, "hydra/launcher=parallel")
    assert result.returncode == 0, result.stderr[-3000:]
    parallel = pd.read_csv(tmp_path / "search" / "search.csv")
    sequential = pd.read_csv(finished_search / "search.csv")
    pd.testing.assert_series_equal(parallel["layers"], sequential["layers"])
    np.testing.assert_allclose(parallel["score"], sequential["score"], atol=1e-6)


@pytest.mark.slow
def test_summarize_rebuilds_the_search_results(finished_search):
    (finished_search / "search.csv").unlink()
    result = run_ldl("summarize", str(finished_search))
    assert result.returncode == 0, result.stderr
    assert "Architecture search" in result.stdout and (finished_search / "search.csv").exists()


class DyingLauncher:
    """A launcher whose jobs' processes are killed (as the system does when memory runs out): it
    raises without any job leaving a result."""

    def launch(self, job_overrides, initial_job_idx):
        raise RuntimeError("job process was killed (signal 9)")


def test_a_killed_job_process_scores_zero_and_the_search_goes_on(tmp_path):
    from ldl.sweeps.architecture_search.sweeper import JobEvaluator

    state = {"candidates": [], "best_score": 0.0}
    evaluate = JobEvaluator(
        DyingLauncher(), tmp_path, "c17e4", [], [], state, np.random.RandomState(7)
    )
    definitions = [random_definition(np.random.RandomState(seed)) for seed in range(3)]
    assert evaluate(definitions, "random") == [0.0, 0.0, 0.0]
    for index in range(3):
        metrics = json.loads((tmp_path / f"{index}_c17e4" / "metrics.json").read_text())
        assert metrics["status"] == "failed" and "killed" in metrics["error"]
    # A re-run reads the failures instead of launching the jobs again.
    again = JobEvaluator(
        DyingLauncher(), tmp_path, "c17e4", [], [], state, np.random.RandomState(7)
    )
    assert again(definitions, "random") == [0.0, 0.0, 0.0]
