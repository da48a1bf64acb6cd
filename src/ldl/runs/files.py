"""Small file helpers: writes that never leave a half-written file behind, and reads that name the file
when it is damaged.

Every file ldl reads back from a run or sweep folder (metrics.json, config.yaml, data.json,
.hydra/overrides.yaml, checkpoints) may have been truncated by a full disk, a kill or a careless edit.
A damaged file is a `DamagedFileError` whose message names the file and what is wrong with it, never
a JSON or YAML traceback (and never "file not found" for a file that is there).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ldl.errors import RunFolderError

# Where a text task writes the completions it samples, one block per sampling, headed
# "Sample completions after epoch N" (the run records keep the final block).
SAMPLES_FILE = "samples.txt"
SAMPLES_HEADER = "Sample completions after"


class DamagedFileError(RunFolderError):
    """A run or sweep file exists but cannot be read (truncated, empty, not the expected format)."""

    def __init__(self, path: Path | str, problem: str, hint: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"{self.path} is damaged: {problem}."
            + (f" {hint}" if hint else " Restore it from a copy, or delete the folder it is in.")
        )


def atomic_write_text(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so readers see the old or the new file, never half.

    The temporary file is removed if the write fails (a full disk leaves no `.tmp` debris)."""
    path = Path(path)
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically; NaN and infinity become strings so the file stays valid JSON."""
    atomic_write_text(path, json.dumps(_json_safe(data), indent=2, sort_keys=False) + "\n")


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        raise DamagedFileError(path, "it is not text (binary or garbled bytes)") from None
    except IsADirectoryError:
        raise DamagedFileError(path, "it is a folder where a file is expected") from None


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from `path`; a DamagedFileError naming the file if it is not one."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise DamagedFileError(path, "it is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DamagedFileError(
            path, f"it is not valid JSON ({error.msg} at line {error.lineno})"
        ) from None
    if not isinstance(data, dict):
        raise DamagedFileError(path, f"it holds a JSON {type(data).__name__}, not an object")
    return data


def read_yaml(path: Path, expected: type = dict) -> Any:
    """A YAML mapping (or list, with expected=list) from `path`, as plain Python values; a
    DamagedFileError naming the file if it cannot be parsed or holds something else."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise DamagedFileError(path, "it is empty")
    try:
        loaded = OmegaConf.create(yaml.load(text, Loader=_loader()))
        data = OmegaConf.to_container(loaded, resolve=False)
    except (yaml.YAMLError, OmegaConfBaseException, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise DamagedFileError(path, f"it is not valid YAML ({first_line})") from None
    if not isinstance(data, expected):
        kind = "mapping" if expected is dict else "list"
        raise DamagedFileError(path, f"it holds a {type(data).__name__}, not a {kind}")
    return data


def _loader() -> Any:
    """OmegaConf's YAML loader (it reads `1e-3` as a float, as config files expect)."""
    from omegaconf._utils import get_yaml_loader

    return get_yaml_loader()
