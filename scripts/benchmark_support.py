"""What the benchmark scripts share: where the real data lies, and running one case in a fresh process.

Each benchmark times every side (ldl, a plain-Keras baseline, ...) in its own Python process, so that
one side's TensorFlow state, threads and memory high-water mark never colour another's. The script
re-invokes itself with an extra flag; the child prints `RESULT_PREFIX` + JSON as its last line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

# The line a child prints last, followed by its results as JSON.
RESULT_PREFIX = "BENCHMARK_RESULT "


def default_data_dir() -> Path:
    """$LDL_DATA_DIR if set, else `../shared/data` next to the repository root (this script's ../..)."""
    from_env = os.environ.get("LDL_DATA_DIR")
    if from_env:
        return Path(from_env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def print_result(result: dict[str, Any]) -> None:
    """The child's last line: its results for the parent."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def run_child(script: str, argv: list[str], tag: str, name: str) -> dict[str, Any]:
    """Run `script` with `argv` in a fresh Python process, echo its output lines prefixed with
    `[tag]`, and return the JSON result it prints; a failed child stops the benchmark, naming `name`."""
    command = [sys.executable, str(Path(script).resolve()), *argv]
    result: dict[str, Any] | None = None
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1) as process:
        if process.stdout is None:
            raise SystemExit(f"could not read the output of the {name}")
        for line in process.stdout:
            if line.startswith(RESULT_PREFIX):
                result = json.loads(line[len(RESULT_PREFIX) :])
            else:
                print(f"[{tag}] {line}", end="", flush=True)
    if process.returncode != 0 or result is None:
        raise SystemExit(f"The {name} failed (exit status {process.returncode}).")
    return result
