"""The checks `validate_config` runs on a composed config before any work starts.

Two kinds, each reported as one ConfigError that names the key, the value and the allowed values:

- **Nothing unread.** Every key must be read by something: the trainer's, cv's and fine_tune's keys are
  those their config files declare, a builder's keys (model, optimizer) are its keyword arguments. A key
  added with Hydra's `+` that nothing reads (`+trainer.epoch=5`) is an error with the closest names,
  not a run that silently ignores it.
- **Values in range.** Numbers are finite (`learning_rate=nan` is refused), fractions lie in (0, 1]
  and dropout rates in [0, 1) whether or not the run uses them, clipping norms are positive, loss,
  metric and initializer names are ones Keras knows, and options that contradict each other
  (`cv.fold` with `trainer.validation=holdout`) are refused.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from ldl.errors import ConfigError

# Config groups whose keys are fixed by the files that declare them (nothing reads an added key).
_DECLARED_SECTIONS = ("trainer", "cv", "fine_tune")
# What a model builder receives besides its config keys (ldl.models.build_model).
MODEL_RUNTIME_ARGUMENTS = (
    "input_shape",
    "num_outputs",
    "kernel_initializer",
    "output_kernel_initializer",
    "bias_initializer",
)
# Validation choices that leave no room for a cross-validation fold.
_NOT_KFOLD = ("holdout", "last_fraction", "none")
# Upper bound of the sample callbacks' beam width (ldl.decoding.MAX_BEAM_WIDTH, without importing it).
MAX_BEAM_WIDTH = 100


def closest(name: str, options: Iterable[str], count: int = 3) -> list[str]:
    """The options most similar to a mistyped `name` (difflib's ratio), best first."""
    return difflib.get_close_matches(name, list(options), n=count, cutoff=0.6)


def did_you_mean(name: str, options: Iterable[str]) -> str:
    matches = closest(name, options)
    return f" Did you mean {' or '.join(matches)}?" if matches else ""


@cache
def declared_keys(section: str) -> tuple[str, ...]:
    """The keys the config tree declares for `trainer` (trainer/default.yaml) or for a section of the
    root config (train.yaml's cv, fine_tune)."""
    from ldl.config_location import config_dir

    if section == "trainer":
        loaded: Any = OmegaConf.load(config_dir() / "trainer" / "default.yaml")
    else:
        root = OmegaConf.load(config_dir() / "train.yaml")
        loaded = root.get(section) if isinstance(root, DictConfig) else None
    return tuple(str(key) for key in (loaded or {}))


def check_everything_is_read(cfg: DictConfig) -> None:
    """ConfigError for the first key that no part of ldl reads."""
    for section in _DECLARED_SECTIONS:
        values = cfg.get(section)
        if not isinstance(values, DictConfig):
            continue
        known = declared_keys(section)
        for key in values:
            if str(key) not in known:
                raise ConfigError(
                    f"{section}.{key!s} is not an option of {section}, so nothing would read it."
                    f"{did_you_mean(str(key), known)} The options of {section} are: "
                    f"{', '.join(known)}."
                )
    model = cfg.get("model")
    if isinstance(model, DictConfig) and model.get("_target_"):
        builder = _target_function(model, "model")
        parameters = inspect.signature(builder).parameters
        if "cfg" not in parameters:  # a NumPy program reads the whole config itself
            check_target_options(model, "model", builder, MODEL_RUNTIME_ARGUMENTS)
    if _trains_keras_model(cfg):
        _check_optimizer_keys(cfg.get("optimizer"))


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


def _target_function(config: Mapping[str, Any], group: str) -> Callable[..., Any]:
    from ldl.targets import target_of

    return target_of(config, group)


def _check_optimizer_keys(optimizer: Any) -> None:
    if not isinstance(optimizer, DictConfig):
        return
    from ldl.training.optimizers import OPTIMIZERS

    name = optimizer.get("name")
    if name not in OPTIMIZERS:
        raise ConfigError(
            f"optimizer.name={name!r} is not known.{did_you_mean(str(name), OPTIMIZERS)} Use one "
            f"of: {', '.join(OPTIMIZERS)}."
        )
    parameters = inspect.signature(OPTIMIZERS[name].__init__).parameters
    known = [p for p in parameters if p not in ("self", "kwargs", "name")] + ["schedule"]
    for key in optimizer:
        if str(key) not in known and str(key) != "name":
            raise ConfigError(
                f"optimizer.{key!s} is not an option of optimizer={name} (keras.optimizers."
                f"{OPTIMIZERS[name].__name__}), so nothing would read it."
                f"{did_you_mean(str(key), known)} Its options are: {', '.join(known)}."
            )


# --- values -------------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _walk(node: Any, prefix: str) -> Iterable[tuple[str, Any]]:
    """(dotted key, value) of every leaf below `node`."""
    if isinstance(node, DictConfig | dict):
        for key, value in node.items():
            yield from _walk(value, f"{prefix}.{key!s}" if prefix else str(key))
    elif isinstance(node, ListConfig | list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{prefix}[{index}]")
    else:
        yield prefix, node


def check_values(cfg: DictConfig) -> None:
    """ConfigError for the first value that is not finite, out of range or contradicts another."""
    checked = {section: cfg.get(section) for section in ("data", "model", "optimizer", "trainer",
                                                        "cv", "fine_tune", "initializer")}  # fmt: skip
    for key, value in _walk(checked, ""):
        leaf = key.rsplit(".", 1)[-1]
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}.")
        if leaf.endswith("_fraction") and value is not None:  # null: not set (all of the data)
            zero = key == "data.test_fraction" and cfg.data.get("name") in HOLD_OUT_NOTHING
            _check_fraction(key, value, zero_allowed=zero)
        if (
            leaf in ("dropout", "recurrent_dropout")
            and value is not None
            and (not _number(value) or not 0 <= value < 1)
        ):
            raise ConfigError(
                f"{key} must be a dropout rate in [0, 1), got {value!r} ({type(value).__name__})."
            )
        if leaf == "bleu_examples" and value is not None and not _whole_at_least_one(value):
            raise ConfigError(
                f"{key} must be a whole number >= 1 (the first test pairs translated for BLEU) or "
                f"null (every test pair), got {value!r}."
            )
    _check_optimizer_values(cfg.get("optimizer"))
    _check_fine_tune(cfg.get("fine_tune"))
    _check_cross_validation(cfg)
    if _trains_keras_model(cfg):
        _check_keras_names(cfg)
    _check_callbacks(cfg.get("callbacks"))


def _whole_at_least_one(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


# Datasets that may hold out nothing (data.test_fraction=0): the book trains c16e2 on every COCO image.
HOLD_OUT_NOTHING = ("coco_captions",)


def _check_fraction(key: str, value: Any, zero_allowed: bool = False) -> None:
    # Taking all of the training data is a setting (train_fraction=1); carving all of it out for
    # validation or testing leaves nothing to train on.
    whole_allowed = key.endswith("train_fraction") and not key.endswith("train_months_fraction")
    lower, upper = ("[0", "1)") if zero_allowed else ("(0", "1]" if whole_allowed else "1)")
    if (
        not _number(value)
        or (value < 0 if zero_allowed else value <= 0)
        or value > 1
        or (value == 1 and not whole_allowed)
    ):
        raise ConfigError(
            f"{key} must be a fraction in {lower}, {upper}, got {value!r} ({type(value).__name__}); "
            "it is checked even when this run does not use it."
        )


def _check_optimizer_values(optimizer: Any) -> None:
    if not isinstance(optimizer, DictConfig):
        return
    rate = optimizer.get("learning_rate")
    if not _number(rate) or not math.isfinite(rate) or rate <= 0:
        raise ConfigError(
            f"optimizer.learning_rate must be a finite number > 0, got {rate!r}, "
            "e.g. optimizer.learning_rate=0.001."
        )
    for key in ("clipnorm", "clipvalue", "global_clipnorm", "epsilon"):
        value = optimizer.get(key)
        if value is not None and (not _number(value) or value <= 0):
            raise ConfigError(f"optimizer.{key} must be a number > 0 or null (off), got {value!r}.")
    for key in ("beta_1", "beta_2", "momentum", "rho"):
        value = optimizer.get(key)
        if value is not None and (not _number(value) or not 0 <= value < 1):
            raise ConfigError(f"optimizer.{key} must be a number in [0, 1), got {value!r}.")


def _check_fine_tune(fine_tune: Any) -> None:
    if not isinstance(fine_tune, DictConfig):
        return
    for key in ("epochs", "unfreeze_top"):
        value = fine_tune.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"fine_tune.{key} must be a whole number >= 0, got {value!r}.")
    rate = fine_tune.get("learning_rate")
    if not _number(rate) or rate <= 0:
        raise ConfigError(f"fine_tune.learning_rate must be a number > 0, got {rate!r}.")


def _check_cross_validation(cfg: DictConfig) -> None:
    fold = OmegaConf.select(cfg, "cv.fold")
    validation = OmegaConf.select(cfg, "trainer.validation")
    if fold is not None and validation in _NOT_KFOLD:
        raise ConfigError(
            f"cv.fold={fold} asks for k-fold cross-validation, but trainer.validation={validation} "
            "asks for another validation split; the two contradict each other. Leave out "
            "trainer.validation (a cv.fold chooses the fold as validation data), or leave out cv.fold."
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


def _trains_keras_model(cfg: DictConfig) -> bool:
    """Only the keras_fit runner compiles the loss, metrics, initializers and optimizer the config
    names; the other runners (a NumPy program, inference) never read them, so a NumPy program's run
    is checked without loading Keras."""
    return OmegaConf.select(cfg, "runner._target_") == "ldl.training.recipe.train_keras"


def _check_keras_names(cfg: DictConfig) -> None:
    """Loss, metric and initializer names Keras does not know are refused before any data is read."""
    import keras

    from ldl.targets import plain

    losses = plain(cfg.get("loss"))
    for key, name in _named(losses, "loss"):
        try:
            keras.losses.get(name)
        except (ValueError, TypeError):
            options = _keras_names("loss")
            raise ConfigError(
                f"{key}={name!r} is not a Keras loss.{did_you_mean(str(name), options)} Losses: "
                f"{', '.join(options)}."
            ) from None
    from ldl.training.metrics import LDL_METRICS

    metrics = plain(cfg.get("metrics"))
    for key, name in _named(metrics, "metrics"):
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
    initializer = cfg.get("initializer")
    if isinstance(initializer, DictConfig):
        for part, spec in initializer.items():
            chosen = spec.get("name") if isinstance(spec, DictConfig) else None
            if isinstance(chosen, str):
                try:
                    keras.initializers.get(chosen)
                except (ValueError, TypeError):
                    raise ConfigError(
                        f"initializer.{part!s}.name={chosen!r} is not a Keras initializer, e.g. "
                        "glorot_uniform, he_normal, random_uniform, zeros."
                    ) from None


def _named(value: Any, key: str) -> Iterable[tuple[str, str]]:
    """(key, name) of every loss or metric given by name: a name, a list, or a mapping by output."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, list):
        for item in value:
            yield from _named(item, key)
    elif isinstance(value, dict):
        for head, item in value.items():
            yield from _named(item, f"{key}.{head}")


def _check_callbacks(callbacks: Any) -> None:
    """Sample-decoding settings of the text callbacks (beam width, samples) in sensible bounds."""
    if not isinstance(callbacks, DictConfig):
        return
    for name, spec in callbacks.items():
        if spec is None:
            continue
        if not isinstance(spec, DictConfig) or "_target_" not in spec:
            raise ConfigError(
                f"callbacks.{name!s} must be a callback spec with a _target_ (or null to drop it), "
                f"got {spec!r}."
            )
        for key, bound in (("beam_width", MAX_BEAM_WIDTH), ("samples", 100)):
            value = spec.get(key)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= bound
            ):
                raise ConfigError(
                    f"callbacks.{name!s}.{key} must be a whole number from 1 to {bound}, got {value!r}."
                )
