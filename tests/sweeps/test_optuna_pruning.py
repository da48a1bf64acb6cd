"""Pruned Optuna searches end to end: a planted configuration that cannot learn (learning rate 1e-9)
is pruned at its first epoch (fit() and the graph loop) or after its first fold (cv.fold=all); a
search killed with SIGKILL resumes without re-running the pruned trial; and the dashboard serves the
study over HTTP."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from helpers import assert_clean_error, run_ldl, start_ldl
from test_optuna_study import only_sweep_folder, start_search, study_trials, wait_for

# Random sampling seeded with 2 (+ the trial number) draws 0.01, 1e-9, 0.01: trial 1 cannot learn.
# The median pruner may prune once one trial has completed.
PLANTED = [
    "train",
    "-m",
    "experiment=c6e1",
    "hydra/sweeper=optuna_study",
    "hydra/sweeper/sampler=random",
    "hydra.sweeper.sampler.seed=2",
    "hydra/sweeper/pruner=median",
    "hydra.sweeper.pruner.n_startup_trials=1",
    "optimizer.learning_rate=choice(0.01,1e-9)",
    "trainer.seed=0",
    "trainer.verbose=0",
]


def tensorboard_text(folder: Path) -> str:
    """The text summaries of the event files directly in `folder`."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    texts = []
    for path in folder.glob("events.out.tfevents*"):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "text":
                    texts.append(tensor_util.make_ndarray(value.tensor).item().decode())
    return "\n".join(texts)


