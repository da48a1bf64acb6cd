"""logger=mlflow: a tiny run and a two-job sweep logged into the default SQLite store beside the outputs
folder, read back through MLflow's own client: parameters, per-epoch and test metrics, book verdicts,
artefacts; a sweep is one MLflow experiment with a run per job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_ldl


@pytest.mark.slow
def test_runs_and_a_sweep_read_back_through_mlflow(tmp_path: Path, boston_dir: Path) -> None:
    mlflow = pytest.importorskip("mlflow", reason="the [mlflow] extra (in dev) installs MLflow")
    common = ["experiment=c6e1", "trainer.epochs=2", "trainer.seed=0", "logger=mlflow",
              f"data_dir={boston_dir}", f"output_root={tmp_path / 'outputs'}"]  # fmt: skip
    single = run_ldl(
        "train", *common, f"hydra.run.dir={tmp_path / 'outputs' / 'one'}", cwd=tmp_path
    )
    assert single.returncode == 0, single.stderr
    assert single.stderr == ""  # MLflow's and Alembic's start-up lines stay out of ldl's output
    sweep = tmp_path / "outputs" / "multirun" / "dropout"
    swept = run_ldl(
        "train", "-m", *common, "model.dropout=0.0,0.2", f"hydra.sweep.dir={sweep}", cwd=tmp_path
    )
    assert swept.returncode == 0, swept.stderr

    store = tmp_path / "mlflow.db"  # beside the outputs folder
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{store}")
    (run,) = client.search_runs([client.get_experiment_by_name("c6e1").experiment_id])
    recorded = json.loads((tmp_path / "outputs" / "one" / "metrics.json").read_text())
    assert run.info.run_name == "one" and run.info.status == "FINISHED"
    assert run.data.params["trainer.epochs"] == "2" and run.data.params["model.dropout"] == "0.0"
    assert run.data.metrics["test/mae"] == pytest.approx(recorded["test/mae"])
    assert run.data.tags["book_verdict/test/mae"] == recorded["book_verdict/test/mae"]
    history = client.get_metric_history(run.info.run_id, "val/mae")
    assert sorted({point.step for point in history}) == [1, 2]
    artefacts = {item.path for item in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "metrics.json", "history.csv", "model.keras"} <= artefacts
    assert "checkpoint" not in artefacts

    jobs = client.search_runs([client.get_experiment_by_name("dropout").experiment_id])
    assert sorted(job.info.run_name for job in jobs) == ["0_c6e1", "1_c6e1"]
    assert sorted(job.data.params["model.dropout"] for job in jobs) == ["0.0", "0.2"]
