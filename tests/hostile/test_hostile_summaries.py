"""Hostile inputs to `ldl summarize` and `ldl retrain-best`: an empty folder, a single run's folder and a
sweep whose every job failed are each said as such; a sweep on a read-only or full file system gets
one paragraph naming the folder and the problem, and stays byte-identical (nothing half-written)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import _mount, _unmount, assert_clean, assert_refused, changed, run_cli, tree_digest

# In this process; summarize imports TensorFlow for its HParams record: a second or two each.
pytestmark = pytest.mark.slow

SUMMARY_FILES = ("summary.md", "summary.csv")


def _sweep_copy(world, target: Path) -> Path:
    sweep = shutil.copytree(world.sweep, target, symlinks=True)
    for name in SUMMARY_FILES:
        (sweep / name).unlink(missing_ok=True)
    for record in sweep.glob("events.out.tfevents*"):
        record.unlink()
    return sweep


@pytest.mark.parametrize("command", ["summarize", "retrain-best"])
def test_an_empty_folder_is_said_to_be_empty(world, tmp_path, command):
    (tmp_path / "empty").mkdir()
    assert_refused(tmp_path, (command, tmp_path / "empty"), "is empty", "ldl train -m")


@pytest.mark.parametrize("command", ["summarize", "retrain-best"])
def test_a_single_run_folder_is_said_to_be_one(world, tmp_path, command):
    run = shutil.copytree(world.done, tmp_path / "done")
    assert_refused(tmp_path, (command, run), "folder of a single run", "not of a sweep", "ldl eval")


def test_retrain_best_on_a_sweep_whose_jobs_all_failed_names_the_failure(world, tmp_path):
    sweep = _sweep_copy(world, tmp_path / "sweep")
    for metrics_path in sweep.glob("*/metrics.json"):
        metrics = json.loads(metrics_path.read_text())
        metrics_path.write_text(json.dumps({**metrics, "status": "failed", "error": "no data"}))
    jobs = len(list(sweep.glob("*/metrics.json")))
    assert_refused(
        tmp_path, ("retrain-best", sweep), f"All {jobs} jobs of {sweep} failed", "with: no data"
    )


@contextlib.contextmanager
def _sweep_on_a_tmpfs(world, parent: Path, read_only: bool) -> Iterator[Path]:
    """A copy of the world's sweep on its own small file system, made read-only or filled up."""
    mount = parent / "mount"
    if not _mount(mount, "size=4m"):
        pytest.skip("a file system of its own needs a tmpfs mount (root)")
    try:
        sweep = _sweep_copy(world, mount / "sweep")
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        else:
            with contextlib.suppress(OSError), open(mount / "filler", "wb", buffering=0) as filler:
                while True:
                    filler.write(b"\0" * 4096)
        yield sweep
    finally:
        _unmount(mount)


@pytest.mark.parametrize(
    ("read_only", "reason"), [(True, "read-only"), (False, "the disk is full")], ids=["ro", "full"]
)
def test_summarize_on_a_read_only_or_full_file_system_is_one_paragraph(
    world, tmp_path, read_only, reason
):
    with _sweep_on_a_tmpfs(world, tmp_path, read_only) as sweep:
        before = tree_digest(sweep)
        outcome = run_cli("summarize", sweep, cwd=tmp_path)
        assert_clean(outcome, 2, "Cannot write the summary", str(sweep), reason)
        assert changed(before, tree_digest(sweep)) == []
