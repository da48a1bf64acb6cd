"""Checkpoints by time and by event: when they are written, and that every kind resumes exactly."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from helpers import start_ldl

from ldl.errors import TrainingDivergedError
from ldl.training.checkpoint import Checkpointer
from ldl.training.recorder import CheckpointPolicy
from ldl.training.train import train

NON_NUMERIC = ("train_seconds",)


def _comparable(metrics: dict) -> dict:
    return {key: value for key, value in metrics.items() if key not in NON_NUMERIC}


def test_policy_is_due_by_seconds_or_by_epochs():
    by_time = CheckpointPolicy(seconds=30)
    assert not by_time.due(epochs_completed=4, seconds_since_checkpoint=29.9)
    assert by_time.due(epochs_completed=5, seconds_since_checkpoint=30.0)
    assert CheckpointPolicy(seconds=0).due(epochs_completed=1, seconds_since_checkpoint=0.0)
    both = CheckpointPolicy(seconds=30, every_epochs=2)
    assert both.due(epochs_completed=2, seconds_since_checkpoint=0.1)
    assert not both.due(epochs_completed=3, seconds_since_checkpoint=0.1)


@pytest.mark.parametrize(
    ("settings", "saved_after"),
    [
        # The quick suite runs the case that shows both rules (every 2 epochs, and after the last).
        pytest.param(("trainer.checkpoint_seconds=3600",), [5], marks=pytest.mark.slow),
        pytest.param(("trainer.checkpoint_seconds=0",), [1, 2, 3, 4, 5], marks=pytest.mark.slow),
        (("trainer.checkpoint_seconds=3600", "trainer.checkpoint_every=2"), [2, 4, 5]),
    ],
)
def test_checkpoints_are_written_when_the_policy_says(
    make_config, boston_dir, monkeypatch, settings, saved_after
):
    saved: list[int] = []
    real_save = Checkpointer.save

    def counting_save(self, model, state, callback_states=None):
        saved.append(state.epochs_completed)
        real_save(self, model, state, callback_states)

    monkeypatch.setattr(Checkpointer, "save", counting_save)
    metrics = train(
        make_config(
            "experiment=c6_conf1",
            f"data_dir={boston_dir}",
            "trainer.epochs=5",
            "trainer.seed=0",
            "trainer.loop=fit",
            *settings,
        )
    )
    assert saved == saved_after
    assert metrics["epochs_completed"] == 5


@pytest.mark.slow
def test_a_nan_loss_checkpoints_the_last_good_epoch(make_config, boston_dir, tmp_path):
    # SGD at this rate diverges slowly on the stand-in data: the loss overflows in epoch 17, which the
    # graph loop reaches in the middle of a multi-epoch call (its calls run epochs 1, 2-3, 4-7, 8-15,
    # 16-31).
    checkpoints = {}
    for loop in ("fit", "graph"):
        cfg = make_config(
            "experiment=c6_conf1",
            f"data_dir={boston_dir}",
            "optimizer=sgd",
            "optimizer.learning_rate=0.8",
            "trainer.epochs=30",
            "trainer.seed=0",
            "trainer.checkpoint_seconds=3600",
            f"trainer.loop={loop}",
            run_dir=tmp_path / loop,
        )
        with pytest.raises(TrainingDivergedError, match="epoch 17"):
            train(cfg)
        checkpoints[loop] = Checkpointer(tmp_path / loop / "checkpoint").restore(cfg.model)
    for model, state in checkpoints.values():
        assert state.epochs_completed == 16
        assert len(state.history) == 16
        assert all(np.isfinite(weight).all() for weight in model.get_weights())
    (fit_model, fit_state), (graph_model, graph_state) = checkpoints.values()
    assert graph_state.history == fit_state.history
    for fit_weight, graph_weight in zip(
        fit_model.get_weights(), graph_model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(fit_weight, graph_weight)


def _start_training(arguments: list[str], cwd) -> subprocess.Popen:
    return start_ldl("train", *arguments, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize(("loop", "epochs"), [("fit", 60), ("graph", 1500)])
def test_kill_9_at_a_random_moment_resumes_to_the_uninterrupted_run(
    make_config, boston_dir, tmp_path, loop, epochs
):
    # Epochs enough for several seconds of training, checkpoints every half second: the kill lands
    # at an arbitrary point between (or during) checkpoints, mid-epoch or mid-call.
    overrides = [
        "experiment=c6_conf4",
        f"data_dir={boston_dir}",
        f"trainer.epochs={epochs}",
        "trainer.seed=3",
        "trainer.checkpoint_seconds=0.5",
        f"trainer.loop={loop}",
        "trainer.verbose=0",
        f"output_root={tmp_path / 'outputs'}",
    ]
    train(make_config(*overrides, run_dir=tmp_path / "whole"))
    uninterrupted = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    killed = tmp_path / "killed"
    process = _start_training([*overrides, f"hydra.run.dir={killed}"], tmp_path)
    deadline = time.monotonic() + 300
    while not (killed / "checkpoint" / "state.json").exists():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(random.Random(epochs).uniform(0.0, 1.0))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert json.loads((killed / "metrics.json").read_text())["status"] == "running"
    checkpointed = json.loads((killed / "checkpoint" / "state.json").read_text())
    assert 0 < checkpointed["epochs_completed"] < epochs

    resumed = _start_training([*overrides, f"hydra.run.dir={killed}"], tmp_path)
    assert resumed.wait(timeout=300) == 0
    recorded = json.loads((killed / "metrics.json").read_text())
    assert recorded["status"] == "completed"
    assert _comparable(recorded) == _comparable(uninterrupted)
    pd.testing.assert_frame_equal(
        pd.read_csv(killed / "history.csv"), pd.read_csv(tmp_path / "whole" / "history.csv")
    )
