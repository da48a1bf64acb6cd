"""The book's NumPy programs (chapters 1, 3 and 4, Appendix F) never load TensorFlow: their start-up
is the interpreter, NumPy and the composed config (scripts/benchmark_startup.py times it)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import REPO

NUMPY_PROGRAMS = ("c1e1", "c1e2", "c3e1", "c4e1", "c4e2", "aFe1", "aFe2")

# In a fresh interpreter: run `ldl train` (or only check the command, for the programs that need
# MNIST), then say which of TensorFlow and Keras were imported.
CHILD = """
import sys
from ldl.cli.main import main
from ldl.cli.train_check import check_command
from ldl.targets import target_of

experiment, run_dir = sys.argv[1], sys.argv[2]
if run_dir:
    assert main(["train", f"experiment={experiment}", f"hydra.run.dir={run_dir}"]) == 0
else:  # composed, checked, and the program's and runner's modules imported: all before any data
    cfg = check_command([f"experiment={experiment}", "data_dir=data"])
    target_of(cfg.model, "model"), target_of(cfg.runner, "runner")
print(sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
"""


@pytest.mark.slow
@pytest.mark.parametrize("experiment", NUMPY_PROGRAMS)
def test_a_numpy_program_never_imports_tensorflow(experiment, tmp_path):
    # The programs on built-in truth tables run whole; the MNIST ones as far as their first data.
    runs = experiment in ("c1e1", "c1e2", "c3e1")
    run_dir = str(tmp_path / "run") if runs else ""
    (tmp_path / "data").mkdir()  # where the MNIST programs would look for their data
    result = subprocess.run(
        [sys.executable, "-c", CHILD, experiment, run_dir],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO / "src"), "MPLBACKEND": "Agg"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout
