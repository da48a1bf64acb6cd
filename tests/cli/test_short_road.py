"""A single `ldl train` run: composed once, validated once, and straight to `train` (never through
`sweeps/`); the command line's arguments reach Hydra without touching `sys.argv` or the environment."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from ldl.cli import train_check
from ldl.cli.main import main


def test_a_single_run_is_composed_and_validated_once_and_skips_sweeps(tmp_path, monkeypatch):
    counts = {"compose": 0, "validate": 0}
    compose, validate = train_check.compose, train_check.validate

    def counting_compose(overrides):
        counts["compose"] += 1
        return compose(overrides)

    def counting_validate(cfg):
        counts["validate"] += 1
        return validate(cfg)

    def no_detour(*arguments, **keywords):
        raise AssertionError("a single run went through sweeps/cross_validation.py")

    monkeypatch.setattr(train_check, "compose", counting_compose)
    monkeypatch.setattr(train_check, "validate", counting_validate)
    monkeypatch.setattr("ldl.training.train.validate_config", counting_validate)
    monkeypatch.setattr("ldl.sweeps.cross_validation.train_or_cross_validate", no_detour)
    argv, environment = list(sys.argv), dict(os.environ)
    run_dir = tmp_path / "run"
    assert main(["train", "experiment=c1e1", "trainer.seed=0", f"hydra.run.dir={run_dir}"]) == 0
    assert json.loads((run_dir / "metrics.json").read_text())["status"] == "completed"
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert counts == {"compose": 1, "validate": 1}
    assert sys.argv == argv and dict(os.environ) == environment


@pytest.mark.parametrize("members", ["cv.fold=all", "trainer.repeats=2"])
def test_members_of_one_job_still_go_through_their_loop(tmp_path, members):
    run_dir = Path(tmp_path / "job")
    arguments = ["train", "experiment=c1e1", members, f"hydra.run.dir={run_dir}", "trainer.seed=0"]
    if members.startswith("cv"):
        arguments.append("cv.k=2")
    assert main(arguments) == 0
    expected = ["fold_0", "fold_1"] if members.startswith("cv") else ["repeat_0", "repeat_1"]
    assert all((run_dir / name / "metrics.json").is_file() for name in expected)
