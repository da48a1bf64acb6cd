"""The checks that need Keras, run after the schema's (ldl/config/validation.py) and before any work.

- Loss and metric names are ones Keras knows, asked of Keras itself: the authority, for
  names in any form (ldl/config/keras_names.py has already refused a lower-case name it lacks).
- A model family the schema does not declare (plugged in with its own `_target_`) has only keys its
  builder takes.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ldl.config.fields import did_you_mean
from ldl.config.keras_names import named
from ldl.config.models import MODELS
from ldl.errors import ConfigError

# What a model builder receives besides its config keys (ldl.models.build_model).
MODEL_RUNTIME_ARGUMENTS = (
    "input_shape",
    "num_outputs",
    "kernel_initializer",
    "output_kernel_initializer",
    "bias_initializer",
)


# The runner that compiles the loss, metrics, initializers and optimizer a config names.
KERAS_RUNNER = "ldl.training.recipe.train_keras"


def needs_keras(cfg: DictConfig) -> bool:
    """Whether `check_with_keras` has anything to judge: only the keras_fit runner reads the Keras
    names, and a model family plugged in with its own `_target_` is checked by its signature. A NumPy
    program's run (or an inference run) is checked without loading TensorFlow."""
    model = cfg.get("model")
    plugged_in = (
        isinstance(model, DictConfig)
        and bool(model.get("_target_"))
        and str(model.get("name")) not in MODELS
    )
    return plugged_in or OmegaConf.select(cfg, "runner._target_") == KERAS_RUNNER


def check_with_keras(cfg: DictConfig) -> None:
    """ConfigError for the first name Keras does not know, or key a plugged-in builder does not take."""
    model = cfg.get("model")
    if (
        isinstance(model, DictConfig)
        and model.get("_target_")
        and str(model.get("name")) not in MODELS
    ):
        from ldl.targets import target_of

        builder = target_of(model, "model")
        if "cfg" not in inspect.signature(builder).parameters:  # a NumPy program reads cfg itself
            check_target_options(model, "model", builder, MODEL_RUNTIME_ARGUMENTS)
    _check_keras_names(cfg)


def check_target_options(
    config: Mapping[str, Any],
    group: str,
    function: Callable[..., Any],
    runtime: Iterable[str] = (),
) -> None:
    """ConfigError if the config has a key `function` does not take (the rule `call_target` applies
    when it builds, checked here before any work)."""
    from ldl.targets import DESCRIPTIVE_KEYS

    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    runtime = tuple(runtime)
    for key in config:
        key = str(key)
        if key.startswith("_") or key in DESCRIPTIVE_KEYS or key in parameters:
            continue
        known = [
            name for name in parameters if name not in runtime and name not in DESCRIPTIVE_KEYS
        ]
        raise ConfigError(
            f"{group}.{key} is not an option of {group}={config.get('name', '?')} "
            f"({config.get('_target_')}), so nothing would read it.{did_you_mean(key, known)} Its "
            f"options are: {', '.join(known)}."
        )


def _keras_names(kind: str) -> list[str]:
    """Names Keras accepts for losses or metrics, for the error message."""
    import keras

    module = keras.losses if kind == "loss" else keras.metrics
    return sorted(
        name
        for name, item in vars(module).items()
        if inspect.isfunction(item)
        and not name.startswith(("_", "get", "serialize", "deserialize"))
    )


def _check_keras_names(cfg: DictConfig) -> None:
    """Loss and metric names Keras does not know are refused before any data is read."""
    import keras

    from ldl.targets import plain

    for key, name in named(plain(cfg.get("loss")), "loss"):
        try:
            keras.losses.get(name)
        except (ValueError, TypeError):
            options = _keras_names("loss")
            raise ConfigError(
                f"{key}={name!r} is not a Keras loss.{did_you_mean(str(name), options)} Losses: "
                f"{', '.join(options)}."
            ) from None
    from ldl.training.metrics import LDL_METRICS

    for key, name in named(plain(cfg.get("metrics")), "metrics"):
        if name in LDL_METRICS:
            continue
        try:
            keras.metrics.get(name)
        except (ValueError, TypeError):
            options = sorted([*_keras_names("metrics"), *LDL_METRICS])
            raise ConfigError(
                f"{key}={name!r} is not a Keras metric.{did_you_mean(str(name), options)} "
                f"Metrics: {', '.join(options)}."
            ) from None
