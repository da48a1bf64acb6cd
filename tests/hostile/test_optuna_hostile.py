"""Hostile inputs of Optuna searches, through the command as a user types it: a damaged or foreign
study storage, a storage URL nothing serves, bad sweeper options and a damaged study.csv are refused
in one paragraph, exit 2, and every folder is left byte-identical (the damaged file included)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from helpers import TEST_DATA
from hostile import assert_refused

# In this process, but each case composes the config and imports TensorFlow: seconds each.
pytestmark = pytest.mark.slow

DATA = TEST_DATA


def search(sweep: Path, *extra: str) -> tuple[str, ...]:
    return (
        "train",
        "-m",
        "experiment=c6e1",
        "hydra/sweeper=optuna_study",
        "optimizer.learning_rate=tag(log,interval(0.0001,0.01))",
        "trainer.epochs=1",
        f"data_dir={sweep.parent}",  # a folder that exists (a missing one is refused first)
        f"hydra.sweep.dir={sweep}",
        *extra,
    )


def test_a_sweep_folder_with_a_damaged_study_database_is_refused(tmp_path):
    sweep = tmp_path / "search"
    sweep.mkdir()
    (sweep / "optuna.db").write_bytes(b"\x00\xff these bytes are no database " * 40)
    assert_refused(tmp_path, search(sweep), "optuna.db cannot be read: file is not a database")


def test_a_study_database_of_optuna_2_is_refused_naming_the_upgrade_command(tmp_path):
    sweep = tmp_path / "search"
    sweep.mkdir()
    with sqlite3.connect(sweep / "optuna.db") as connection:
        connection.executescript((DATA / "optuna2_study.sql").read_text())
    assert_refused(
        tmp_path, search(sweep), f"optuna storage upgrade --storage sqlite:///{sweep}/optuna.db"
    )


def test_a_foreign_journal_is_refused(tmp_path):
    sweep = tmp_path / "search"
    sweep.mkdir()
    (sweep / "optuna.journal").write_text('{"not": "optuna"}\n')
    assert_refused(
        tmp_path,
        search(sweep, "hydra.sweeper.storage=journal"),
        "is not an Optuna journal (line 1",
    )


@pytest.mark.parametrize(
    ("option", "fragment"),
    [
        ("hydra.sweeper.storage=nosuchdb://host/study", "no database driver"),
        ("hydra.sweeper.storage=elsewhere", "names no storage"),
        ("hydra.sweeper.n_trials=-1", "hydra.sweeper.n_trials=-1 is not allowed"),
        ("hydra.sweeper.n_jobs=0", "hydra.sweeper.n_jobs=0 is not allowed"),
        ("hydra.sweeper.direction=sideways", "hydra.sweeper.direction=sideways is not a direction"),
        ("hydra.sweeper.pruner.n_warmup_steps=-1", "hydra.sweeper.pruner (MedianPruner)"),
    ],
)
def test_bad_sweeper_options_are_refused_before_the_sweep_folder_exists(tmp_path, option, fragment):
    arguments = search(tmp_path / "search", option)
    if "pruner." in option:
        arguments = (*arguments, "hydra/sweeper/pruner=median")
    assert_refused(tmp_path, arguments, fragment)
    assert not (tmp_path / "search").exists()


def test_a_damaged_study_table_is_refused_by_summarize(tmp_path):
    sweep = tmp_path / "search"
    job = sweep / "0_c6e1"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "overrides.yaml").write_text("- optimizer.learning_rate=0.001\n")
    (job / "metrics.json").write_text(json.dumps({"status": "completed", "val/loss": 1.0}))
    (sweep / "study.csv").write_bytes(b"\x00\x01garbage,\n\xff\xfe")
    assert_refused(tmp_path, ("summarize", sweep), "study.csv is not a table ldl wrote")
