"""Hostile inputs to `cv.fold=all` (every fold in one job): a k the data cannot split is refused
without leaving the job's folder (or a fold's) behind, and a fold that stops (an interruption, a full
disk) points at the job's folder, which resumes it, never at the fold's, which would be refused."""

from __future__ import annotations

import pytest
from helpers import TINY, run_ldl
from hostile import assert_clean, assert_refused, run_cli

# In this process; these load Boston Housing or train a few epochs: a second or more each.
pytestmark = pytest.mark.slow

KFOLD = ("experiment=c6e1", TINY, "cv.fold=all")


@pytest.mark.parametrize("run_dir", ["runs/kfold_405", None], ids=["named folder", "dated folder"])
def test_a_k_larger_than_the_data_leaves_no_folder(world, run_dir):
    where = (f"hydra.run.dir={run_dir}",) if run_dir else ()
    assert_refused(world.root, ("train", *KFOLD, "cv.k=405", *where), "cv.k=405 is larger than the")


def test_an_interrupted_fold_points_at_the_job_which_resumes(world, tmp_path):
    """A real SIGTERM to the ldl program inside fold 0 (its stop handlers are the program's, so
    this runs in a process of its own)."""
    job = tmp_path / "job"
    command = (
        "train", *KFOLD, "cv.k=2", "trainer.epochs=2", "trainer.checkpoint_seconds=0",
        "+callbacks.stop={_target_: crash_callbacks.SignalAfterEpoch, epoch: 1}",
        f"data_dir={world.data}", f"hydra.run.dir={job}",
    )  # fmt: skip
    stopped = run_ldl(*command, cwd=tmp_path)
    assert stopped.returncode == 130 and "Traceback" not in stopped.stderr, stopped.stderr
    assert "hydra.run.dir=job " in stopped.stderr, stopped.stderr
    assert "fold_0 " not in stopped.stderr.split("hydra.run.dir=")[-1]
    # The advice works: the same command resumes fold 0 and goes on to fold 1 (which, started
    # fresh, is stopped by the same callback).
    resumed = run_ldl(*command, cwd=tmp_path)
    assert resumed.returncode == 130, resumed.stderr
    assert (job / "fold_0" / "model.keras").is_file()


def test_a_full_disk_in_a_fold_points_at_the_job_which_resumes(world, tmp_path):
    from hostile import _mount, _unmount

    disk = tmp_path / "disk"
    if not _mount(disk, "size=8m"):
        pytest.skip("a file system of its own needs a tmpfs mount (root)")
    try:
        job = disk / "job"
        command = (
            "train", *KFOLD, "cv.k=2", "trainer.epochs=3", "trainer.checkpoint_seconds=0",
            "+callbacks.fill={_target_: crash_callbacks.FillDiskAfterEpoch, epoch: 1,"
            f" folder: '{disk}', marker: '{tmp_path / 'filled'}'}}",
            f"hydra.run.dir={job}",
        )  # fmt: skip
        full = run_cli(*command, cwd=world.root)
        assert_clean(full, 2, "No space left on the device", f"hydra.run.dir={job};")
        assert f"hydra.run.dir={job / 'fold_0'}" not in full.err
        (disk / "filler").unlink()
        resumed = run_cli(*command, cwd=world.root)  # the advice, followed: the job resumes
        assert_clean(resumed, 0)
        assert (job / "fold_1" / "model.keras").is_file()
    finally:
        _unmount(disk)
