"""notebooks/c5e2_quickstart.ipynb runs end to end in a Jupyter kernel (nbclient), on MNIST stand-ins:
the Python API (ldl.train, ldl.load_run, ldl.plot_runs) works where no Hydra app runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO
from test_quiet_output import TENSORFLOW_LINE

NOTEBOOK = REPO / "notebooks" / "c5e2_quickstart.ipynb"


@pytest.mark.slow
def test_the_example_notebook_runs_end_to_end(tmp_path: Path, mnist_dir: Path, monkeypatch) -> None:
    nbclient = pytest.importorskip("nbclient", reason="the dev extra installs nbclient")
    import nbformat

    # The kernel is a fresh process: it gets this checkout's code and the stand-in data through its
    # environment, as a notebook server started in a configured shell would.
    monkeypatch.setenv("PYTHONPATH", str(REPO / "src"))
    monkeypatch.setenv("LDL_DATA_DIR", str(mnist_dir))
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    notebook = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    text = "".join(output.get("text", "") for output in outputs)
    assert "test error" in text and "notebook_runs" in text
    assert "Traceback" not in text and "HydraConfig" not in text
    # quiet inside Jupyter too: TensorFlow's native start-up lines never reach the notebook
    assert not TENSORFLOW_LINE.search(text), text
    # two runs and their comparison chart, shown inline as a PNG
    runs = sorted((tmp_path / "notebook_runs").glob("*/*_c5e2/metrics.json"))
    assert len(runs) == 2
    assert (tmp_path / "notebook_runs" / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert any("image/png" in output.get("data", {}) for output in outputs)
