"""The optuna_study sweeper's options, checked before any job (and before the sweep folder exists).

`ldl train` calls `check_options` on the composed config of a multirun (`ldl.cli.train_check`), so a
bad option is refused in one paragraph naming its key, before Hydra starts; the sweeper checks again
when Hydra builds it (a sweep started some other way).
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from ldl.errors import ConfigError
from ldl.sweeps.optuna_study.pruning import CV_STEPS

DIRECTIONS = ("minimize", "maximize")
# Options that must be whole numbers of at least this much.
_AT_LEAST = {
    "n_trials": 1,
    "n_jobs": 1,
    "report_every": 1,
    "heartbeat_interval": 1,
    "grace_period": 1,
    "max_retries": 0,
}


def directions_of(direction: Any) -> list[str]:
    """`direction` (one or a list) as a list of minimize/maximize; refused otherwise."""
    if OmegaConf.is_list(direction) or isinstance(direction, list | tuple):
        values = [str(d) for d in direction]
    else:
        values = [str(direction)]
    if not values or any(v not in DIRECTIONS for v in values):
        raise ConfigError(
            f"hydra.sweeper.direction={direction} is not a direction: use minimize or maximize "
            "(or a list of them for several objectives, e.g. [minimize,maximize])."
        )
    return values


def _whole_number(key: str, value: Any, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(
            f"hydra.sweeper.{key}={value} is not allowed: it must be a whole number of at least "
            f"{least}, e.g. hydra.sweeper.{key}={max(least, 1) if key != 'grace_period' else 90}."
        )
    return value


def _builds(key: str, config: Any) -> Any:
    """The sampler or pruner a config builds; refused in one paragraph if Optuna rejects it."""
    from hydra.utils import instantiate

    target = str(config.get("_target_", "")) if isinstance(config, DictConfig) else ""
    if not target.startswith(("optuna.samplers.", "optuna.pruners.")):
        raise ConfigError(
            f"hydra.sweeper.{key} must be one of Optuna's (hydra/sweeper/{key}=...), got {config}."
        )
    try:
        return instantiate(config)
    except Exception as error:  # Optuna's own checks of its arguments
        cause = error.__cause__ or error
        raise ConfigError(
            f"hydra.sweeper.{key} ({target.rsplit('.', 1)[-1]}) cannot be built: {cause}. Fix the "
            f"value under hydra.sweeper.{key} (its options: configs/hydra/sweeper/{key}/)."
        ) from None


def check_options(options: DictConfig, overrides: list[str] | None = None) -> None:
    """Refuse a bad option of the optuna_study sweeper, naming its key."""
    import warnings

    from ldl.sweeps.optuna_study.search_space import parse_search_space
    from ldl.sweeps.optuna_study.storage import check_storage_option

    for key, least in _AT_LEAST.items():
        _whole_number(key, options.get(key), least)
    poll = options.get("poll_seconds")
    if isinstance(poll, bool) or not isinstance(poll, int | float) or not poll > 0:
        raise ConfigError(
            f"hydra.sweeper.poll_seconds={poll} is not allowed: it must be a number of seconds "
            "above 0, e.g. hydra.sweeper.poll_seconds=2."
        )
    cv_steps = options.get("cv_steps", "fold")
    if cv_steps not in CV_STEPS:
        raise ConfigError(
            f"hydra.sweeper.cv_steps={cv_steps} is not allowed: use "
            f"{' or '.join(CV_STEPS)} (what a cv.fold=all trial reports to its pruner after: each "
            "fold, or every report_every epochs inside the folds), e.g. hydra.sweeper.cv_steps=epoch."
        )
    if options.grace_period <= options.heartbeat_interval:
        raise ConfigError(
            f"hydra.sweeper.grace_period={options.grace_period} must exceed "
            f"hydra.sweeper.heartbeat_interval={options.heartbeat_interval}, or every running "
            "trial would look dead between two heartbeats (e.g. grace_period=90 with 30)."
        )
    directions = directions_of(options.get("direction"))
    name = options.get("study_name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ConfigError(f"hydra.sweeper.study_name={name!r} must be a name or null.")
    check_storage_option(options.get("storage"))
    sampler = options.get("sampler")
    if isinstance(sampler, DictConfig) and str(sampler.get("_target_", "")).endswith("GridSampler"):
        raise ConfigError(
            "hydra/sweeper/sampler=grid is not offered by the optuna_study sweeper: a grid needs "
            "no sampler. Sweep a grid with comma-separated values (the basic sweeper), e.g. "
            "ldl train -m optimizer=sgd,adam model.hidden_units=[25],[64]."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna's experimental-feature warnings
        _builds("sampler", sampler)
        pruner = options.get("pruner")
        if pruner is not None:
            _builds("pruner", pruner)
    if len(directions) > 1 and pruner is not None and not _is_no_pruner(pruner):
        raise ConfigError(
            "A search with several objectives cannot be pruned (Optuna prunes on one objective): "
            "use hydra/sweeper/pruner=none, or one direction."
        )
    params = options.get("params") or {}
    parse_search_space([f"{key!s}={value}" for key, value in params.items()] + (overrides or []))


def _is_no_pruner(pruner: Any) -> bool:
    return str(pruner.get("_target_", "")).endswith("NopPruner")


def has_pruner(options: DictConfig) -> bool:
    pruner = options.get("pruner")
    return pruner is not None and not _is_no_pruner(pruner)
