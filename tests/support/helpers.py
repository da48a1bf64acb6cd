"""The test harness: every way a test drives ldl goes through here.

- `compose_config`: a config composed from the real config tree, as `ldl train` composes it.
- `run_cli`: the `ldl` command in this process (`ldl.cli.main.main`, what the entry point calls), with
  its output captured: a fraction of a second instead of a fresh TensorFlow import. For refusals and
  anything that needs no process of its own.
- `run_ldl` / `start_ldl`: the `ldl` program in a fresh Python process (run to the end, or started in the
  background for signals), for what only a real process shows: its stop handlers, its exit status, its
  start-up, a kill.

The subprocess forms share one environment (`ldl_environment`): this checkout's `src/` first on the
path, then the tests' support modules (so a config can name `crash_callbacks.CrashAfterEpoch`).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from ldl.config import config_dir

REPO = Path(__file__).resolve().parents[2]
SUPPORT = Path(__file__).resolve().parent
# Small files in real formats that tests read (an Optuna 2 study storage, ...).
TEST_DATA = SUPPORT / "data"
# The tiny-run preset (configs/debug/tiny.yaml): one epoch, no TensorBoard, quiet, seed 0.
TINY = "debug=tiny"


def compose_config(*overrides: str, return_hydra_config: bool = False) -> DictConfig:
    """`train.yaml` composed with `overrides`, exactly as `ldl train` composes it."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose("train", overrides=list(overrides), return_hydra_config=return_hydra_config)


# --- ldl in this process --------------------------------------------------------------------------


@dataclass
class Outcome:
    code: int | None
    out: str
    err: str
    error: BaseException | None = None  # an exception that escaped: a traceback for a user


def run_cli(*arguments: str | Path, cwd: Path) -> Outcome:
    """`ldl <arguments>` in this process, from `cwd`, with stdout and stderr captured."""
    from ldl.cli.main import main

    _protect_pytest_capture()
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    os.chdir(cwd)
    code: int | None
    escaped: BaseException | None = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in arguments])
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else 1
            except Exception as error:  # reported as the traceback it would be
                code, escaped = None, error
    finally:
        os.chdir(previous)
    return Outcome(code, out.getvalue(), err.getvalue(), escaped)


def _protect_pytest_capture() -> None:
    """absl's log handler (imported with Keras) closes its stream when Hydra resets logging, unless
    that stream is the current sys.stderr; if Keras was imported while pytest captured stderr, that
    stream is pytest's capture file, so point the handler at the process's own stderr first."""
    absl_logging = sys.modules.get("absl.logging")
    if absl_logging is not None:
        absl_logging.get_absl_handler().python_handler.stream = sys.__stderr__


# --- ldl in a process of its own -------------------------------------------------------------------


def ldl_environment(env: Mapping[str, str] | None = None, inherit: bool = True) -> dict[str, str]:
    """The environment of a child process: this process's (or, with `inherit=False`, only PATH),
    `env` on top, and this checkout's `src/` and the tests' support modules first on PYTHONPATH."""
    base = dict(os.environ) if inherit else {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    environment = {**base, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO / "src"), str(SUPPORT), environment.get("PYTHONPATH")])
    )
    return environment


def ldl_command(*arguments: str | Path) -> list[str]:
    """The `ldl` program as this interpreter runs it (the entry point's module)."""
    return [sys.executable, "-m", "ldl.cli.main", *map(str, arguments)]


def run_ldl(
    *arguments: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess:
    """`ldl <arguments>` in a fresh Python process, run to its end, its output captured."""
    return subprocess.run(
        ldl_command(*arguments),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=ldl_environment(env),
        preexec_fn=_end_with_the_test_process,
    )


def start_ldl(
    *arguments: str | Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    inherit: bool = True,
    stdout: int | None = subprocess.DEVNULL,
    stderr: int | None = subprocess.DEVNULL,
    new_session: bool = True,
) -> subprocess.Popen:
    """`ldl <arguments>` started in the background, as the `ldl` program (its stop handlers on), in a
    process group of its own (a signal to the group reaches it as Ctrl-C in a terminal would), ended
    with the test process if that dies first."""
    return subprocess.Popen(
        ldl_command(*arguments),
        cwd=cwd,
        env=ldl_environment(env, inherit=inherit),
        stdout=stdout,
        stderr=stderr,
        text=True,
        start_new_session=new_session,
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


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """Non-zero exit, a message naming the problem, and no Python traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
