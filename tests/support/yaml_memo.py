"""The tests compose the real config tree hundreds of times (about half of the quick suite's time is Hydra
composing); every composition parses the same YAML files again. `install()` makes OmegaConf parse each
distinct file text once per test process and hand out a deep copy of that parse afterwards.

Only the stream form of `OmegaConf.load` (the one Hydra's config sources call) is memoized, keyed by the
file's whole text, so an edited or new file is parsed afresh; a text that fails to parse is never cached
and fails exactly as before. The result is what `OmegaConf.load` returns for that text: a fresh config
built from an equal parse, nothing shared between compositions."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf._utils import get_yaml_loader

_PARSED: dict[str, Any] = {}
_ORIGINAL = OmegaConf.load


def _load(file_: Any) -> Any:
    if not (hasattr(file_, "read") and hasattr(file_, "seek")):
        return _ORIGINAL(file_)  # a path: as OmegaConf does it
    start = file_.tell()
    text = file_.read()
    if text not in _PARSED:
        file_.seek(start)
        _PARSED[text] = yaml.load(file_, Loader=get_yaml_loader())  # errors name the file as before
    parsed = copy.deepcopy(_PARSED[text])
    if parsed is not None and not isinstance(parsed, (list, dict, str)):
        raise OSError(f"Invalid loaded object type: {type(parsed).__name__}")
    return OmegaConf.create() if parsed is None else OmegaConf.create(parsed)


def install() -> None:
    OmegaConf.load = staticmethod(_load)  # type: ignore[method-assign]


def uninstall() -> None:
    OmegaConf.load = staticmethod(_ORIGINAL)  # type: ignore[method-assign]
