"""ldl's reading of Hydra's sweep syntax into Optuna distributions, the sweeper's option checks, the
study storages it opens or refuses, importance and the pruned-trials table (no training here)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import optuna
import pandas as pd
import pytest
from helpers import REPO, TEST_DATA
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from ldl.errors import ConfigError
from ldl.sweeps.optuna_study.options import check_options
from ldl.sweeps.optuna_study.search_space import parse_search_space, space_changes, space_to_json
from ldl.sweeps.optuna_study.storage import StudyStorageError, open_storage, storage_url
from ldl.sweeps.optuna_study.table import (
    StudyTableError,
    study_summary_lines,
    write_importance,
)

DATA = TEST_DATA


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("a=interval(0.0, 0.5)", FloatDistribution(0.0, 0.5)),
        ("a=int(interval(1, 8))", IntDistribution(1, 8)),
        ("a=tag(log, interval(0.0001, 0.03))", FloatDistribution(0.0001, 0.03, log=True)),
        ("a=tag(log, int(interval(16, 512)))", IntDistribution(16, 512, log=True)),
        ("a=range(1, 10, 2)", IntDistribution(1, 9, step=2)),  # Python's range: 10 left out
        ("a=range(0, 4)", IntDistribution(0, 3)),
        ("a=range(0.1, 0.5, 0.1)", FloatDistribution(0.1, 0.4, step=0.1)),
        ("a=choice(sgd, adam)", CategoricalDistribution(["sgd", "adam"])),
        ("a=sgd,adam,rmsprop", CategoricalDistribution(["sgd", "adam", "rmsprop"])),
        ("a=choice([25], [64,64])", CategoricalDistribution(["[25]", "[64,64]"])),
        ("a=choice(0.001, 1e12)", CategoricalDistribution([0.001, 1e12])),
        ("a=1,2", CategoricalDistribution([1, 2])),
    ],
)
def test_every_form_of_hydras_sweep_syntax_becomes_its_optuna_distribution(override, expected):
    distributions, fixed = parse_search_space([override])
    assert distributions == {"a": expected} and fixed == {}


def test_values_that_are_not_swept_are_fixed_and_passed_on_as_written():
    distributions, fixed = parse_search_space(
        ["experiment=c6e1", "model.hidden_units=[64,64]", "optimizer.learning_rate=interval(0.1,1)"]
    )
    assert list(distributions) == ["optimizer.learning_rate"]
    assert fixed == {"experiment": "c6e1", "model.hidden_units": "[64,64]"}


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("a=interval(0.5, 0.1)", "needs low < high"),
        ("a=tag(log, interval(0.0, 1.0))", "needs low > 0"),
        ("a=tag(linear, interval(0.1, 1.0))", "only tag(log"),
        ("a=tag(log, choice(1, 2))", "only tag(log"),
        ("a=shuffle(1, 2)", "shuffle"),
        ("a=range(5, 1)", "holds no value"),
        ("a=choice(1, 1)", "repeat a value"),
        ("a=interval(0.1", "cannot be read"),
    ],
)
def test_a_search_space_optuna_cannot_sample_is_refused_in_words(override, fragment):
    with pytest.raises(ConfigError) as error:
        parse_search_space([override])
    assert fragment in str(error.value)


def test_a_changed_search_space_is_described_parameter_by_parameter():
    before = space_to_json(parse_search_space(["a=choice(sgd,adam)", "b=interval(0.1,1.0)"])[0])
    now = space_to_json(parse_search_space(["a=choice(sgd,rmsprop)", "c=int(interval(1,4))"])[0])
    assert space_changes(before, now) == [
        "a was choice(sgd, adam), now choice(sgd, rmsprop)",
        "b was searched (interval(0.1, 1.0)) and is not now",
        "c is searched now (int(interval(1, 4))) and was not",
    ]
    assert space_changes(before, before) == []


def sweeper_options(**changes):
    options = OmegaConf.load(REPO / "configs" / "hydra" / "sweeper" / "optuna_study.yaml")
    options.pop("defaults")
    options.sampler = {"_target_": "optuna.samplers.TPESampler", "seed": 0}
    options.pruner = {"_target_": "optuna.pruners.MedianPruner"}
    for key, value in changes.items():
        OmegaConf.update(options, key, value, force_add=True)
    return options


def test_the_sweepers_defaults_pass_its_checks():
    check_options(sweeper_options(), ["a=interval(0.1,1.0)"])


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"n_trials": -1}, "hydra.sweeper.n_trials=-1"),
        ({"n_jobs": 0}, "hydra.sweeper.n_jobs=0"),
        ({"n_trials": 2.5}, "hydra.sweeper.n_trials=2.5"),
        ({"direction": "sideways"}, "hydra.sweeper.direction=sideways"),
        ({"report_every": 0}, "hydra.sweeper.report_every=0"),
        ({"cv_steps": "batch"}, "hydra.sweeper.cv_steps=batch is not allowed: use fold or epoch"),
        ({"grace_period": 10}, "hydra.sweeper.grace_period=10 must exceed"),
        ({"poll_seconds": 0}, "hydra.sweeper.poll_seconds=0"),
        ({"storage": "nowhere"}, "hydra.sweeper.storage=nowhere names no storage"),
        ({"pruner.n_warmup_steps": -1}, "hydra.sweeper.pruner (MedianPruner) cannot be built"),
        ({"sampler.seed": "zero"}, "hydra.sweeper.sampler (TPESampler) cannot be built"),
        ({"direction": ["minimize", "maximize"]}, "several objectives cannot be pruned"),
        ({"sampler._target_": "optuna.samplers.GridSampler"}, "sampler=grid is not offered"),
        ({"params": {"a": "interval(1.0, 0.1)"}}, "a: interval(1.0, 0.1) needs low < high"),
    ],
)
def test_bad_sweeper_options_are_refused_naming_the_key(change, fragment):
    with pytest.raises(ConfigError) as error:
        check_options(sweeper_options(**change), [])
    assert fragment in str(error.value)


@pytest.mark.slow
def test_an_optuna_2_study_database_is_refused_naming_the_upgrade_command(tmp_path):
    database = tmp_path / "optuna.db"
    with sqlite3.connect(database) as connection:  # tables and rows as Optuna 2.10.1 wrote them
        connection.executescript((DATA / "optuna2_study.sql").read_text())
    url = storage_url(None, tmp_path)
    before = database.read_bytes()
    with pytest.raises(StudyStorageError) as error:
        open_storage(url)
    assert f"optuna storage upgrade --storage {url}" in str(error.value)
    assert database.read_bytes() == before  # refused without a write
    # The command it names makes the study usable, with its trials.
    import subprocess
    import sys

    optuna_command = str(Path(sys.executable).parent / "optuna")  # the optuna package's own CLI
    upgrade = [optuna_command, "storage", "upgrade", "--storage", url]
    assert subprocess.run(upgrade, capture_output=True, timeout=120).returncode == 0
    study = optuna.load_study(study_name="old_search", storage=open_storage(url))
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]


def test_a_damaged_database_a_foreign_journal_and_an_unknown_url_are_refused(tmp_path):
    (tmp_path / "optuna.db").write_bytes(b"these bytes are no SQLite database " * 50)
    with pytest.raises(StudyStorageError, match="cannot be read: file is not a database"):
        open_storage(storage_url(None, tmp_path))
    (tmp_path / "optuna.journal").write_text("a line of something else\n")
    with pytest.raises(StudyStorageError, match="line 1 is not one of its records"):
        open_storage(storage_url("journal", tmp_path))
    with pytest.raises(ConfigError, match="no database driver"):
        open_storage("nosuchdatabase://host/study")


def test_a_journal_file_holds_a_study_that_another_process_can_read(tmp_path):
    url = storage_url("journal", tmp_path)
    study = optuna.create_study(study_name="s", storage=open_storage(url))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert len(optuna.load_study(study_name="s", storage=open_storage(url)).trials) == 2


def test_importance_is_listed_most_important_first(tmp_path):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    # The objective depends strongly on x, weakly on y, not at all on z.
    study.optimize(
        lambda t: (
            10 * t.suggest_float("x", 0, 1)
            + 0.5 * t.suggest_float("y", 0, 1)
            + 0 * t.suggest_float("z", 0, 1)
        ),
        n_trials=30,
    )
    pd.DataFrame({"trial": [0], "state": ["complete"], "retry of": [None]}).to_csv(
        tmp_path / "study.csv", index=False
    )
    write_importance(study, tmp_path)
    text = "\n".join(study_summary_lines(tmp_path))
    assert "## Parameter importance" in text and "PED-ANOVA evaluator over 30 complete" in text
    rows = [line for line in text.splitlines() if line.startswith(("| x", "| y", "| z"))]
    assert rows[0].split("|")[1].strip() == "x"
    shares = pd.read_csv(tmp_path / "importance.csv")
    assert list(shares["importance"]) == sorted(shares["importance"], reverse=True)


def test_pruned_trials_are_listed_under_their_own_heading(tmp_path):
    pd.DataFrame(
        {
            "trial": [0, 1],
            "state": ["complete", "pruned"],
            "value": [0.5, 3.2],
            "job folder": ["0_c6e1", "1_c6e1"],
            "best": [True, False],
            "pruned at": ["", "fold 1 of 5"],
            "retry of": [None, None],
        }
    ).to_csv(tmp_path / "study.csv", index=False)
    text = "\n".join(study_summary_lines(tmp_path))
    assert "## Pruned trials" in text and "| 1 | 1_c6e1 | fold 1 of 5 | 3.2 |" in text
    assert "Best trial of the study: trial 0 in 0_c6e1" in text


def test_a_garbage_study_table_is_refused_in_one_paragraph(tmp_path):
    (tmp_path / "study.csv").write_bytes(b"\x00\x01garbage,\n\xff\xfe")
    with pytest.raises(StudyTableError, match="is not a table ldl wrote"):
        study_summary_lines(tmp_path)
