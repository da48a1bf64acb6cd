"""Where ldl's Hydra config tree lies: packaged inside `ldl` (a wheel) or at the root of a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ldl.errors import ConfigError


def config_dir() -> Path:
    """The config tree: packaged inside `ldl` (wheel) or at the root of a source checkout."""
    packaged = resources.files("ldl") / "configs"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "configs"
    if checkout.is_dir():
        return checkout
    raise ConfigError(
        "ldl's config tree was not found: it should be packaged as ldl/configs or lie at the root of "
        "the source checkout. Reinstall with `pip install .` from the repository."
    )
