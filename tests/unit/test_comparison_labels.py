"""`ldl report <folder> plot=`: curves named by the settings a person chose that differ (never paths,
logging or values an experiment brings along), folds of one configuration as one legend entry, and runs
shortened below their experiment's own epochs or data marked in the chart and in the table."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import compose_config
from omegaconf import OmegaConf

from ldl.runs.files import write_json
from ldl.runs.report import write_history


def _sweep_job(folder: Path, overrides: list[str], errors: list[float]) -> None:
    """A sweep job's folder as `ldl train -m` leaves it, with Hydra's record of the overrides."""
    folder.mkdir(parents=True)
    config = compose_config(*overrides, f"run_dir={folder}")
    (folder / "config.yaml").write_text(OmegaConf.to_yaml(config))
    (folder / ".hydra").mkdir()
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    hydra = compose_config(*overrides, return_hydra_config=True).hydra
    choices = OmegaConf.to_container(hydra.runtime.choices)
    (folder / ".hydra" / "hydra.yaml").write_text(
        yaml.safe_dump({"hydra": {"runtime": {"choices": choices}}})
    )
    history = [{"train/error": e / 2, "val/error": e, "val/mae": 3 * e} for e in errors]
    write_history(folder / "history.csv", history)
    write_json(folder / "metrics.json", {"experiment": config.experiment_id, "status": "completed"})


def _labels(root: Path) -> list[str]:
    from ldl.runs.comparison import run_curves

    return [curve.label for curve in run_curves(root)]


def test_labels_name_only_the_chosen_settings_that_differ(tmp_path: Path) -> None:
    common = ["experiment=c6e1", "trainer.epochs=2", f"data_dir={tmp_path}", "trainer.seed=0"]
    for number, dropout in enumerate(("0.0", "0.2")):
        _sweep_job(
            tmp_path / "sweep" / f"{number}_c6e1",
            [
                *common,
                f"model.dropout={dropout}",
                f"logger.tensorboard.log_dir={tmp_path}/{number}",
            ],
            [0.4, 0.3],
        )
    labels = _labels(tmp_path / "sweep")
    # not the log folder (a path), not the data folder, not the epochs or the seed they share
    assert labels == ["dropout=0.0", "dropout=0.2"]


@pytest.mark.slow
def test_folds_of_a_configuration_share_one_label(tmp_path: Path) -> None:
    for number, (experiment, fold) in enumerate(
        (e, f) for e in ("c6e1", "c6_conf1") for f in range(3)
    ):
        _sweep_job(
            tmp_path / "sweep" / f"{number}_{experiment}",
            [f"experiment={experiment}", f"cv.fold={fold}", "trainer.epochs=2"],
            [0.5, 0.4],
        )
    labels = _labels(tmp_path / "sweep")
    # the experiment names the curve, cv.fold never does (its folds are one entry, "3 runs")
    assert sorted(set(labels)) == ["c6_conf1", "c6e1"] and len(labels) == 6


def test_runs_of_several_experiments_are_named_by_the_experiment_and_setting(
    tmp_path: Path,
) -> None:
    _sweep_job(tmp_path / "runs" / "a", ["experiment=c5e2", "optimizer=sgd"], [0.3])
    _sweep_job(tmp_path / "runs" / "b", ["experiment=c6e1"], [0.4])
    assert _labels(tmp_path / "runs") == ["c5e2: optimizer=sgd", "c6e1: optimizer=adam"]


def test_a_shortened_run_says_how_in_the_chart_and_the_table(tmp_path: Path, capsys) -> None:
    from ldl.cli.main import main

    runs = tmp_path / "runs"
    _sweep_job(runs / "short", ["experiment=c5e2", "trainer.epochs=2"], [0.3, 0.2])
    _sweep_job(
        runs / "subset", ["experiment=c5e2", "data.max_train_examples=500"], [0.3, 0.25, 0.2]
    )
    assert _labels(runs) == [
        "max_train_examples=None, epochs=2 [2 of 20 epochs]",
        "max_train_examples=500, epochs=20 [first 500 training examples]",
    ]
    write_json(
        runs / "short" / "metrics.json",
        {"experiment": "c5e2", "status": "completed", "test/error": 0.2, "book/test/error": 0.04,
         "book_verdict/test/error": "outside"},
    )  # fmt: skip
    figure = tmp_path / "comparison.png"
    assert main(["report", str(runs), f"plot={figure}"]) == 0
    out = capsys.readouterr().out
    assert (
        "| short | completed | test/error | 0.2 | 0.04 | outside (shortened: 2 of 20 epochs) |"
        in out
    )
    assert figure.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_a_regression_sweep_plots_its_validation_mae_by_default(tmp_path: Path, capsys) -> None:
    from ldl.cli.main import main

    for number, dropout in enumerate(("0.0", "0.2")):
        folder = tmp_path / "sweep" / f"{number}_c6e1"
        _sweep_job(folder, ["experiment=c6e1", f"model.dropout={dropout}"], [0.5, 0.4])
        frame = (folder / "history.csv").read_text().replace("val/error", "val/other")
        (folder / "history.csv").write_text(frame)
    assert main(["report", str(tmp_path / "sweep"), f"plot={tmp_path / 'mae.png'}"]) == 0
    assert "val/mae of 2 run(s)" in capsys.readouterr().out
