"""Checking a composed config against the schema, once, before any work and before TensorFlow loads.

`validate(cfg)` checks every declared field (ldl/config/groups.py, ldl/config/models.py): keys nothing
reads, types, allowed values, bounds, the few rules that tie two keys together, and loss, metric and
initializer names (ldl/config/keras_names.py). It imports nothing heavy, so `ldl train
trainer.batch_size=abc` is refused as fast as a key typo. `validate_config(cfg)` adds the checks that
need Keras (names in another form, such as class names, and the keys of a model family the schema does
not declare; ldl/config/keras_checks.py).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ldl.config.fields import Field, did_you_mean, fraction, is_number, is_whole
from ldl.config.groups import (
    BY_NAME,
    CALLBACK,
    DATA,
    DECLARED,
    HOLD_OUT_NOTHING,
    KERAS_OPTIMIZER_CLASSES,
    OPTIMIZER,
    OPTIMIZER_KEYS,
    ROOT,
)
from ldl.config.keras_names import check_names
from ldl.config.models import MODELS
from ldl.errors import ConfigError

# Validation choices that leave no room for a cross-validation fold.
_NOT_KFOLD = ("holdout", "last_fraction", "none")
# Sections whose leaves are checked by name (fractions, dropout rates) and for finite numbers.
_WALKED = ("data", "model", "optimizer", "trainer", "cv", "fine_tune", "initializer")


def validate(cfg: DictConfig) -> None:
    """ConfigError for the first key nothing reads or value the schema does not allow.

    Needs no TensorFlow; the CLI calls it on the composed config before anything loads."""
    try:
        _check_cross_validation(cfg)
        for section, fields in DECLARED.items():
            _check_declared(cfg.get(section), section, fields)
        _check_present(cfg.get("data"), "data", DATA)
        _check_optimizer(cfg.get("optimizer"))
        _check_model(cfg.get("model"))
        _check_present(cfg, "", ROOT)
        _check_by_name(cfg)
        _check_callbacks(cfg.get("callbacks"))
        check_names(cfg)
    except OmegaConfBaseException as error:  # e.g. an interpolation that cannot be resolved
        first = (str(error).strip().splitlines() or [type(error).__name__])[0].rstrip(".")
        raise ConfigError(f"The config cannot be resolved: {first}.") from None


def validate_config(cfg: DictConfig) -> None:
    """`validate`, then the checks that need Keras: what a run started from Python calls."""
    validate(cfg)
    from ldl.config.keras_checks import check_with_keras, needs_keras

    if needs_keras(cfg):  # a NumPy program's run never loads TensorFlow
        check_with_keras(cfg)


def _check_field(key: str, field: Field, value: Any) -> None:
    problem = field.problem(key, value)
    if problem:
        raise ConfigError(problem)


def _check_present(section: Any, prefix: str, fields: Mapping[str, Field]) -> None:
    """Each declared key that `section` has holds an allowed value."""
    if not isinstance(section, DictConfig):
        return
    for key, field in fields.items():
        if key in section:
            _check_field(f"{prefix}.{key}" if prefix else key, field, section.get(key))


def _check_declared(section: Any, prefix: str, fields: Mapping[str, Field]) -> None:
    """Every key of `section` is declared (something reads it) and holds an allowed value."""
    if not isinstance(section, DictConfig):
        return
    for key in section:
        if str(key) not in fields:
            known = list(fields)
            raise ConfigError(
                f"{prefix}.{key!s} is not an option of {prefix}, so nothing would read it."
                f"{did_you_mean(str(key), known)} The options of {prefix} are: {', '.join(known)}."
            )
    _check_present(section, prefix, fields)


def _check_cross_validation(cfg: DictConfig) -> None:
    cv, validation = cfg.get("cv"), OmegaConf.select(cfg, "trainer.validation")
    fold = cv.get("fold") if isinstance(cv, DictConfig) else None
    if validation == "kfold" and fold is None:
        raise ConfigError(
            "trainer.validation=kfold needs a fold: set cv.fold (0 .. cv.k-1), or sweep all folds with "
            "-m cv.fold='range(5)'."
        )
    k = cv.get("k") if isinstance(cv, DictConfig) else None
    if is_whole(fold) and is_whole(k) and not 0 <= fold < k:
        raise ConfigError(
            f"cv.fold must be an integer from 0 to cv.k-1={k - 1} or 'all' (every fold in one "
            f"job), got {fold!r}, e.g. cv.fold=1 or cv.fold=all."
        )
    if fold is not None and validation in _NOT_KFOLD:
        raise ConfigError(
            f"cv.fold={fold} asks for k-fold cross-validation, but trainer.validation={validation} "
            "asks for another validation split; the two contradict each other. Leave out "
            "trainer.validation (a cv.fold chooses the fold as validation data), or leave out cv.fold."
        )


def _check_optimizer(optimizer: Any) -> None:
    """The optimizer's name, then each key: one its Keras class takes, with an allowed value."""
    if not isinstance(optimizer, DictConfig):
        return
    _check_field("optimizer.name", OPTIMIZER["name"], optimizer.get("name"))
    name = str(optimizer.get("name"))
    known = OPTIMIZER_KEYS[name]
    for key in optimizer:
        if str(key) not in known and str(key) != "name":
            raise ConfigError(
                f"optimizer.{key!s} is not an option of optimizer={name} (keras.optimizers."
                f"{KERAS_OPTIMIZER_CLASSES[name]}), so nothing would read it."
                f"{did_you_mean(str(key), known)} Its options are: {', '.join(known)}."
            )
    _check_present(optimizer, "optimizer", OPTIMIZER)


