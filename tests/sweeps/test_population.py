"""Population training: the folds (or seeds) of one configuration trained together in one graph give
each member exactly what it gives alone (docs/sweeps.md)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from fixtures import write_boston_npz
from helpers import REPO, compose_config

from ldl.sweeps.cross_validation import fold_folder, train_or_cross_validate

# Dropout (c6e2: dropout and L2) makes each member's own dropout generators part of the check.
MLP = ("experiment=c6e2", "trainer.epochs=3", "trainer.seed=3", "trainer.verbose=0")


@pytest.fixture(scope="module")
def uneven_boston(tmp_path_factory) -> object:
    """Boston rows whose 3 folds leave training sets of different sizes, and with batch 6, a
    different number of steps per epoch (the members' epochs then differ in length)."""
    directory = tmp_path_factory.mktemp("uneven_boston")
    write_boston_npz(directory, n=114)
    return directory


def _numbers(metrics: dict) -> dict:
    return {
        key: value
        for key, value in metrics.items()
        if key.startswith(("train/", "val/")) and isinstance(value, float)
    }


def _config(data_dir, run_dir, *overrides):
    return compose_config(
        *MLP, f"data_dir={data_dir}", f"run_dir={run_dir}", f"output_root={run_dir}", *overrides
    )


@pytest.mark.slow
@pytest.mark.parametrize("alone_loop", ["graph", "fit"])
def test_folds_trained_together_equal_each_fold_trained_alone(
    uneven_boston, tmp_path, capsys, alone_loop
):
    shape = ("cv.k=3", "trainer.batch_size=6")
    job = tmp_path / "together"
    train_or_cross_validate(_config(uneven_boston, job, *shape, "cv.fold=all"))
    assert "3 folds together in one graph" in capsys.readouterr().out
    examples = []
    for fold in range(3):
        member = fold_folder(job, fold)
        together = json.loads((member / "metrics.json").read_text())
        alone_dir = tmp_path / f"alone_{fold}"
        alone = train_or_cross_validate(
            _config(
                uneven_boston, alone_dir, *shape, f"cv.fold={fold}", f"trainer.loop={alone_loop}"
            )
        )
        # Bit for bit: every epoch's numbers and the final ones.
        pd.testing.assert_frame_equal(
            pd.read_csv(member / "history.csv"), pd.read_csv(alone_dir / "history.csv"), rtol=0
        )
        assert _numbers(together) == _numbers(alone) and _numbers(alone)
        assert (member / "tensorboard").is_dir() and (member / "model.keras").is_file()
        examples.append(together["train_examples"])
    # The members really differ in size and in steps per epoch.
    assert len({math.ceil(n / 6) for n in examples}) == 2, examples


@pytest.mark.slow
def test_a_two_input_two_output_model_trained_together_equals_alone(tmp_path, mnist_like_17):
    overrides = ("experiment=c17e3", "trainer.epochs=2", "cv.k=2", "trainer.batch_size=32")
    job = tmp_path / "together"
    train_or_cross_validate(_config(mnist_like_17, job, *overrides, "cv.fold=all"))
    for fold in range(2):
        alone_dir = tmp_path / f"alone_{fold}"
        alone = train_or_cross_validate(
            _config(mnist_like_17, alone_dir, *overrides, f"cv.fold={fold}")
        )
        together = json.loads((fold_folder(job, fold) / "metrics.json").read_text())
        assert {"val/digit_accuracy", "val/answer_loss"} <= set(_numbers(alone))
        assert _numbers(together) == _numbers(alone)
        pd.testing.assert_frame_equal(
            pd.read_csv(fold_folder(job, fold) / "history.csv"),
            pd.read_csv(alone_dir / "history.csv"),
            rtol=0,
        )


@pytest.fixture(scope="module")
def mnist_like_17(tmp_path_factory) -> object:
    from fixtures import write_mnist_idx

    directory = tmp_path_factory.mktemp("chapter17_population")
    write_mnist_idx(directory / "mnist", n_train=200, n_test=40, gzip=True)
    return directory


@pytest.mark.slow
def test_where_the_graph_loop_cannot_run_the_folds_train_in_turn_and_say_why(
    boston_dir, tmp_path, capsys
):
    job = tmp_path / "job"
    metrics = train_or_cross_validate(
        _config(boston_dir, job, "cv.k=2", "cv.fold=all", "trainer.loop=fit")
    )
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if "in turn" in line]
    assert notes == ["Training the 2 folds in turn, not together in one graph: trainer.loop=fit."]
    assert metrics["status"] == "completed" and metrics["cv/k"] == 2


def _start_training(arguments: list[str], cwd) -> subprocess.Popen:
    command = [sys.executable, "-m", "ldl.cli.main", "train", *arguments]
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen(command, cwd=cwd, env=environment, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


@pytest.mark.slow
def test_kill_9_mid_population_resumes_every_member_to_the_uninterrupted_run(
    make_config, boston_dir, tmp_path
):
    # Checkpoints every half second: the kill lands at an arbitrary point of some call, and the
    # members' newest checkpoints may hold different epochs.
    overrides = [
        "experiment=c6_conf4",
        f"data_dir={boston_dir}",
        "trainer.epochs=1500",
        "trainer.seed=3",
        "trainer.checkpoint_seconds=0.5",
        "trainer.verbose=0",
        "cv.k=2",
        "cv.fold=all",
        f"output_root={tmp_path / 'outputs'}",
    ]
    whole = train_or_cross_validate(make_config(*overrides, run_dir=tmp_path / "whole"))
    killed = tmp_path / "killed"
    process = _start_training([*overrides, f"hydra.run.dir={killed}"], tmp_path)
    states = [fold_folder(killed, fold) / "checkpoint" / "state.json" for fold in range(2)]
    deadline = time.monotonic() + 300
    previous = states[1].with_name("previous.json")
    while not (all(state.exists() for state in states) and previous.exists()):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    time.sleep(random.Random(7).uniform(0.0, 1.0))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for fold in range(2):
        member = json.loads((fold_folder(killed, fold) / "metrics.json").read_text())
        assert member["status"] == "running"
        assert 0 < json.loads(states[fold].read_text())["epochs_completed"] < 1500
    # The members resume from different epochs: where their newest checkpoints hold the same one,
    # fold 1 loses its newest (as if the kill had come just before fold 1 wrote it).
    newest = [json.loads(state.read_text())["epochs_completed"] for state in states]
    if newest[0] == newest[1]:
        states[1].unlink()
        newest[1] = json.loads(previous.read_text())["epochs_completed"]
    resumed_from = newest
    assert resumed_from[0] != resumed_from[1]

    resumed = _start_training([*overrides, f"hydra.run.dir={killed}"], tmp_path)
    assert resumed.wait(timeout=300) == 0
    recorded = json.loads((killed / "metrics.json").read_text())
    assert recorded["status"] == "completed"
    # c6_conf4 trains stacked (trainer.population=auto): the resumed rows are loaded into the
    # stacked variables from each member's own checkpoint.
    assert "not stacked" not in (killed / "output.txt").read_text()
    assert _numbers(recorded) == _numbers(whole)
    for fold in range(2):
        output = (fold_folder(killed, fold) / "output.txt").read_text()
        assert f"Resuming after epoch {resumed_from[fold]} " in output
        pd.testing.assert_frame_equal(
            pd.read_csv(fold_folder(killed, fold) / "history.csv"),
            pd.read_csv(fold_folder(tmp_path / "whole", fold) / "history.csv"),
            rtol=0,
        )


@pytest.mark.slow
def test_the_book_sales_rnn_seeds_trained_together_equal_each_seed_alone(tmp_path):
    from sequence_fixtures import write_book_sales_csv

    data = tmp_path / "data"
    data.mkdir()
    write_book_sales_csv(data)
    rnn = ("experiment=c9e1", "trainer.epochs=2", "trainer.seed=4", "model.units=[16]")
    summary = train_or_cross_validate(_config(data, tmp_path / "job", *rnn, "trainer.repeats=2"))
    assert summary["seeds"] == [4, 5]
    alone = train_or_cross_validate(
        _config(data, tmp_path / "alone", *rnn[:2], "trainer.seed=5", rnn[3])
    )
    member = json.loads((tmp_path / "job" / "repeat_1" / "metrics.json").read_text())
    test_numbers = {k: v for k, v in alone.items() if k.startswith("test/")}
    assert test_numbers and {k: member[k] for k in test_numbers} == test_numbers
    assert _numbers(member) == _numbers(alone)
    pd.testing.assert_frame_equal(
        pd.read_csv(tmp_path / "job" / "repeat_1" / "history.csv"),
        pd.read_csv(tmp_path / "alone" / "history.csv"),
        rtol=0,
    )


@pytest.mark.slow
def test_a_member_that_diverges_leaves_the_population_as_it_would_stop_alone(
    make_config, boston_dir, tmp_path
):
    from ldl.errors import TrainingDivergedError
    from ldl.training.checkpoint import Checkpointer

    # SGD at this rate: seed 0 overflows in epoch 17 (tests/runs/test_checkpoint_policy.py); the other
    # seeds at other epochs or not at all, and each member must end as it ends alone.
    common = ("experiment=c6_conf1", f"data_dir={boston_dir}", "optimizer=sgd",
              "optimizer.learning_rate=0.8", "trainer.epochs=30", "trainer.checkpoint_seconds=3600",
              "trainer.verbose=0")  # fmt: skip
    job = tmp_path / "job"
    with pytest.raises(TrainingDivergedError):
        train_or_cross_validate(
            make_config(*common, "trainer.seed=0", "trainer.repeats=3", run_dir=job)
        )
    assert json.loads((job / "metrics.json").read_text())["status"] == "failed"
    outcomes = []
    for seed in range(3):
        alone_dir = tmp_path / f"alone_{seed}"
        with contextlib.suppress(TrainingDivergedError):
            train_or_cross_validate(make_config(*common, f"trainer.seed={seed}", run_dir=alone_dir))
        alone = json.loads((alone_dir / "metrics.json").read_text())
        member_dir = job / f"repeat_{seed}"
        member = json.loads((member_dir / "metrics.json").read_text())
        assert member["status"] == alone["status"]
        outcomes.append(alone["status"])
        if alone["status"] == "failed":
            assert member["error"] == alone["error"].replace(str(alone_dir), str(member_dir))
            states = [Checkpointer(d / "checkpoint").load_state() for d in (member_dir, alone_dir)]
            assert states[0].history == states[1].history and states[0].history
        else:
            assert _numbers(member) == _numbers(alone)
    assert outcomes[0] == "failed"


@pytest.mark.slow
def test_sigterm_mid_population_checkpoints_every_member_and_ends_interrupted(boston_dir, tmp_path):
    overrides = [
        "experiment=c6_conf4",
        f"data_dir={boston_dir}",
        "trainer.epochs=3000",
        "trainer.seed=3",
        "trainer.verbose=0",
        "cv.k=2",
        "cv.fold=all",
        f"hydra.run.dir={tmp_path / 'job'}",
    ]
    process = _start_training(overrides, tmp_path)
    histories = [fold_folder(tmp_path / "job", fold) / "output.txt" for fold in range(2)]
    deadline = time.monotonic() + 300
    while not all(h.exists() and "epoch 20/" in h.read_text() for h in histories):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=120) == 130
    assert json.loads((tmp_path / "job" / "metrics.json").read_text())["status"] == "interrupted"
    for fold in range(2):
        member = fold_folder(tmp_path / "job", fold)
        metrics = json.loads((member / "metrics.json").read_text())
        state = json.loads((member / "checkpoint" / "state.json").read_text())
        assert metrics["status"] == "interrupted"
        # The checkpoint holds the last completed epoch the member recorded.
        assert 20 <= state["epochs_completed"] == metrics["epochs_completed"] < 3000


@pytest.mark.slow
def test_folds_an_optuna_pruner_judges_one_at_a_time_train_in_turn(boston_dir, tmp_path, capsys):
    from ldl.sweeps.cross_validation import train_all_folds
    from ldl.training.train import train

    judged: list[int] = []
    cfg = _config(boston_dir, tmp_path / "job", "cv.k=2", "cv.fold=all", "trainer.epochs=2")
    summary = train_all_folds(
        cfg, train, after_fold=lambda fold, per_fold: judged.append(fold) or False
    )
    assert judged == [0, 1] and summary["cv/k"] == 2
    assert "2 folds in turn, not together in one graph: an Optuna pruner" in capsys.readouterr().out
