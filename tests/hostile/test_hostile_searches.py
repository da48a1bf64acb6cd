"""Hostile inputs to the architecture search (`hparams_search=c17e4/c17e5`): every bad
`hydra.sweeper.*` value is refused before the sweep folder exists, naming the key; a search resumed
with other settings is refused naming what changed, its folder byte-identical; a search whose every
first candidate fails stops and names the failure; a damaged search_state.json is named; a garbage
multirun.yaml costs nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fixtures import write_cifar10_npz
from hostile import assert_clean, assert_refused, changed, run_cli, tree_digest

SEARCH = ("-m", "hparams_search=c17e4", "logger=none", "trainer.verbose=0")
# A search of three candidates, one epoch each, no retraining: seconds on a tiny CIFAR-10.
TINY = (
    "hydra.sweeper.candidate_evaluations=2",
    "hydra.sweeper.hill_climb_steps=1",
    "hydra.sweeper.eval_epochs=1",
    "hydra.sweeper.final_epochs=0",
    "hydra.sweeper.max_model_size=30000",
)

BAD_OPTIONS = [
    ("hydra.sweeper.candidate_evaluations=0", "hydra.sweeper.candidate_evaluations must be"),
    ("hydra.sweeper.candidate_evaluations=many", "hydra.sweeper.candidate_evaluations must be"),
    ("hydra.sweeper.hill_climb_steps=-1", "hydra.sweeper.hill_climb_steps must be"),
    ("hydra.sweeper.final_epochs=-1", "hydra.sweeper.final_epochs must be"),
    ("hydra.sweeper.eval_epochs=0", "hydra.sweeper.eval_epochs must be a whole number >= 1"),
    ("hydra.sweeper.neighbours_per_step=0", "hydra.sweeper.neighbours_per_step must be"),
    ("hydra.sweeper.population_size=3", "hydra.sweeper.population_size must be"),
    ("hydra.sweeper.seed=-7", "hydra.sweeper.seed must be"),
    ("hydra.sweeper.train_fraction=1.5", "hydra.sweeper.train_fraction must be a number in (0, 1]"),
    ("hydra.sweeper.train_fraction=0", "hydra.sweeper.train_fraction must be"),
    ("hydra.sweeper.selection_split=validation", "hydra.sweeper.selection_split='validation'"),
    ("hydra.sweeper.strategy=sideways", "hydra.sweeper.strategy='sideways' is not known"),
    ("hydra.sweeper.reproduce_aliasing_quirk=maybe", "hydra.sweeper.reproduce_aliasing_quirk"),
    ("hydra.sweeper.max_model_size=100", "below the smallest possible candidate (234"),
    ("hydra.sweeper.max_model_size=300", "none of 2000 random candidates"),
    ("+hydra.sweeper.eval_epoch=3", "hydra.sweeper.eval_epoch is not an option"),
]


@pytest.mark.parametrize(("option", "fragment"), BAD_OPTIONS, ids=[o for o, _ in BAD_OPTIONS])
def test_a_bad_search_option_is_refused_before_the_sweep_starts(world, option, fragment):
    outcome = assert_refused(world.root, ("train", *SEARCH, *TINY, option), fragment)
    assert "Error in call to target" not in outcome.err


def test_a_bad_option_of_the_evolutionary_search_is_refused_too(world):
    assert_refused(
        world.root,
        ("train", "-m", "hparams_search=c17e5", "hydra.sweeper.population_size=1"),
        "hydra.sweeper.population_size must be a whole number >= 4",
    )


# --- Whole searches on a tiny CIFAR-10 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_cifar(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny_cifar")
    write_cifar10_npz(directory, n_train=60, n_test=20)
    return directory


@pytest.fixture(scope="module")
def finished(tmp_path_factory, tiny_cifar) -> Path:
    root = tmp_path_factory.mktemp("search_world")
    outcome = run_cli(
        "train", *SEARCH, *TINY, f"data_dir={tiny_cifar}", "hydra.sweep.dir=search", cwd=root
    )
    assert_clean(outcome, 0)
    return root / "search"


def _copy(search: Path, tmp_path: Path) -> Path:
    return shutil.copytree(search, tmp_path / "search", symlinks=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ("hydra.sweeper.eval_epochs=2", "hydra.sweeper.eval_epochs was 1, now 2"),
        ("hydra.sweeper.train_fraction=0.5", "hydra.sweeper.train_fraction was None, now 0.5"),
        ("hydra.sweeper.seed=8", "hydra.sweeper.seed was 7, now 8"),
        ("trainer.batch_size=32", "added trainer.batch_size=32"),
    ],
)
def test_a_search_resumed_with_other_settings_is_refused(finished, tmp_path, tiny_cifar, change,
                                                         fragment):  # fmt: skip
    search = _copy(finished, tmp_path)
    arguments = (
        "train",
        *SEARCH,
        *TINY,
        change,
        f"data_dir={tiny_cifar}",
        f"hydra.sweep.dir={search}",
    )
    assert_refused(tmp_path, arguments, fragment, "Re-run it with its original settings")


@pytest.mark.slow
def test_a_search_resumed_with_its_settings_reads_its_scores(finished, tmp_path, tiny_cifar):
    search = _copy(finished, tmp_path)
    arguments = ("train", *SEARCH, *TINY, f"data_dir={tiny_cifar}", f"hydra.sweep.dir={search}")
    assert_clean(run_cli(*arguments, cwd=tmp_path), 0)
    before = json.loads((finished / "search_state.json").read_text())
    after = json.loads((search / "search_state.json").read_text())
    assert after["candidates"] == before["candidates"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("candidates", "fragment", "jobs"),
    [(20, "its first 2 candidates failed alike", 2), (2, "all 2 candidates of its first batch", 2)],
    ids=["two alike of twenty", "a whole batch of two"],
)
def test_a_search_whose_candidates_all_fail_stops_and_names_the_failure(
    world, tmp_path, candidates, fragment, jobs
):
    empty = tmp_path / "no_cifar"
    empty.mkdir()
    options = [o for o in TINY if "candidate_evaluations" not in o]
    before = tree_digest(world.root)
    outcome = run_cli(
        "train", *SEARCH, *options, f"hydra.sweeper.candidate_evaluations={candidates}",
        f"data_dir={empty}", "data.download=false", f"hydra.sweep.dir={tmp_path / 'search'}",
        cwd=tmp_path,
    )  # fmt: skip
    assert_clean(outcome, 2, "search stopped", fragment, "Cannot load the CIFAR-10")
    assert "best candidate" not in outcome.out
    assert len(list((tmp_path / "search").glob("*_c17e4"))) == jobs  # not all twenty trained
    assert changed(before, tree_digest(world.root)) == []


STATE_DAMAGES = {
    "no candidates": lambda state: state.pop("candidates"),
    "candidates not a list": lambda state: state.update(candidates="all of them"),
    "a candidate without layers": lambda state: state["candidates"][0].pop("layers"),
    "no strategy": lambda state: state.pop("strategy"),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", STATE_DAMAGES, ids=list(STATE_DAMAGES))
@pytest.mark.parametrize("command", ["summarize", "resume"])
def test_a_damaged_search_state_is_named(finished, tmp_path, tiny_cifar, damage, command):
    search = _copy(finished, tmp_path)
    path = search / "search_state.json"
    state = json.loads(path.read_text())
    STATE_DAMAGES[damage](state)
    path.write_text(json.dumps(state))
    if command == "summarize":
        arguments: tuple[str | Path, ...] = ("summarize", search)
    else:
        arguments = ("train", *SEARCH, *TINY, f"data_dir={tiny_cifar}", f"hydra.sweep.dir={search}")
    assert_refused(tmp_path, arguments, "search_state.json is damaged")


@pytest.mark.slow
@pytest.mark.parametrize("garbage", [b"\x00\xff garbage", b"hydra: [unclosed\n", b"42\n"])
def test_a_garbage_multirun_yaml_does_not_stop_summarize(finished, tmp_path, garbage):
    search = _copy(finished, tmp_path)
    (search / "multirun.yaml").write_bytes(garbage)
    (search / "search.csv").unlink()  # rewrite part of the results
    outcome = run_cli("summarize", search, cwd=tmp_path)
    assert_clean(outcome, 0, "Architecture search")
    assert (search / "search.csv").is_file()
    assert "experiment_id: c17_best_found" in (search / "best_experiment.yaml").read_text()
