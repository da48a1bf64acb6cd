"""cv.fold=all: every fold of a configuration in one job, its mean as the job's result."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from helpers import run_ldl

from ldl.sweeps.cross_validation import fold_folder, mean_and_std, train_or_cross_validate


def test_mean_and_std_over_folds():
    folds = [
        {"val/mae": 2.0, "train/mae": 1.0, "seed": 0, "val/extra": 5.0},
        {"val/mae": 4.0, "train/mae": 3.0, "seed": 0},
    ]
    result = mean_and_std(folds)
    assert result == {"val/mae": 3.0, "val/mae_std": 1.0, "train/mae": 2.0, "train/mae_std": 1.0}
    assert "seed" not in result and "val/extra" not in result  # only numbers every fold has


def test_a_fold_that_did_not_produce_a_number_is_left_out():
    result = mean_and_std([{"val/loss": 1.0}, {"val/loss": math.nan}])
    assert result == {}


def test_cv_k_must_allow_two_folds(make_config, boston_dir):
    from ldl.errors import ConfigError

    cfg = make_config("experiment=c6_conf1", f"data_dir={boston_dir}", "cv.fold=all", "cv.k=1")
    with pytest.raises(ConfigError, match=r"cv\.k"):
        train_or_cross_validate(cfg)


COMMON = ("experiment=c6_conf4", "trainer.epochs=4", "trainer.seed=3", "cv.k=2")


@pytest.mark.slow
def test_one_job_trains_every_fold_and_reports_their_mean(make_config, boston_dir, tmp_path):
    job = tmp_path / "job"
    metrics = train_or_cross_validate(
        make_config(*COMMON, f"data_dir={boston_dir}", "cv.fold=all", run_dir=job)
    )
    per_fold = [json.loads((fold_folder(job, i) / "metrics.json").read_text()) for i in range(2)]
    assert metrics["status"] == "completed" and metrics["cv/k"] == 2
    assert metrics["val/mae"] == pytest.approx(
        (per_fold[0]["val/mae"] + per_fold[1]["val/mae"]) / 2
    )
    assert metrics["val/mae_std"] == pytest.approx(
        abs(per_fold[0]["val/mae"] - per_fold[1]["val/mae"]) / 2
    )
    assert json.loads((job / "metrics.json").read_text())["val/loss"] == metrics["val/loss"]
    assert not any(key.startswith("test/") for key in metrics)  # cross-validation never tests
    # The same folds as a sweep over cv.fold: fold 1 alone gives fold 1's numbers.
    alone = train_or_cross_validate(
        make_config(*COMMON, f"data_dir={boston_dir}", "cv.fold=1", run_dir=tmp_path / "alone")
    )
    assert alone["val/mae"] == per_fold[1]["val/mae"]


@pytest.mark.slow
def test_a_crashed_job_resumes_at_the_fold_and_epoch_where_it_stopped(
    make_config, boston_dir, tmp_path
):
    # A checkpoint after every epoch (not only by time), so the crash after epoch 2 leaves one.
    overrides = (*COMMON, f"data_dir={boston_dir}", "cv.fold=all", "trainer.checkpoint_seconds=0")
    whole = train_or_cross_validate(make_config(*overrides, run_dir=tmp_path / "whole"))

    # The crash fires after epoch 2 of every run that reaches epoch 2 from the start.
    crash = "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2}"
    job = tmp_path / "crashed"
    with pytest.raises(RuntimeError, match="simulated crash"):  # fold 0 stops after epoch 2
        train_or_cross_validate(make_config(*overrides, crash, run_dir=job))
    assert json.loads((job / "metrics.json").read_text())["folds_completed"] == 0
    with pytest.raises(RuntimeError, match="simulated crash"):  # fold 0 resumes; fold 1 stops
        train_or_cross_validate(make_config(*overrides, crash, run_dir=job))
    fold_0_model = fold_folder(job, 0) / "model.keras"
    finished_at = fold_0_model.stat().st_mtime_ns
    assert "Resuming after epoch 2" in (fold_folder(job, 0) / "output.txt").read_text()

    resumed = train_or_cross_validate(make_config(*overrides, crash, run_dir=job))
    assert fold_0_model.stat().st_mtime_ns == finished_at  # the finished fold was not retrained
    assert "Resuming after epoch 2" in (fold_folder(job, 1) / "output.txt").read_text()
    assert len(pd.read_csv(fold_folder(job, 1) / "history.csv")) == 4
    for key in ("val/mae", "val/mae_std", "val/loss", "train/mae"):
        assert resumed[key] == pytest.approx(whole[key], rel=1e-6), key


@pytest.mark.slow
def test_a_grid_ranks_configurations_by_their_cross_validated_score(tmp_path, boston_dir):
    result = run_ldl(
        "train",
        "-m",
        "experiment=c6_conf1,c6e1",
        "cv.fold=all",
        "cv.k=2",
        f"data_dir={boston_dir}",
        "trainer.epochs=2",
        "trainer.seed=0",
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (folder,) = list((tmp_path / "outputs" / "multirun").iterdir())
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) == 2 and set(summary["status"]) == {"completed"}
    assert {"val/mae", "val/mae_std"} <= set(summary.columns)
    report = (folder / "summary.md").read_text()
    assert "val/mae mean ± std" in report
    # One job per configuration: the ranking's spread is the job's own spread over its folds.
    for _, job in summary.iterrows():
        assert f"{job['val/mae']:.4f} ± {job['val/mae_std']:.4f}" in report
