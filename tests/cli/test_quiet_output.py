"""Quiet by default: no line of TensorFlow's C++ runtime (oneDNN, CUDA probing, absl) reaches stderr from
any command or from the Python API, unless the user asks with TF_CPP_MIN_LOG_LEVEL=0."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO, start_ldl

# What TensorFlow's native start-up writes: absl-style lines (`I0000 00:00:...`), its banners.
TENSORFLOW_LINE = re.compile(r"^[IWEF]\d{4} |absl::|oneDNN|cuda|cuInit|cpu_feature_guard", re.M)


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    environment = {**os.environ, "PYTHONPATH": str(REPO / "src"), **(env or {})}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=environment
    )


@pytest.mark.slow
def test_the_python_api_imports_tensorflow_quietly_whoever_imports_it_first() -> None:
    # Keras first (as ldl's own modules and a user's notebook do), then a device query.
    code = "import ldl, keras, tensorflow as tf; tf.config.list_physical_devices(); print('ok')"
    quiet = _python(code)
    assert quiet.returncode == 0 and quiet.stdout.strip() == "ok", quiet.stderr
    assert quiet.stderr == ""
    # `import ldl` alone leaves TensorFlow unimported (light for notebooks and small commands)
    light = _python("import ldl, sys; print('tensorflow' in sys.modules)")
    assert light.stdout.strip() == "False"


@pytest.mark.slow
def test_tensorflow_lines_are_shown_when_the_user_asks(tmp_path: Path) -> None:
    code = "import ldl, tensorflow as tf; print(tf.constant(1).numpy())"
    loud = _python(code, env={"TF_CPP_MIN_LOG_LEVEL": "0"})
    assert loud.returncode == 0, loud.stderr
    assert TENSORFLOW_LINE.search(loud.stderr), loud.stderr  # the switch does something


@pytest.mark.slow
def test_every_command_leaves_stderr_empty(tmp_path: Path, boston_dir: Path) -> None:
    common = [f"data_dir={boston_dir}", f"output_root={tmp_path / 'outputs'}", "trainer.seed=0"]
    sweep = tmp_path / "sweep"
    # The commands of a group need nothing of each other, so they run side by side (a process each);
    # the second group reads what the first wrote.
    groups: list[list[list[str | Path]]] = [
        [
            ["train", "experiment=c6e1", "trainer.epochs=1", *common,
             f"hydra.run.dir={tmp_path / 'run'}"],
            ["train", "-m", "experiment=c6e1", "model.dropout=0.0,0.2", "trainer.epochs=1",
             "trainer.validation=holdout", *common, f"hydra.sweep.dir={sweep}"],
            ["experiments"],
            ["doctor"],
        ],
        [["eval", f"run={tmp_path / 'run'}"]],
        [["report", tmp_path, f"plot={tmp_path / 'runs.png'}"]],
        [["summarize", sweep]],
        [["retrain-best", sweep]],
    ]  # fmt: skip
    for group in groups:
        processes = [
            start_ldl(*command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for command in group
        ]
        for command, process in zip(group, processes, strict=True):
            stdout, stderr = process.communicate(timeout=300)
            # doctor exits 1 here because the machine lacks the real datasets; it still runs fully
            assert process.returncode == (1 if command == ["doctor"] else 0), (
                command,
                stdout[-2000:],
                stderr,
            )
            assert not TENSORFLOW_LINE.search(stderr), (command, stderr)
            assert stderr == "", (command, stderr)
