"""Names from the config tree (experiments, sweep folders) and configs flattened for logs and HParams."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ldl.config_location import config_dir


def sweep_name(overrides: Any) -> str:
    """A sweep folder name that is the same for the same sweep command, so a re-run resumes it."""
    kept = sorted(str(o) for o in overrides if not str(o).startswith(("hydra.", "hydra/")))
    digest = hashlib.sha1("\n".join(kept).encode()).hexdigest()[:8]
    readable = [
        o for o in kept if not o.startswith(("data_dir=", "output_root=", "trainer.verbose="))
    ]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", "_".join(readable))[:80].strip("-_")
    return f"{slug}_{digest}" if slug else digest


def natural_key(name: str) -> list[int | str]:
    """`c2e1` before `c10e1`: digit runs compare as numbers (c1e1 ... c17e5)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def experiment_ids() -> list[str]:
    return sorted(
        (path.stem for path in (config_dir() / "experiment").glob("*.yaml")), key=natural_key
    )


def flatten(config: Mapping[str, Any] | DictConfig, prefix: str = "") -> dict[str, Any]:
    """`{'a': {'b': 1}}` -> `{'a.b': 1}`; lists become their string form (for HParams and tables)."""
    mapping = resolved_config(config) if isinstance(config, DictConfig) else config
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        name = f"{prefix}{key!s}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, prefix=f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = str(list(value))
        else:
            flat[name] = value
    return flat


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The config with every interpolation resolved, as plain dicts and lists (what config.yaml holds)."""
    container = OmegaConf.to_container(cfg, resolve=True)
    return (
        {str(key): value for key, value in container.items()} if isinstance(container, dict) else {}
    )


# HParams: what identifies a run, not where it lives or how fast it goes.
_HPARAM_GROUPS = ("data.", "model.", "optimizer.", "initializer.", "trainer.", "cv.", "loss")
_NOT_HPARAMS = ("trainer.verbose", "trainer.resume", "trainer.threads", "data.download")


def hparams_of(cfg: DictConfig) -> dict[str, Any]:
    """The hyperparameters shown in TensorBoard's HParams dashboard (what identifies a run)."""
    values = {}
    for key, value in flatten(resolved_config(cfg)).items():
        if key.startswith(_HPARAM_GROUPS) and not key.startswith(_NOT_HPARAMS):
            values[key] = value if isinstance(value, bool | int | float | str) else str(value)
    values["experiment"] = cfg.experiment_id
    return values
