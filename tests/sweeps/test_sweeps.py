"""Sweeps and k-fold cross-validation: fold splits, a real multirun, summaries, resume, retrain-best."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures import data_config
from helpers import run_ldl

from ldl.data.datasets import prepare_data
from ldl.data.kfold import fold_indices, kfold_split
from ldl.errors import ConfigError


def test_folds_partition_the_training_set():
    folds = fold_indices(103, k=5, seed=11)
    assert [len(f) for f in folds] == [21, 21, 21, 20, 20]
    merged = np.concatenate(folds)
    assert sorted(merged.tolist()) == list(range(103))
    assert (
        fold_indices(103, k=5, seed=11)[2].tolist() == folds[2].tolist()
    )  # the split seed alone decides
    assert fold_indices(103, k=5, seed=12)[2].tolist() != folds[2].tolist()


def test_kfold_split_trains_on_the_other_folds():
    x, y = np.arange(50)[:, None], np.arange(50)
    x_train, y_train, x_val, y_val = kfold_split(x, y, k=5, fold=3, seed=0)
    assert len(x_val) == 10 and len(x_train) == 40
    assert set(y_train.tolist()).isdisjoint(y_val.tolist())
    assert set(y_train.tolist()) | set(y_val.tolist()) == set(range(50))
    with pytest.raises(ConfigError, match=r"cv\.fold"):
        kfold_split(x, y, k=5, fold=5, seed=0)


def test_cross_validation_never_touches_the_test_set(boston_dir):
    data = data_config("boston_housing", standardize="per_feature", download=False)
    plain = prepare_data(data, boston_dir, validation="test")
    seen_validation = []
    for fold in range(4):
        split = prepare_data(data, boston_dir, cv={"k": 4, "fold": fold, "seed": 0})
        np.testing.assert_array_equal(split.y_test, plain.y_test)
        assert len(split.y_train) + len(split.y_val) == len(plain.y_train)
        seen_validation.extend(split.y_val.tolist())
    assert sorted(seen_validation) == sorted(plain.y_train.tolist())


def ldl(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_ldl(*arguments, cwd=cwd, timeout=600)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, boston_dir) -> tuple[Path, list[str], subprocess.CompletedProcess]:
    """A 2 x 2 sweep (learning rate x fold) in which the huge learning rate diverges."""
    work = tmp_path_factory.mktemp("sweep")
    arguments = [
        "train",
        "-m",
        "experiment=c6_conf1",
        f"data_dir={boston_dir}",
        "trainer.epochs=2",
        "trainer.seed=0",
        "optimizer=sgd",
        "optimizer.learning_rate=0.001,1e12",
        "cv.k=2",
        "cv.fold=0,1",
    ]
    return work, arguments, ldl(*arguments, cwd=work)


def sweep_folder(work: Path) -> Path:
    (folder,) = list((work / "outputs" / "multirun").iterdir())
    return folder


@pytest.mark.slow
def test_a_sweep_records_failures_and_summarizes_every_job(sweep):
    work, _, result = sweep
    assert result.returncode == 0, result.stderr
    folder = sweep_folder(work)
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) == 4
    assert sorted(summary["status"]) == ["completed", "completed", "failed", "failed"]
    failed = summary[summary["status"] == "failed"]
    assert all("learning_rate=0.001" not in overrides for overrides in failed["overrides"])
    assert all("NaN or infinite" in error for error in failed["error"])
    assert not any(column.startswith("test/") for column in summary.columns)  # CV never tests
    table = (folder / "summary.md").read_text()
    assert "**optimizer.learning_rate=0.001** (best)" in table
    assert "val/mae mean ± std" in table


@pytest.mark.slow
def test_the_sweep_hparams_are_readable_by_tensorboard(sweep):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    work, _, _ = sweep
    root = EventAccumulator(str(sweep_folder(work)))
    root.Reload()
    assert "_hparams_/experiment" in root.Tags()["tensors"]
    job = EventAccumulator(str(sweep_folder(work) / "0_c6_conf1" / "tensorboard"))
    job.Reload()
    assert {"_hparams_/session_start_info", "val/mae"} <= set(job.Tags()["tensors"])


@pytest.mark.slow
def test_rerunning_the_sweep_skips_finished_jobs(sweep):
    work, arguments, _ = sweep
    folder = sweep_folder(work)
    model = folder / "0_c6_conf1" / "model.keras"
    before = model.stat().st_mtime_ns
    again = ldl(*arguments, cwd=work)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already holds a completed run") == 2
    assert model.stat().st_mtime_ns == before
    assert sweep_folder(work) == folder


@pytest.mark.slow
def test_summarize_rebuilds_an_interrupted_sweep(sweep):
    work, _, _ = sweep
    folder = sweep_folder(work)
    (folder / "summary.csv").unlink()
    (folder / "3_c6_conf1" / "metrics.json").unlink()  # as if the sweep was killed before this job
    result = ldl("summarize", str(folder), cwd=work)
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(folder / "summary.csv")
    assert "not started" in set(summary["status"])


@pytest.mark.slow
def test_retrain_best_trains_on_all_folds_and_tests_once(sweep):
    work, _, _ = sweep
    folder = sweep_folder(work)
    result = ldl("retrain-best", str(folder), cwd=work)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((folder / "best_retrained" / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert "test/mae" in metrics and "val/mae" not in metrics
    config = (folder / "best_retrained" / "config.yaml").read_text()
    assert "learning_rate: 0.001" in config and "validation: none" in config
