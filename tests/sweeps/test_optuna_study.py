"""Durable Optuna studies (hydra/sweeper=optuna_study): kill and re-run, two processes, failed trials."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import run_ldl, start_ldl

from ldl.sweeps.optuna_study.sweeper import _objective_values
from ldl.sweeps.optuna_study.table import study_summary_lines


def test_only_finite_numbers_count_as_an_objective():
    assert _objective_values(0.5, 1) == [0.5]
    assert _objective_values(None, 1) is None  # the job failed
    assert _objective_values(float("nan"), 1) is None
    assert _objective_values([1.0, 2.0], 2) == [1.0, 2.0]
    assert _objective_values([1.0], 2) is None


def test_the_summary_names_the_study_counts(tmp_path):
    assert study_summary_lines(tmp_path) == []
    pd.DataFrame(
        {"trial": [0, 1, 2], "state": ["complete", "fail", "complete"], "retry of": ["", "", 1]}
    ).to_csv(tmp_path / "study.csv", index=False)
    (line,) = [line for line in study_summary_lines(tmp_path) if line]
    assert "3 trials (2 complete, 1 fail)" in line and "1 of them retried" in line


def search_arguments(boston_dir: Path, *extra: str) -> list[str]:
    return [
        "train",
        "-m",
        "experiment=c6e1",
        "hydra/sweeper=optuna_study",
        "hydra.sweeper.sampler.seed=0",
        "optimizer.learning_rate=tag(log,interval(0.0001,0.01))",
        f"data_dir={boston_dir}",
        "trainer.seed=0",
        "trainer.verbose=0",
        *extra,
    ]


def only_sweep_folder(work: Path) -> Path:
    (folder,) = list((work / "outputs" / "multirun").iterdir())
    return folder


def study_trials(folder: Path) -> list:
    import optuna

    study = optuna.load_study(study_name=folder.name, storage=f"sqlite:///{folder / 'optuna.db'}")
    return study.get_trials()


def start_search(arguments: list[str], cwd: Path) -> subprocess.Popen:
    return start_ldl(
        *arguments, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, new_session=False
    )


def wait_for(path_pattern: str, root: Path, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = list(root.glob(path_pattern))
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"{path_pattern} did not appear below {root} within {timeout} s")


def hparams_sessions(folder: Path) -> tuple[set[str], bool]:
    """The job folders with a TensorBoard HParams session below `folder`, and whether the sweep's
    own HParams experiment (the dashboard's columns) was written."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.plugins.hparams import plugin_data_pb2

    sessions: set[str] = set()
    experiment = False
    for path in folder.rglob("events.out.tfevents*"):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "hparams":
                    continue
                data = plugin_data_pb2.HParamsPluginData.FromString(
                    value.metadata.plugin_data.content
                )
                if data.HasField("session_start_info"):
                    sessions.add(path.relative_to(folder).parts[0])
                experiment |= data.HasField("experiment")
    return sessions, experiment


@pytest.mark.slow
def test_a_killed_search_continues_to_n_trials_in_all(tmp_path, boston_dir):
    arguments = search_arguments(boston_dir, "hydra.sweeper.n_trials=3", "trainer.epochs=60")
    first = start_search(arguments, tmp_path)
    try:
        # Kill the whole search (SIGKILL: no clean-up) once trial 1 has saved an epoch.
        wait_for("outputs/multirun/*/1_c6e1/checkpoint/state.json", tmp_path, timeout=240)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    folder = only_sweep_folder(tmp_path)
    before = study_trials(folder)
    assert [t.state.name for t in before] == ["COMPLETE", "RUNNING"]

    again = run_ldl(*arguments, cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "Trials [1] were left running by a process that is gone" in again.stdout
    trials = study_trials(folder)
    # 3 in all: trial 1 failed with its process and was retried (as trial 2) in its own folder,
    # resuming at the epoch where it stopped; trial 3 is the last new one.
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert trials[2].system_attrs["failed_trial"] == 1
    assert trials[2].params == trials[1].params
    assert "Resuming after epoch" in (folder / "1_c6e1" / "output.txt").read_text()
    jobs = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert jobs == ["0_c6e1", "1_c6e1", "3_c6e1"]
    summary = pd.read_csv(folder / "summary.csv")
    assert sorted(summary["job"]) == jobs and set(summary["status"]) == {"completed"}
    study_table = pd.read_csv(folder / "study.csv")
    assert len(study_table) == 4 and list(study_table["job folder"]) == [
        "0_c6e1",
        "1_c6e1",
        "1_c6e1",
        "3_c6e1",
    ]
    assert "Optuna study: 4 trials (3 complete, 1 fail)" in (folder / "summary.md").read_text()
    assert hparams_sessions(folder) == (set(jobs), True)  # TensorBoard HParams: every trial

    # Asking for more trials of the same study runs only the missing ones.
    more = run_ldl(*arguments, "hydra.sweeper.n_trials=4", cwd=tmp_path, timeout=600)
    assert more.returncode == 0, more.stderr
    assert [t.state.name for t in study_trials(folder)][4:] == ["COMPLETE"]
    assert more.stdout.count("Launching 1 jobs") == 1


@pytest.mark.slow
def test_two_processes_share_one_study_without_repeating_trials(tmp_path, boston_dir):
    arguments = search_arguments(boston_dir, "hydra.sweeper.n_trials=4", "trainer.epochs=30")
    processes = [start_search(arguments, tmp_path) for _ in range(2)]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    folder = only_sweep_folder(tmp_path)
    trials = study_trials(folder)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    assert len({t.system_attrs["ldl_worker"] for t in trials}) == 2  # both processes ran trials
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == [f"{n}_c6e1" for n in range(4)]
    assert len({t.params["optimizer.learning_rate"] for t in trials}) == 4
    # Whichever process wrote it last, the summary holds every trial of the study.
    summary = pd.read_csv(folder / "summary.csv")
    assert sorted(summary["job"]) == [f"{n}_c6e1" for n in range(4)]
    assert "Optuna study: 4 trials (4 complete)" in (folder / "summary.md").read_text()


@pytest.mark.slow
def test_failed_trials_are_recorded_and_the_search_goes_on(tmp_path, boston_dir):
    # Random sampling seeded with 2 (+ the trial number) draws 0.001, 1e12, 0.001: trial 1 diverges.
    result = run_ldl(
        "train",
        "-m",
        "experiment=c6_conf1",
        "hydra/sweeper=optuna_study",
        "hydra/sweeper/sampler=random",
        "hydra.sweeper.sampler.seed=2",
        "hydra.sweeper.n_trials=3",
        "optimizer=sgd",
        "optimizer.learning_rate=choice(0.001,1e12)",
        f"data_dir={boston_dir}",
        "trainer.epochs=2",
        "trainer.seed=0",
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    folder = only_sweep_folder(tmp_path)
    assert [t.state.name for t in study_trials(folder)] == ["COMPLETE", "FAIL", "COMPLETE"]
    summary = pd.read_csv(folder / "summary.csv").set_index("job")
    assert summary.loc["1_c6_conf1", "status"] == "failed"
    assert "NaN or infinite" in summary.loc["1_c6_conf1", "error"]
    assert (folder / "optimization_results.yaml").exists()
