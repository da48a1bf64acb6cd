"""Relative paths of a sweep job mean what they meant where the sweep was started.

The basic, parallel and submitit launchers run every job in the directory the sweep was started in;
Ray's workers run in the directory their node was started in. A job therefore reads `data_dir` and
`output_root` relative to the sweep's own starting directory (`hydra.runtime.cwd`), never relative
to wherever its process happens to run.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, open_dict

PATH_KEYS = ("data_dir", "output_root")


def anchor_relative_paths(cfg: DictConfig, start_directory: str | Path) -> None:
    """Make `data_dir` and `output_root` absolute, relative to `start_directory` when relative."""
    with open_dict(cfg):
        for key in PATH_KEYS:
            value = cfg.get(key)
            if isinstance(value, str) and value and not Path(value).is_absolute():
                cfg[key] = str(Path(start_directory) / value)


def job_environment_override(name: str, value: str) -> str:
    """The Hydra override that sets the environment variable `name` in every job, in whatever process
    or machine it runs (Hydra applies hydra.job.env_set when it starts a job); `++` sets or adds."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"++hydra.job.env_set.{name}='{escaped}'"