def model_runtime_keys() -> tuple[str, ...]:
    """Keys of a model config that are no builder argument: its name, runner and data defaults."""
    from ldl.targets import DESCRIPTIVE_KEYS

    return DESCRIPTIVE_KEYS


def _check_model(model: Any) -> None:
    if not isinstance(model, DictConfig):
        return
    fields = MODELS.get(str(model.get("name")))
    if fields is None:
        return  # a family plugged in with its own _target_: its signature decides (keras_checks)
    descriptive = model_runtime_keys()
    for key in model:
        key = str(key)
        if key.startswith("_") or key in descriptive or key in fields:
            continue
        known = list(fields)
        raise ConfigError(
            f"model.{key} is not an option of model={model.get('name')} "
            f"({model.get('_target_')}), so nothing would read it.{did_you_mean(key, known)} Its "
            f"options are: {', '.join(known) or 'none'}."
        )
    _check_present(model, "model", fields)


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


def _check_by_name(cfg: DictConfig) -> None:
    """Keys recognised by their name wherever they are: every number finite, every `*_fraction` a
    fraction and every dropout rate in [0, 1), whether or not this run uses them."""
    dataset = OmegaConf.select(cfg, "data.name")
    declared_model = str(OmegaConf.select(cfg, "model.name")) in MODELS
    for key, value in _walk({section: cfg.get(section) for section in _WALKED}, ""):
        leaf = key.rsplit(".", 1)[-1]
        if is_number(value) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}.")
        if leaf.endswith("_fraction") and value is not None:  # null: not set (all of the data)
            _check_field(key, _fraction_field(key, dataset), value)
        field = BY_NAME.get(leaf)
        if (
            field is not None
            and value is not None
            and not (declared_model and key.startswith("model."))
        ):
            _check_field(key, field, value)


def _fraction_field(key: str, dataset: Any) -> Field:
    # Taking all of the training data is a setting (train_fraction=1); carving all of it out for
    # validation or testing leaves nothing to train on.
    whole = key.endswith("train_fraction") and not key.endswith("train_months_fraction")
    zero = key == "data.test_fraction" and dataset in HOLD_OUT_NOTHING
    return fraction(
        "a share of the examples, checked even when this run does not use it", whole, zero
    )


def _check_callbacks(callbacks: Any) -> None:
    """Each callback is a spec with a _target_ (or null); the sample callbacks' bounds."""
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
        _check_present(spec, f"callbacks.{name!s}", CALLBACK)
