"""A user stays in control: real signals to real `ldl` processes stop a run or a whole sweep at an epoch
end, checkpointed; `kill -9` loses at most the epochs since the last checkpoint; the same command then
ends exactly as an uninterrupted run, callbacks' state included. Only the `ldl` process installs
signal handlers: calling ldl from Python (these tests) leaves them alone."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from helpers import run_ldl, start_ldl

from ldl.training import stop_signals
from ldl.training.train import train

# Numbers that differ from run to run however exact the training is.
NON_NUMERIC = ("train_seconds",)
C6 = (
    "experiment=c6_conf4",
    "trainer.seed=3",
    "trainer.verbose=0",
)  # dropout: generator states matter


def _comparable(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items() if key not in NON_NUMERIC}


def _metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


def _history_rows(folder: Path) -> int:
    path = folder / "history.csv"
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


def _wait_for(condition, process: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, "ldl ended before the test could stop it"
        assert time.monotonic() < deadline, "ldl did not get there in time"
        time.sleep(0.05)


def _finish(process: subprocess.Popen, seconds: float = 300) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return process.returncode, stderr or ""


def _assert_same_run(folder: Path, reference: Path) -> None:
    assert _metrics(folder)["status"] == "completed"
    assert _comparable(_metrics(folder)) == _comparable(_metrics(reference))
    pd.testing.assert_frame_equal(
        pd.read_csv(folder / "history.csv"), pd.read_csv(reference / "history.csv")
    )


@pytest.mark.slow
def test_calling_ldl_from_python_installs_no_signal_handler(make_config, boston_dir):
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    stdout = sys.stdout
    train(make_config(*C6, f"data_dir={boston_dir}", "trainer.epochs=1"))
    assert {number: signal.getsignal(number) for number in handlers} == handlers
    assert sys.stdout is stdout
    assert not stop_signals.installed()


def test_a_missing_data_dir_is_refused_before_any_work_and_never_created(tmp_path):
    from ldl.cli.main import main

    missing = tmp_path / "mistyped" / "data"
    assert main(["train", "experiment=c6e1", f"data_dir={missing}", f"output_root={tmp_path}"]) == 2
    assert not (tmp_path / "mistyped").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_download_goes_only_into_a_data_dir_that_exists(tmp_path):
    from ldl.data.download import fetch
    from ldl.errors import DataError

    missing = tmp_path / "mistyped"
    with pytest.raises(DataError, match="does not exist"):
        fetch("file.npz", "https://example.invalid/file.npz", "0" * 64, missing, "sub")
    assert not missing.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "loop"), [("SIGINT", "graph"), ("SIGTERM", "fit"), ("SIGHUP", "fit")]
)
def test_a_stop_signal_ends_a_run_at_an_epoch_end_and_the_same_command_finishes_it(
    make_config, boston_dir, tmp_path, stop, loop
):
    # Enough epochs left after the third (the stop point) for the signal to arrive in any loop.
    epochs = 3000 if loop == "graph" else 60
    overrides = (*C6, f"data_dir={boston_dir}", f"trainer.epochs={epochs}",
                 f"trainer.loop={loop}", "trainer.checkpoint_seconds=3600")  # fmt: skip
    train(make_config(*overrides, run_dir=tmp_path / "whole"))
    folder = tmp_path / "stopped"
    command = ("train", *overrides, f"hydra.run.dir={folder}", f"output_root={tmp_path}")
    process = start_ldl(*command, cwd=tmp_path, stderr=subprocess.PIPE)
    _wait_for(lambda: _history_rows(folder) >= 3, process)
    if stop == "SIGINT":  # Ctrl-C: the terminal signals the whole process group
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(getattr(signal, stop))
    code, stderr = _finish(process)
    assert code == 130 and "Traceback" not in stderr, stderr
    assert "ldl train: Stopped by" in stderr and "hydra.run.dir=stopped" in stderr, stderr
    metrics = _metrics(folder)
    assert metrics["status"] == "interrupted"
    state = json.loads((folder / "checkpoint" / "state.json").read_text())
    # Stopped at an epoch end, with that epoch checkpointed and recorded.
    assert 3 <= state["epochs_completed"] < epochs
    assert state["epochs_completed"] == metrics["epochs_completed"] == _history_rows(folder)

    resumed = run_ldl(*command, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming after epoch" in resumed.stdout
    _assert_same_run(folder, tmp_path / "whole")


PLATEAU = (
    "+callbacks.plateau={_target_: keras.callbacks.ReduceLROnPlateau, monitor: val_loss, "
    "patience: 2, factor: 0.5}"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("callbacks", "epochs", "kill_after"),
    [
        (("callbacks=early_stopping", "callbacks.early_stopping.patience=3"), 200, 20),
        ((PLATEAU,), 40, 15),
    ],
    ids=["early_stopping", "reduce_lr_on_plateau"],
)
def test_kill_9_with_stateful_callbacks_resumes_to_the_uninterrupted_run(
    make_config, boston_dir, tmp_path, callbacks, epochs, kill_after
):
    overrides = (*C6, f"data_dir={boston_dir}", f"trainer.epochs={epochs}",
                 "trainer.checkpoint_seconds=0", *callbacks)  # fmt: skip
    whole = train(make_config(*overrides, run_dir=tmp_path / "whole"))
    assert whole["epochs_completed"] > kill_after
    folder = tmp_path / "killed"
    command = ("train", *overrides, f"hydra.run.dir={folder}", f"output_root={tmp_path}")
    process = start_ldl(*command, cwd=tmp_path)
    state_file = folder / "checkpoint" / "state.json"

    def checkpointed() -> int:
        try:
            return int(json.loads(state_file.read_text())["epochs_completed"])
        except (FileNotFoundError, ValueError, KeyError):
            return 0

    _wait_for(lambda: checkpointed() >= kill_after, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert checkpointed() < whole["epochs_completed"]
    # No live process holds the run: it is reported as interrupted, not running.
    report = run_ldl("report", folder, cwd=tmp_path)
    assert "interrupted" in report.stdout and "running" not in report.stdout, report.stdout

    resumed = run_ldl(*command, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    # Every callback of the run is saved with the checkpoint: no note that one starts afresh.
    assert "keeps no saved state" not in resumed.stdout + resumed.stderr
    _assert_same_run(folder, tmp_path / "whole")


GRID = ("optimizer.learning_rate=0.001,0.002,0.003", "trainer.epochs=100", "trainer.loop=fit",
        "trainer.checkpoint_seconds=3600")  # fmt: skip


@pytest.mark.slow
def test_ctrl_c_stops_a_whole_grid_sweep_and_the_same_command_continues_it(
    make_config, boston_dir, tmp_path
):
    sweep = tmp_path / "sweep"
    command = ("train", "-m", *C6, f"data_dir={boston_dir}", *GRID, f"hydra.sweep.dir={sweep}",
               f"output_root={tmp_path}")  # fmt: skip
    process = start_ldl(*command, cwd=tmp_path, stderr=subprocess.PIPE)
    first_job = sweep / "0_c6_conf4"
    _wait_for(lambda: _history_rows(first_job) >= 3, process)
    os.killpg(process.pid, signal.SIGINT)
    code, stderr = _finish(process)
    assert code == 130 and "Traceback" not in stderr, stderr
    assert "Stopped by Ctrl-C (SIGINT): the sweep" in stderr and "same command" in stderr, stderr
    assert "failed" not in stderr, stderr
    assert _metrics(first_job)["status"] == "interrupted"
    # No further job started, and the stop request did not outlive the command.
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0_c6_conf4"]
    assert not list(sweep.glob(".ldl-stop-*"))

    again = run_ldl(*command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    for job in ("0_c6_conf4", "1_c6_conf4", "2_c6_conf4"):
        assert _metrics(sweep / job)["status"] == "completed"
    # The interrupted job ended exactly as the same configuration trained without a stop.
    alone = tmp_path / "alone"
    train(make_config(*C6, f"data_dir={boston_dir}", *GRID[1:], "optimizer.learning_rate=0.001",
                      run_dir=alone))  # fmt: skip
    pd.testing.assert_frame_equal(
        pd.read_csv(first_job / "history.csv"), pd.read_csv(alone / "history.csv")
    )
    summary = (sweep / "summary.md").read_text()
    assert summary.count(" | 1 | 0 | ") == 3, summary  # each configuration: 1 job, 0 failed


@pytest.mark.slow
def test_ctrl_c_stops_a_k_fold_job_inside_its_fold_and_the_same_command_finishes_it(
    boston_dir, tmp_path
):
    def command(folder: Path) -> tuple[str, ...]:
        return ("train", "-m", *C6, f"data_dir={boston_dir}", "cv.k=3", "cv.fold=all",
                "trainer.epochs=60", "trainer.loop=fit", f"hydra.sweep.dir={folder}",
                f"output_root={tmp_path}")  # fmt: skip

    whole = run_ldl(*command(tmp_path / "whole"), cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr[-3000:]
    sweep = tmp_path / "stopped"
    process = start_ldl(*command(sweep), cwd=tmp_path, stderr=subprocess.PIPE)
    job = sweep / "0_c6_conf4"
    _wait_for(lambda: _history_rows(job / "fold_1") >= 3, process)
    os.killpg(process.pid, signal.SIGINT)
    code, stderr = _finish(process)
    assert code == 130 and "Traceback" not in stderr, stderr
    assert _metrics(job)["status"] == "interrupted" and _metrics(job)["folds_completed"] == 1
    assert _metrics(job / "fold_0")["status"] == "completed"
    assert _metrics(job / "fold_1")["status"] == "interrupted"
    assert not (job / "fold_2").exists()

    again = run_ldl(*command(sweep), cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert _comparable(_metrics(job)) == _comparable(_metrics(tmp_path / "whole" / "0_c6_conf4"))


@pytest.mark.slow
def test_a_closed_output_pipe_ends_a_run_as_interrupted_with_its_checkpoint(boston_dir, tmp_path):
    import threading

    folder = tmp_path / "piped"
    # trainer.verbose=auto: without a terminal, one line per epoch on standard output.
    process = start_ldl("train", "experiment=c6_conf4", "trainer.seed=3", "trainer.verbose=auto",
                        f"data_dir={boston_dir}", "trainer.epochs=100000", "trainer.loop=fit",
                        f"hydra.run.dir={folder}", cwd=tmp_path, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None
    epoch_lines: list[str] = []

    def read_like_head() -> None:  # `ldl train ... | head`: read until two epoch lines, then go
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("epoch "):
                epoch_lines.append(line)
                if len(epoch_lines) == 2:
                    break
        process.stdout.close()
        process.stdout = None  # communicate() then reads stderr alone

    reader = threading.Thread(target=read_like_head, daemon=True)
    reader.start()
    reader.join(timeout=300)
    assert len(epoch_lines) == 2, "no epoch lines on standard output"
    code, stderr = _finish(process, seconds=120)
    assert code == 130 and "Traceback" not in stderr, stderr
    assert "closed output pipe" in stderr, stderr
    metrics = _metrics(folder)
    assert metrics["status"] == "interrupted"
    state = json.loads((folder / "checkpoint" / "state.json").read_text())
    assert state["epochs_completed"] == metrics["epochs_completed"] == _history_rows(folder)


def _live_members(group: int) -> list[int]:
    """The processes of a process group that still run (Linux's /proc; zombies have ended: the test
    process may have become their reaper, e.g. once Ray marked it a child subreaper)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _group_gone(group: int, seconds: float = 120) -> bool:
    """Whether every process of the group has ended (worker processes included)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _live_members(group):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
def test_sigterm_to_the_main_process_stops_the_parallel_launchers_workers(boston_dir, tmp_path):
    # As `timeout` or a scheduler does: only the sweep's main process gets the signal; its workers
    # learn of it through the sweep's stop file and stop at their next epoch end.
    sweep = tmp_path / "sweep"
    command = ("train", "-m", *C6, f"data_dir={boston_dir}", *GRID, "hydra/launcher=parallel",
               f"hydra.sweep.dir={sweep}", f"output_root={tmp_path}")  # fmt: skip
    process = start_ldl(*command, cwd=tmp_path, stderr=subprocess.PIPE)
    _wait_for(lambda: _history_rows(sweep / "0_c6_conf4") >= 3, process)
    process.send_signal(signal.SIGTERM)
    code, stderr = _finish(process)
    assert code == 130 and "Traceback" not in stderr, stderr
    assert "Stopped by SIGTERM: the sweep" in stderr, stderr
    assert _group_gone(process.pid), "a worker process outlived the sweep"
    started = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert "2_c6_conf4" not in started, started  # the third job never started
    for job in started:
        metrics = _metrics(sweep / job)
        assert metrics["status"] == "interrupted", (job, metrics)
        state = sweep / job / "checkpoint" / "state.json"
        if metrics.get("epochs_completed", 0) == 0:
            # The second job may be stopped inside its first epoch: nothing to keep, and the same
            # command starts it afresh.
            assert not state.exists(), job
            continue
        checkpoint = json.loads(state.read_text())
        assert checkpoint["epochs_completed"] == metrics["epochs_completed"] < 100

    again = run_ldl(*command, cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    for job in ("0_c6_conf4", "1_c6_conf4", "2_c6_conf4"):
        assert _metrics(sweep / job)["status"] == "completed"


def test_callback_states_survive_a_checkpoint_file_bit_for_bit(tmp_path):
    import keras
    import numpy as np

    from ldl.training import callback_state

    early = keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True)
    early.wait, early.stopped_epoch, early.best, early.best_epoch = 2, 0, np.float32(0.1234567), 7
    early.best_weights = [np.arange(6, dtype=np.float32).reshape(2, 3), np.ones(3, np.float32)]
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_loss")
    plateau.wait, plateau.cooldown_counter, plateau.best = 1, 3, 0.5

    class Unknown(keras.callbacks.Callback):
        pass

    callbacks = [keras.callbacks.TerminateOnNaN(), early, plateau, Unknown()]
    captured = callback_state.capture(callbacks)
    early.wait = 99  # later epochs cannot change what was captured
    callback_state.save(tmp_path / "states.npz", captured)
    fresh_early = keras.callbacks.EarlyStopping(monitor="val_loss", restore_best_weights=True)
    fresh_plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_loss")
    fresh = [keras.callbacks.TerminateOnNaN(), fresh_early, fresh_plateau, Unknown()]
    callback_state.restore(fresh, callback_state.load(tmp_path / "states.npz"))
    assert (fresh_early.wait, fresh_early.best_epoch) == (2, 7)
    assert fresh_early.best == float(np.float32(0.1234567))
    for saved, restored in zip(early.best_weights, fresh_early.best_weights, strict=True):
        np.testing.assert_array_equal(saved, restored)
    assert (fresh_plateau.wait, fresh_plateau.cooldown_counter, fresh_plateau.best) == (1, 3, 0.5)
    # What ldl cannot save is named (at resume); Keras's stateless callbacks are not.
    assert callback_state.unsaved(fresh) == ["Unknown"]


@pytest.mark.slow
def test_ctrl_c_stops_an_optuna_search_of_k_fold_trials_and_the_same_command_finishes_it(
    boston_dir, tmp_path
):
    import optuna

    def command(folder: Path) -> tuple[str, ...]:
        return ("train", "-m", "experiment=c6_conf4", "hydra/sweeper=optuna_study",
                "hydra.sweeper.sampler.seed=0", "hydra.sweeper.n_trials=2",
                "optimizer.learning_rate=tag(log,interval(0.0001,0.01))", "cv.k=2", "cv.fold=all",
                f"data_dir={boston_dir}", "trainer.seed=0", "trainer.verbose=0",
                "trainer.epochs=60", "trainer.loop=fit", f"hydra.sweep.dir={folder}",
                f"output_root={tmp_path}")  # fmt: skip

    sweep = tmp_path / "stopped"
    process = start_ldl(*command(sweep), cwd=tmp_path, stderr=subprocess.PIPE)
    _wait_for(lambda: _history_rows(sweep / "0_c6_conf4" / "fold_1") >= 3, process)
    os.killpg(process.pid, signal.SIGINT)
    code, stderr = _finish(process)
    assert code == 130 and "Traceback" not in stderr, stderr
    assert "Stopped by Ctrl-C (SIGINT): the sweep" in stderr, stderr
    assert _metrics(sweep / "0_c6_conf4")["status"] == "interrupted"
    assert not (sweep / "1_c6_conf4").exists()  # no further trial started

    again = run_ldl(*command(sweep), cwd=tmp_path, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    whole = run_ldl(*command(tmp_path / "whole"), cwd=tmp_path, timeout=600)
    assert whole.returncode == 0, whole.stderr[-3000:]
    # The interrupted trial resumed in its own folder and ended as the uninterrupted one; the next
    # trial drew the same configuration (a retry asks no new one) and scored the same.
    assert _comparable(_metrics(sweep / "0_c6_conf4")) == _comparable(
        _metrics(tmp_path / "whole" / "0_c6_conf4")
    )

    def completed(folder: Path) -> list[tuple[dict, float]]:
        study = optuna.load_study(
            study_name=folder.name, storage=f"sqlite:///{folder / 'optuna.db'}"
        )
        return [(t.params, t.value) for t in study.get_trials() if t.state.name == "COMPLETE"]

    assert completed(sweep) == completed(tmp_path / "whole")
    table = pd.read_csv(sweep / "study.csv")
    assert list(table["state"]) == ["interrupted", "complete", "complete"]
    assert set(pd.read_csv(sweep / "summary.csv")["status"]) == {"completed"}


@pytest.mark.slow
def test_a_long_report_at_an_epoch_end_stops_within_seconds(boston_dir, tmp_path):
    # Sample captions with attention figures, translations: a report written at an epoch's end can
    # take minutes. A stop signal ends it at once; the last completed epoch is kept.
    folder, marker = tmp_path / "run", tmp_path / "report_started"
    report = (
        f"+callbacks.report={{_target_: crash_callbacks.SlowReport, epoch: 3, marker: '{marker}'}}"
    )
    process = start_ldl("train", *C6, f"data_dir={boston_dir}", "trainer.epochs=10", report,
                        "trainer.checkpoint_seconds=0", f"hydra.run.dir={folder}", cwd=tmp_path,
                        stderr=subprocess.PIPE)  # fmt: skip
    _wait_for(marker.exists, process)
    signalled = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code, stderr = _finish(process, seconds=60)
    assert time.monotonic() - signalled < 15, "the report was not stopped"
    assert code == 130 and "Traceback" not in stderr, stderr
    assert _metrics(folder)["status"] == "interrupted"
    # Epoch 3's report was cut short, so the run resumes after epoch 2 and writes it again.
    state = json.loads((folder / "checkpoint" / "state.json").read_text())
    assert state["epochs_completed"] == 2
