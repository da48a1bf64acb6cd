"""Honest model selection (a configuration with a failed, non-finite, interrupted or missing fold never
outranks a complete one), what `ldl retrain-best` keeps, and what a user sees of runs and sweeps
(one line per epoch, "job k of n", the learning-curve title and markers, k-fold rows in `ldl report`,
the natural order of `ldl experiments`). All on copies of the hostile-input world (tests/support/hostile.py)."""

from __future__ import annotations

import json
import math
import shutil
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from hostile import C6E1, assert_clean, live_process, run_cli

from ldl.cli.summarize_command import retrain_overrides
from ldl.sweeps.summary import summarize_sweep
from ldl.sweeps.summary_page import format_summary


@pytest.fixture
def sweep(world, tmp_path) -> Path:
    return shutil.copytree(world.sweep, tmp_path / "sweep")


def _job(sweep: Path, number: int) -> Path:
    (folder,) = sweep.glob(f"{number}_*")
    return folder


def _edit_metrics(folder: Path, **changes) -> None:
    path = folder / "metrics.json"
    metrics = json.loads(path.read_text())
    metrics.update(changes)
    path.write_text(json.dumps({k: v for k, v in metrics.items() if v is not None}))


LR_FAST, LR_SLOW = "optimizer.learning_rate=0.002", "optimizer.learning_rate=0.001"


def test_the_complete_sweep_ranks_both_configurations(sweep):
    summary = summarize_sweep(sweep)
    assert summary.metric == "val/mae" and summary.best.configuration == LR_FAST
    assert all(c.complete for c in summary.configurations)


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"status": "failed", "error": "diverged", "val/mae": None}, "1 of 2 failed"),
        ({"val/mae": math.nan}, "1 of 2 without a finite score"),
        ({"status": "running"}, "1 of 2 interrupted"),
    ],
    ids=["a failed fold", "a NaN fold", "an interrupted fold"],
)
def test_a_configuration_missing_a_fold_cannot_win_and_is_shown_apart(sweep, changes, why):
    # Job 2 (lr=0.002, fold 0) has the lower MAE: averaged over it alone, lr=0.002 would win.
    _edit_metrics(_job(sweep, 3), **changes)
    summary = summarize_sweep(sweep)
    assert summary.best.configuration == LR_SLOW
    text = format_summary(summary)
    assert "Not ranked" in text and why in text
    anyway = summarize_sweep(sweep, include_incomplete=True)
    assert anyway.best.configuration == LR_FAST  # only when asked for


def test_a_never_started_job_is_listed_as_not_started_and_its_configuration_apart(sweep):
    shutil.rmtree(_job(sweep, 3))
    summary = summarize_sweep(sweep)
    statuses = {job.name: job.status for job in summary.jobs}
    assert statuses["3_(no folder)"] == "not started"
    assert summary.best.configuration == LR_SLOW
    assert "1 of 2 not started" in format_summary(summary)


def test_a_running_job_with_a_live_owner_is_running_and_without_one_interrupted(sweep):
    job = _job(sweep, 1)
    _edit_metrics(job, status="running")
    assert {j.name: j.status for j in summarize_sweep(sweep).jobs}[job.name] == "interrupted"
    owner = live_process()
    try:
        lock = {"pid": owner.pid, "host": socket.gethostname(), "since": 0.0}
        (job / "ldl.lock").write_text(json.dumps(lock))
        assert {j.name: j.status for j in summarize_sweep(sweep).jobs}[job.name] == "running"
    finally:
        owner.kill()
        owner.wait()


def test_retrain_best_keeps_the_sweeps_seed_and_drops_the_fold(sweep, world):
    best = summarize_sweep(sweep).best_job()
    overrides = retrain_overrides(best)
    assert "trainer.seed=0" in overrides and LR_FAST in overrides
    assert not any(o.startswith("cv.fold") for o in overrides)
    # A job whose command line gave no seed: the seed it trained with, from its config.yaml.
    unseeded = SimpleNamespace(overrides=["experiment=c6e1", "cv.fold=1"], folder=world.done)
    assert retrain_overrides(unseeded) == ["experiment=c6e1", "trainer.seed=0"]


def test_retrain_best_keeps_the_seed_a_job_drew(tmp_path):
    """trainer.seed=null: the job drew a seed, which metrics.json records; the retrain reuses it."""
    from ldl.runs.files import write_json

    job = tmp_path / "0_c6e1"
    job.mkdir()
    (job / "config.yaml").write_text("trainer:\n  seed: null\n")
    write_json(job / "metrics.json", {"status": "completed", "seed": 1234567})
    drawn = SimpleNamespace(overrides=["experiment=c6e1", "cv.fold=0"], folder=job)
    assert retrain_overrides(drawn) == ["experiment=c6e1", "trainer.seed=1234567"]


