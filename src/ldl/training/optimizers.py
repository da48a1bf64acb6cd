"""Optimizers and learning-rate schedules from config; Keras 3 names (`learning_rate`, no `decay`)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import keras

from ldl.errors import ConfigError

OPTIMIZERS: dict[str, type[keras.optimizers.Optimizer]] = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
}

SCHEDULES: dict[str, type[keras.optimizers.schedules.LearningRateSchedule]] = {
    "exponential_decay": keras.optimizers.schedules.ExponentialDecay,
    "inverse_time_decay": keras.optimizers.schedules.InverseTimeDecay,
    "piecewise_constant": keras.optimizers.schedules.PiecewiseConstantDecay,
    "cosine_decay": keras.optimizers.schedules.CosineDecay,
    "polynomial_decay": keras.optimizers.schedules.PolynomialDecay,
}


def build_schedule(
    learning_rate: float, schedule: Mapping[str, Any]
) -> keras.optimizers.schedules.LearningRateSchedule:
    """A learning-rate schedule starting at `learning_rate` (the book's old `decay` is inverse_time)."""
    # Plain Python values: Keras serializes the schedule into every checkpoint (no ListConfig there).
    arguments = {
        key: list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
        for key, value in schedule.items()
    }
    name = arguments.pop("name", None)
    if name not in SCHEDULES:
        raise ConfigError(
            f"optimizer.schedule.name={name!r} is not known. Use one of: {', '.join(SCHEDULES)}."
        )
    if name == "piecewise_constant":
        return SCHEDULES[name](**arguments)
    key = "initial_learning_rate"
    try:
        return SCHEDULES[name](**{key: learning_rate, **arguments})
    except TypeError as error:
        raise ConfigError(f"optimizer.schedule {name} got bad arguments: {error}.") from None


def build_optimizer(optimizer_config: Mapping[str, Any]) -> keras.optimizers.Optimizer:
    """Build a Keras optimizer; null clipping values and the schedule are handled here."""
    arguments = {key: value for key, value in optimizer_config.items() if value is not None}
    name = arguments.pop("name")
    schedule = arguments.pop("schedule", None)
    if name not in OPTIMIZERS:
        raise ConfigError(f"optimizer={name} is not known. Use one of: {', '.join(OPTIMIZERS)}.")
    # Without one in the config (every configs/optimizer file sets it), Keras's own default.
    default = inspect.signature(OPTIMIZERS[name]).parameters["learning_rate"].default
    learning_rate = float(arguments.get("learning_rate", default))
    if learning_rate <= 0:
        raise ConfigError(f"optimizer.learning_rate must be > 0, got {learning_rate}.")
    if schedule:
        arguments["learning_rate"] = build_schedule(learning_rate, schedule)
    try:
        return OPTIMIZERS[name](**arguments)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"optimizer={name} got bad arguments {arguments}: {error}.") from None
