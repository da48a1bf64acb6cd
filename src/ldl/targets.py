"""One hop from a config to the code it names.

Every buildable config (a model family, a dataset, a runner) names its function with Hydra's `_target_`
key. `call_target` calls that function with the config's own keys as keyword arguments, plus whatever
run-time values (input shape, output count, initializers, ...) the function's signature asks for. So a
new model family or dataset is one Python file and one YAML file; no table in ldl lists them.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from hydra.utils import get_method
from omegaconf import DictConfig, OmegaConf

from ldl.errors import ConfigError

# Keys that describe a config rather than configure its function: the option's name (shown in run
# listings and HParams), the runner that uses it, and the defaults other groups read (`default_loss` ...).
DESCRIPTIVE_KEYS = (
    "name",
    "task",
    "runner",
    "default_loss",
    "default_metrics",
    "default_output_activation",
)


def target_of(config: Mapping[str, Any], group: str) -> Callable[..., Any]:
    """The function a config's `_target_` names, or a ConfigError that says which group lacks one."""
    path = config.get("_target_")
    if not path:
        raise ConfigError(
            f"{group}={config.get('name', '?')} names no builder (`_target_`), so it cannot be used here. "
            f"Check the {group} config file, or choose another {group}."
        )
    try:
        return get_method(str(path))
    except Exception as error:  # Hydra wraps import errors in its own types
        raise ConfigError(
            f"{group}._target_={path} cannot be imported ({error}). Fix the dotted path in the "
            f"{group} config file."
        ) from None


def plain(config: Any) -> Any:
    """Config containers as plain Python dicts and lists (builders never see OmegaConf types)."""
    if isinstance(config, DictConfig) or OmegaConf.is_config(config):
        return OmegaConf.to_container(config, resolve=True)
    return config


def call_target(config: Mapping[str, Any], group: str, **runtime: Any) -> Any:
    """Call the config's `_target_` with its keys and the run-time values its signature names.

    A config key the function does not take is an error naming the key and the options there are,
    so a typo in a YAML file or an override never passes silently.
    """
    function = target_of(config, group)
    options = {
        key: value
        for key, value in plain(config).items()
        if not key.startswith("_") and key not in DESCRIPTIVE_KEYS
    }
    parameters = inspect.signature(function).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = [key for key in options if key not in parameters and not takes_any]
    if unknown:
        known = [
            name for name in parameters if name not in runtime and name not in DESCRIPTIVE_KEYS
        ]
        raise ConfigError(
            f"{group}.{unknown[0]} is not an option of {group}={config.get('name', '?')} "
            f"({config['_target_']}); its options are: {', '.join(known)}."
        )
    given = {key: value for key, value in runtime.items() if key in parameters or takes_any}
    return function(**options, **given)


def import_defining_module(config: Mapping[str, Any]) -> None:
    """Import the module that defines a config's `_target_`, registering the custom Keras layers it
    declares, so a model saved from it can be loaded again."""
    path = config.get("_target_")
    if path:
        importlib.import_module(str(path).rpartition(".")[0])
