"""In-process `train(cfg)` runs on small stand-in datasets: run folder, determinism, resume, failures."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ldl.errors import RunFolderError, TrainingDivergedError
from ldl.training.evaluate import evaluate_run
from ldl.training.train import train

NON_NUMERIC = ("train_seconds",)


def _comparable(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items() if key not in NON_NUMERIC}


def test_mnist_run_leaves_a_self_describing_run_folder(make_config, mnist_dir, tmp_path):
    cfg = make_config(
        "experiment=c5e2", f"data_dir={mnist_dir}", "trainer.epochs=3", "trainer.seed=0"
    )
    metrics = train(cfg)
    run = tmp_path / "run"
    for name in (
        "config.yaml",
        "metrics.json",
        "history.csv",
        "model.keras",
        "learning_curve.png",
        "output.txt",
    ):
        assert (run / name).is_file(), name
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert list((run / "tensorboard" / "train").glob("events.out.tfevents.*"))
    recorded = json.loads((run / "metrics.json").read_text())
    assert recorded["status"] == "completed"
    assert recorded["epochs_completed"] == 3
    assert recorded["device"] == "CPU"
    assert recorded["seed"] == 0
    for key in (
        "train/loss",
        "train/accuracy",
        "val/accuracy",
        "test/accuracy",
        "test/loss",
        "train_seconds",
    ):
        assert key in recorded, key
    assert recorded["test/accuracy"] == pytest.approx(metrics["test/accuracy"])
    assert recorded["test/accuracy"] > 0.9  # the stand-in digits are easy
    history = pd.read_csv(run / "history.csv")
    assert list(history["epoch"]) == [1, 2, 3]
    assert {"train/loss", "val/accuracy", "val/error"} <= set(history.columns)
    assert "book/test/error" in recorded and "book_verdict/test/error" in recorded
    assert (run / "config.yaml").read_text().count("experiment_id: c5e2") == 1


def test_tensorboard_logs_hold_scalars_graph_and_hparams(make_config, boston_dir, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train(
        make_config(
            "experiment=c6_conf1", f"data_dir={boston_dir}", "trainer.epochs=2", "trainer.seed=0"
        )
    )
    root = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    root.Reload()
    assert "_hparams_/session_start_info" in root.Tags()["tensors"]
    assert {"test/loss", "test/mae"} <= set(root.Tags()["tensors"])
    assert root.Tags()["graph"]
    per_epoch = EventAccumulator(str(tmp_path / "run" / "tensorboard" / "validation"))
    per_epoch.Reload()
    assert {"epoch_loss", "epoch_mae"} <= set(per_epoch.Tags()["tensors"])
    assert len(per_epoch.Tensors("epoch_mae")) == 2


def test_a_full_disk_gives_a_clear_error_and_keeps_the_last_epoch(
    make_config, boston_dir, tmp_path, monkeypatch
):
    import errno

    from ldl.training.checkpoint import Checkpointer

    real_save = Checkpointer.save

    def save_until_the_disk_is_full(self, model, state, callback_states=None):
        if state.epochs_completed >= 2:
            raise OSError(
                errno.ENOSPC, "No space left on device", str(self.directory / "epoch-00002.keras")
            )
        real_save(self, model, state, callback_states)

    monkeypatch.setattr(Checkpointer, "save", save_until_the_disk_is_full)
    cfg = make_config(
        "experiment=c6_conf1",
        f"data_dir={boston_dir}",
        "trainer.epochs=3",
        "trainer.seed=0",
        "trainer.checkpoint_seconds=0",
    )
    with pytest.raises(RunFolderError, match="No space left on the device"):
        train(cfg)
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert state["epochs_completed"] == 1


@pytest.mark.slow
def test_same_seed_gives_identical_metrics(make_config, boston_dir, tmp_path):
    overrides = (
        "experiment=c6_conf4",
        f"data_dir={boston_dir}",
        "trainer.epochs=3",
        "trainer.seed=0",
    )
    first = train(make_config(*overrides, run_dir=tmp_path / "a"))
    second = train(make_config(*overrides, run_dir=tmp_path / "b"))
    assert _comparable(first) == _comparable(second)
    other_seed = train(make_config(*overrides[:-1], "trainer.seed=1", run_dir=tmp_path / "c"))
    assert other_seed["test/mae"] != first["test/mae"]


def test_unseeded_runs_draw_and_record_a_seed(make_config, boston_dir):
    metrics = train(
        make_config("experiment=c6_conf1", f"data_dir={boston_dir}", "trainer.epochs=1")
    )
    assert isinstance(metrics["seed"], int)


@pytest.mark.slow
def test_crashed_run_resumes_to_the_uninterrupted_result(make_config, boston_dir, tmp_path):
    # Dropout makes the random-generator state part of what a resume must restore.
    overrides = (
        "experiment=c6_conf4",
        f"data_dir={boston_dir}",
        "trainer.epochs=4",
        "trainer.seed=3",
        "trainer.checkpoint_seconds=0",
    )
    uninterrupted = train(make_config(*overrides, run_dir=tmp_path / "whole"))

    crash = "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2}"
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(make_config(*overrides, crash, run_dir=tmp_path / "crashed"))
    state = json.loads((tmp_path / "crashed" / "checkpoint" / "state.json").read_text())
    assert state["epochs_completed"] == 2
    crashed = json.loads((tmp_path / "crashed" / "metrics.json").read_text())
    # A crash never leaves `running` behind: the run says it failed and why, and keeps its epochs.
    assert crashed["status"] == "failed" and "simulated crash" in crashed["error"]
    assert crashed["epochs_completed"] == 2

    # Re-running the same command resumes (the crash callback no longer fires past epoch 2).
    resumed = train(make_config(*overrides, crash, run_dir=tmp_path / "crashed"))
    assert resumed["epochs_completed"] == 4
    assert _comparable(resumed) == _comparable(uninterrupted)
    assert len(pd.read_csv(tmp_path / "crashed" / "history.csv")) == 4


@pytest.mark.slow
def test_interrupted_run_is_marked_and_resumable_with_resume_true(make_config, mnist_dir, tmp_path):
    overrides = (
        "experiment=c5e2",
        f"data_dir={mnist_dir}",
        "trainer.epochs=3",
        "trainer.seed=5",
        "trainer.checkpoint_seconds=0",
    )
    interrupt = (
        "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 1, interrupt: true}"
    )
    # Called from Python (no `ldl` process), the interruption reaches the caller as itself.
    with pytest.raises(KeyboardInterrupt):
        train(make_config(*overrides, interrupt, run_dir=tmp_path / "outputs" / "first"))
    first = tmp_path / "outputs" / "first"
    assert json.loads((first / "metrics.json").read_text())["status"] == "interrupted"

    # trainer.resume=true finds the unfinished run with the same config under output_root.
    resumed = train(
        make_config(
            *overrides, interrupt, "trainer.resume=true", run_dir=tmp_path / "outputs" / "second"
        )
    )
    assert resumed["epochs_completed"] == 3
    assert json.loads((first / "metrics.json").read_text())["status"] == "completed"
    assert not (tmp_path / "outputs" / "second").exists()


def test_completed_run_is_not_retrained(make_config, boston_dir, tmp_path):
    overrides = (
        "experiment=c6_conf1",
        f"data_dir={boston_dir}",
        "trainer.epochs=2",
        "trainer.seed=0",
    )
    first = train(make_config(*overrides))
    before = (tmp_path / "run" / "model.keras").stat().st_mtime_ns
    again = train(make_config(*overrides))
    assert again == json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert again["test/mae"] == first["test/mae"]
    assert (tmp_path / "run" / "model.keras").stat().st_mtime_ns == before


def test_a_different_config_never_touches_an_existing_run(make_config, boston_dir, tmp_path):
    train(
        make_config(
            "experiment=c6_conf1", f"data_dir={boston_dir}", "trainer.epochs=1", "trainer.seed=0"
        )
    )
    snapshot = {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}
    with pytest.raises(RunFolderError, match="different config"):
        train(
            make_config(
                "experiment=c6e1", f"data_dir={boston_dir}", "trainer.epochs=1", "trainer.seed=0"
            )
        )
    assert snapshot == {p.name: p.read_bytes() for p in (tmp_path / "run").iterdir() if p.is_file()}


def test_nan_loss_stops_the_run_and_marks_it_failed(make_config, boston_dir, tmp_path):
    cfg = make_config(
        "experiment=c6e1",
        f"data_dir={boston_dir}",
        "optimizer=sgd",
        "optimizer.learning_rate=1e12",
        "trainer.epochs=5",
        "trainer.seed=0",
    )
    with pytest.raises(TrainingDivergedError, match="NaN or infinite"):
        train(cfg)
    recorded = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert recorded["status"] == "failed"
    assert "learning_rate" in recorded["error"]
    assert not (tmp_path / "run" / "model.keras").exists()


def test_holdout_validation_is_carved_from_the_training_data(make_config, boston_dir):
    metrics = train(
        make_config(
            "experiment=c6_conf1",
            f"data_dir={boston_dir}",
            "trainer.epochs=2",
            "trainer.seed=0",
            "trainer.validation=holdout",
            "trainer.validation_fraction=0.25",
        )
    )
    assert "val/mae" in metrics and "test/mae" in metrics
    assert metrics["val/mae"] != metrics["test/mae"]


def test_eval_reproduces_the_recorded_test_metrics(make_config, mnist_dir, tmp_path):
    cfg = make_config(
        "experiment=c5e1",
        f"data_dir={mnist_dir}",
        "trainer.epochs=1",
        "data.max_train_examples=300",
    )
    metrics = train(cfg)
    evaluated = evaluate_run(tmp_path / "run")
    for key, value in evaluated.items():
        assert value == pytest.approx(metrics[key], rel=1e-6), key


def test_classic_examples_run_through_train(make_config, capsys, tmp_path):
    c1e1 = train(make_config("experiment=c1e1"))
    assert c1e1["train/updates"] == 4
    assert c1e1["book_verdict/weights/w2"] == "within"
    assert "w0 =  0.40 , w1 = -0.40 , w2 = -0.15" in capsys.readouterr().out
    c3e1 = train(make_config("experiment=c3e1", run_dir=tmp_path / "c3e1"))
    assert c3e1["train/passes"] == 161
    assert round(c3e1["output/y3"], 4) == 0.4990

    from ldl.cli.report_command import book_rows

    rows = book_rows(tmp_path)
    assert ["c3e1", "c3e1", "completed", "train/passes", "161", "161", "within"] in rows
    assert {row[0] for row in rows} == {"c1e1", "c3e1"}


@pytest.mark.slow
def test_mirrored_strategy_trains_and_multi_worker_is_refused_clearly(
    make_config, boston_dir, tmp_path
):
    from ldl.errors import ConfigError

    overrides = (
        "experiment=c6_conf1",
        f"data_dir={boston_dir}",
        "trainer.epochs=2",
        "trainer.seed=0",
    )
    mirrored = train(
        make_config(*overrides, "trainer.distribute=mirrored", run_dir=tmp_path / "mirrored")
    )
    assert mirrored["status"] == "completed"
    with pytest.raises(ConfigError, match="keras-team/keras#20585"):
        train(
            make_config(*overrides, "trainer.distribute=multi_worker", run_dir=tmp_path / "multi")
        )