def test_a_sweep_job_announces_itself_as_job_k_of_n(world):
    from ldl.cli.train_command import job_progress

    hydra = SimpleNamespace(job=SimpleNamespace(num=1), sweep=SimpleNamespace(dir=str(world.sweep)))
    assert job_progress(hydra) == "job 2 of 4"


def test_report_shows_kfold_jobs_with_their_validation_metrics(world):
    outcome = run_cli("report", world.sweep, cwd=world.root)
    assert_clean(outcome, 0)
    rows = [line for line in outcome.out.splitlines() if "_c6_conf1" in line]
    assert len([r for r in rows if "val/mae" in r]) == 4, outcome.out


def test_experiments_are_listed_in_natural_order(world):
    outcome = run_cli("experiments", cwd=world.root)
    assert_clean(outcome, 0)
    experiments = outcome.out.split("\nsearch ")[0]  # the searches follow, in their own order
    ids = [line.split()[0] for line in experiments.splitlines()[1:] if line[:1] == "c"]
    chapters = [int(i[1:].split("e")[0].split("_")[0]) for i in ids if i[1].isdigit()]
    assert chapters == sorted(chapters) and "c17e3" in ids
    assert ids.index("c9e1") < ids.index("c11e1") < ids.index("c17e3")


def test_a_run_stores_its_data_dir_absolute_and_output_holds_one_line_per_epoch(world):
    config = (world.done / "config.yaml").read_text()
    assert f"data_dir: {world.data}" in config
    lines = (world.done / "output.txt").read_text().splitlines()
    assert [line.split(" - ")[0] for line in lines if line.startswith("epoch ")] == [
        "epoch 1/2",
        "epoch 2/2",
    ]


def test_a_failed_run_says_failed_with_the_error(world):
    metrics = json.loads((world.unfinished / "metrics.json").read_text())
    assert metrics["status"] == "failed" and "simulated crash" in metrics["error"]
    assert metrics["epochs_completed"] == 2


@pytest.mark.slow
def test_without_a_terminal_a_run_prints_one_compact_line_per_epoch(world, tmp_path):
    outcome = run_cli(
        "train", *C6E1, "trainer.verbose=auto", "trainer.epochs=3",
        f"hydra.run.dir={tmp_path / 'run'}", cwd=world.root,
    )  # fmt: skip
    assert_clean(outcome, 0)
    epoch_lines = [line for line in outcome.out.splitlines() if "epoch" in line.lower()[:6]]
    assert [line.split(" - ")[0] for line in epoch_lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]


@pytest.mark.parametrize(
    ("history", "title"),
    [
        ([{"train/loss": 1.0, "val/loss": 2.0}], "x: loss per epoch"),
        ([{"train/mae": 1.0, "val/mae": 2.0}], "x: mean absolute error per epoch"),
        ([{"train/error": 0.1, "val/error": 0.2}] * 2, "x: error per epoch"),
    ],
    ids=["loss", "mae", "error"],
)
def test_the_learning_curve_says_what_it_plots_and_marks_a_single_epoch(
    tmp_path, monkeypatch, history, title
):
    from ldl.runs import report

    figures = []
    monkeypatch.setattr(report.plt, "close", figures.append)  # keep the figure to look at
    report.plot_learning_curve(tmp_path / "curve.png", history, "x", "validation")
    (axes,) = figures[0].axes
    assert axes.get_title() == title
    single = len(history) == 1
    assert all((line.get_marker() == "o") == single for line in axes.get_lines())
    assert (tmp_path / "curve.png").stat().st_size > 0
    monkeypatch.undo()
    report.plt.close(figures[0])


def test_a_clean_sweep_has_no_unranked_part(sweep):
    text = format_summary(summarize_sweep(sweep))
    assert "Not ranked" not in text and "4 jobs: 4 completed" in text


@pytest.mark.slow
def test_retrain_best_goes_past_a_damaged_job_and_retrains_with_the_sweeps_seed(world, sweep):
    """Job 3 (the better configuration's second fold) has a truncated metrics.json: that configuration
    lacks a fold, so the complete one is retrained, with trainer.seed=0 as the sweep trained."""
    metrics = _job(sweep, 3) / "metrics.json"
    metrics.write_text(metrics.read_text()[:40])
    outcome = run_cli("retrain-best", sweep, cwd=world.root)
    assert_clean(outcome, 0, f"Best configuration by val/mae: {LR_SLOW}")
    retrained = sweep / "best_retrained"
    config = yaml.safe_load((retrained / "config.yaml").read_text())
    assert config["trainer"]["seed"] == 0 and config["optimizer"]["learning_rate"] == 0.001
    assert json.loads((retrained / "metrics.json").read_text())["status"] == "completed"
