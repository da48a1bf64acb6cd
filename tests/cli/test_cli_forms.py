"""Every form of `ldl train`'s command line works: Hydra's --cfg job|hydra|all, --resolve and --info
anywhere among the overrides, with -m too (ldl prints each job's composed config, which Hydra itself
refuses), never "unrecognized arguments" or a traceback; a search id given as experiment= is pointed
to its -m hparams_search= form; `ldl experiments` lists the searches and keeps its columns."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import assert_clean_error, run_ldl


def _jobs(output: str) -> list[tuple[str, dict]]:
    """(header, config) of each job that `--cfg` with -m printed."""
    parts = output.split("# job ")[1:]
    return [(part.splitlines()[0], yaml.safe_load(part.split("\n", 1)[1])) for part in parts]


@pytest.mark.slow
def test_cfg_with_multirun_prints_each_jobs_config(tmp_path: Path) -> None:
    result = run_ldl(
        "train", "-m", "experiment=c6e1", "optimizer=sgd,adam", "--cfg", "job", "--resolve",
        f"output_root={tmp_path}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "unrecognized" not in result.stderr and "Traceback" not in result.stderr
    jobs = _jobs(result.stdout)
    assert [header.split(": ", 1)[1] for header, _ in jobs] == [
        f"experiment=c6e1 optimizer=sgd output_root={tmp_path}",
        f"experiment=c6e1 optimizer=adam output_root={tmp_path}",
    ]
    first, second = (config for _, config in jobs)
    assert "hydra" not in first and first["optimizer"]["name"] != second["optimizer"]["name"]
    # resolved: each job's own folder in the sweep folder, as the sweep would create it
    assert first["run_dir"].endswith("/0_c6e1") and second["run_dir"].endswith("/1_c6e1")
    assert not (tmp_path / "multirun").exists()  # nothing written


@pytest.mark.slow
def test_every_cfg_part_and_info_work_in_any_position(tmp_path: Path) -> None:
    grid = run_ldl("train", "-m", "hparams_search=c6_kfold", "--cfg", "hydra", cwd=tmp_path)
    assert grid.returncode == 0, grid.stderr
    jobs = _jobs(grid.stdout)
    assert len(jobs) == 30 and set(jobs[0][1]) == {"hydra"}
    optuna = run_ldl("train", "-m", "hparams_search=c5_optuna", "--cfg", "all", cwd=tmp_path)
    assert optuna.returncode == 0, optuna.stderr
    assert "chooses each job's values while the sweep runs" in optuna.stdout
    single = run_ldl("train", "--cfg", "job", "trainer.epochs=3", "--resolve", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    assert yaml.safe_load(single.stdout)["trainer"]["epochs"] == 3
    for info in (["-m", "experiment=c6e1", "optimizer=sgd,adam", "--info"],
                 ["--info", "defaults", "experiment=c6e1"]):  # fmt: skip
        result = run_ldl("train", *info, cwd=tmp_path)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert "usage:" not in result.stdout + result.stderr
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
def test_a_search_id_as_experiment_points_to_its_sweep(tmp_path: Path) -> None:
    result = run_ldl("train", "experiment=c17e4", cwd=tmp_path)
    assert_clean_error(result, "ldl train -m hparams_search=c17e4")
    assert not any(tmp_path.iterdir())


def test_experiments_lists_searches_and_keeps_its_columns(capsys) -> None:
    from ldl.cli.main import main

    assert main(["experiments"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line and not line.startswith(" ") and "  " in line]
    starts = {len(line) - len(line[len(line.split()[0]) :].lstrip()) for line in rows}
    assert len(starts) == 1, rows  # every description starts in the same column
    ids = {line.split()[0] for line in rows}
    assert {"c5e2", "c17e2_const_text", "c17e4", "c6_kfold"} <= ids