def read_metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("loop", ["graph", "fit"])
def test_a_trial_that_cannot_learn_is_pruned_at_its_first_epoch(tmp_path, boston_dir, loop):
    result = run_ldl(
        *PLANTED,
        f"data_dir={boston_dir}",
        "hydra.sweeper.n_trials=3",
        "trainer.epochs=20",
        f"trainer.loop={loop}",
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    folder = only_sweep_folder(tmp_path)
    trials = study_trials(folder)
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED", "COMPLETE"]
    assert list(trials[1].intermediate_values) == [0]  # reported once, at epoch 1, then stopped
    pruned = read_metrics(folder / "1_c6e1")
    assert pruned["status"] == "pruned" and pruned["pruned_at"] == "epoch 1"
    assert pruned["epochs_completed"] == 1
    # Stopped where pruned, its model saved at that epoch, as early stopping would leave it.
    assert len(pd.read_csv(folder / "1_c6e1" / "history.csv")) == 1
    assert (folder / "1_c6e1" / "model.keras").is_file()
    assert read_metrics(folder / "0_c6e1")["epochs_completed"] == 20
    # Every trial knows its job folder; summary.md lists the pruned one apart and never ranks it.
    assert [t.user_attrs["ldl_run_folder"] for t in trials] == [
        str(folder / f"{n}_c6e1") for n in range(3)
    ]
    summary = (folder / "summary.md").read_text()
    assert "## Pruned trials" in summary and "| 1 | 1_c6e1 | epoch 1 |" in summary
    assert "Optuna study: 3 trials (2 complete, 1 pruned)" in summary
    assert "## Pruned trials" in tensorboard_text(folder)  # TensorBoard's text tab too
    ranked = summary.split("Not ranked")[0]
    assert "1e-09" not in ranked.split("| configuration |", 1)[1]


@pytest.mark.slow
def test_a_killed_kfold_search_prunes_after_the_first_fold_and_resumes(tmp_path, boston_dir):
    arguments = [
        *PLANTED,
        f"data_dir={boston_dir}",
        "cv.fold=all",
        "cv.k=3",
        "trainer.epochs=30",
        "hydra.sweeper.n_trials=3",
    ]
    first = start_search(arguments, tmp_path)
    try:
        # Kill the search (SIGKILL) once trial 2 has saved an epoch of its first fold.
        wait_for("outputs/multirun/*/2_c6e1/fold_0/checkpoint/state.json", tmp_path, timeout=300)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    folder = only_sweep_folder(tmp_path)
    assert [t.state.name for t in study_trials(folder)] == ["COMPLETE", "PRUNED", "RUNNING"]
    pruned = read_metrics(folder / "1_c6e1")
    assert pruned["status"] == "pruned" and pruned["pruned_at"] == "fold 1 of 3"
    assert sorted(p.name for p in (folder / "1_c6e1").glob("fold_*")) == ["fold_0"]

    again = run_ldl(*arguments, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr
    trials = study_trials(folder)
    # The pruned trial is never re-run; the killed one is retried in its folder and completes.
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED", "FAIL", "COMPLETE"]
    assert sorted(p.name for p in (folder / "1_c6e1").glob("fold_*")) == ["fold_0"]
    assert read_metrics(folder / "2_c6e1")["status"] == "completed"
    assert list(trials[1].intermediate_values) == [0]
    assert list(trials[3].intermediate_values) == [0, 1, 2]  # the mean after each fold
    study_table = pd.read_csv(folder / "study.csv")
    assert list(study_table["pruned at"].fillna("")) == ["", "fold 1 of 3", "", ""]


@pytest.mark.slow
def test_a_kfold_trial_reporting_epochs_is_pruned_inside_its_first_fold(tmp_path, boston_dir):
    result = run_ldl(
        *PLANTED,
        f"data_dir={boston_dir}",
        "cv.fold=all",
        "cv.k=3",
        "trainer.epochs=20",
        "trainer.loop=fit",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.cv_steps=epoch",
        "hydra.sweeper.report_every=5",
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    folder = only_sweep_folder(tmp_path)
    trials = study_trials(folder)
    assert [t.state.name for t in trials] == ["COMPLETE", "PRUNED", "COMPLETE"]
    # Steps count the epochs a trial trained over all its folds: every 5th of 3 x 20.
    assert list(trials[0].intermediate_values) == [4, 9, 14, 19, 24, 29, 34, 39, 44, 49, 54, 59]
    # Its last report is the running estimate once every fold is done: the cross-validated loss.
    assert trials[0].intermediate_values[59] == pytest.approx(trials[0].value)
    # The trial that cannot learn stops at its first report, inside fold 1, with no fold 2 or 3.
    assert list(trials[1].intermediate_values) == [4]
    pruned = read_metrics(folder / "1_c6e1")
    assert pruned["status"] == "pruned" and pruned["pruned_at"] == "epoch 5 of fold 1 of 3"
    assert sorted(p.name for p in (folder / "1_c6e1").glob("fold_*")) == ["fold_0"]
    assert len(pd.read_csv(folder / "1_c6e1" / "fold_0" / "history.csv")) == 5
    study_table = pd.read_csv(folder / "study.csv")
    assert list(study_table["pruned at"].fillna("")) == ["", "epoch 5 of fold 1 of 3", ""]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_the_dashboard_serves_the_studys_trials_over_http(tmp_path):
    import optuna

    folder = tmp_path / "sweep"
    folder.mkdir()
    study = optuna.create_study(study_name="sweep", storage=f"sqlite:///{folder / 'optuna.db'}")
    study.optimize(lambda t: t.suggest_float("optimizer.learning_rate", 0.001, 0.1), n_trials=3)
    port = free_port()
    server = start_ldl(
        "dashboard",
        folder,
        f"port={port}",
        cwd=tmp_path,
        env={"PATH": str(Path(sys.executable).parent)},
        inherit=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        new_session=False,
    )
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        assert f"at http://127.0.0.1:{port}/" in line, line
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/studies", timeout=10
                ) as r:
                    studies = json.loads(r.read())["study_summaries"]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        (listed,) = studies
        assert listed["study_name"] == "sweep"
        url = f"http://127.0.0.1:{port}/api/studies/{listed['study_id']}?after=0"
        with urllib.request.urlopen(url, timeout=10) as response:
            trials = json.loads(response.read())["trials"]
        assert [t["state"] for t in trials] == ["Complete"] * 3
    finally:
        server.send_signal(signal.SIGINT)
        server.communicate(timeout=30)
    assert server.returncode == 0  # Ctrl-C is how a dashboard is meant to stop


def journal_trials(folder: Path) -> list:
    import optuna

    from ldl.sweeps.optuna_study.storage import open_storage, storage_url

    storage = open_storage(storage_url("journal", folder))
    return optuna.load_study(study_name=folder.name, storage=storage).get_trials()


@pytest.mark.slow
def test_a_journal_study_refuses_another_search_space_without_touching_the_study(
    tmp_path, boston_dir
):
    arguments = [
        "train",
        "-m",
        "experiment=c6e1",
        "hydra/sweeper=optuna_study",
        "hydra.sweeper.storage=journal",
        "hydra.sweeper.sampler.seed=0",
        "hydra.sweeper.n_trials=2",
        f"data_dir={boston_dir}",
        "trainer.epochs=2",
        "trainer.verbose=0",
        f"hydra.sweep.dir={tmp_path / 'search'}",
    ]
    first = run_ldl(*arguments, "optimizer=adam,sgd", cwd=tmp_path, timeout=600)
    assert first.returncode == 0, first.stderr
    folder = tmp_path / "search"
    assert (folder / "optuna.journal").is_file() and not (folder / "optuna.db").exists()
    assert [t.state.name for t in journal_trials(folder)] == ["COMPLETE", "COMPLETE"]

    changed = run_ldl(*arguments, "optimizer=adam,rmsprop", cwd=tmp_path, timeout=600)
    assert_clean_error(changed, "searched another space", "optimizer was choice(adam, sgd), now")
    assert [t.state.name for t in journal_trials(folder)] == ["COMPLETE", "COMPLETE"]


@pytest.mark.slow
def test_a_bad_sweeper_option_is_refused_before_the_sweep_folder_exists(tmp_path):
    result = run_ldl(
        "train",
        "-m",
        "hparams_search=c5_optuna",
        "hydra.sweeper.direction=sideways",
        cwd=tmp_path,
        timeout=300,
    )
    assert_clean_error(result, "hydra.sweeper.direction=sideways is not a direction")
    assert not (tmp_path / "outputs").exists()
