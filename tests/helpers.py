"""The two ways tests drive ldl: compose a config from the real config tree, or run the `ldl` command
in a subprocess as a user would."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from ldl.config import config_dir

REPO = Path(__file__).resolve().parents[1]


def compose_config(*overrides: str, return_hydra_config: bool = False) -> DictConfig:
    """`train.yaml` composed with `overrides`, exactly as `ldl train` composes it."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=return_hydra_config)


def run_ldl(
    *arguments: str | Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess:
    """`ldl <arguments>` in a fresh Python process (this checkout's code first on the path)."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO / "src"), environment.get("PYTHONPATH")])
    )
    return subprocess.run(
        [sys.executable, "-m", "ldl.cli.main", *map(str, arguments)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        preexec_fn=_end_with_the_test_process,
    )


def _end_with_the_test_process() -> None:
    """In the child: get SIGTERM when the test process dies (Linux), so that a killed test suite
    leaves no `ldl` process behind; SIGTERM is what ldl stops cleanly on."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_ldl(
    *arguments: str | Path,
    cwd: Path | None = None,
    stdout: int | None = subprocess.DEVNULL,
    stderr: int | None = subprocess.DEVNULL,
    new_session: bool = True,
) -> subprocess.Popen:
    """`ldl <arguments>` started in the background, as the `ldl` program (its stop handlers on), in a
    process group of its own (a signal to the group reaches it as Ctrl-C in a terminal would), ended
    with the test process if that dies first."""
    environment = {**os.environ}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO / "src"), str(REPO / "tests"), environment.get("PYTHONPATH")])
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ldl.cli.main", *map(str, arguments)],
        cwd=cwd,
        env=environment,
        stdout=stdout,
        stderr=stderr,
        text=True,
        start_new_session=new_session,
        preexec_fn=_end_with_the_test_process,
    )


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Non-zero exit, a message naming the problem, and no Python traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
