"""Finding the config tree, checking config values, and flattening configs for logs and HParams.

Hydra catches unknown keys and unknown group options; `validate_config` catches what it cannot: wrong
types, out-of-range values and keys nothing reads (ldl.config_checks), each reported with the key, the
value and how to fix it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from ldl.config_location import config_dir
from ldl.errors import ConfigError

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
VALIDATIONS = ("test", "holdout", "last_fraction", "kfold", "none")


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


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _require_int(cfg: Mapping[str, Any], key: str, prefix: str, minimum: int | None = 1) -> None:
    value = cfg.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (minimum is not None and value < minimum)
    ):
        raise ConfigError(
            f"{prefix}.{key} must be an integer >= {minimum}, got {_describe(value)}. "
            f"Set it on the command line, e.g. {prefix}.{key}={max(minimum or 0, 1)}."
        )


def _require_optional_int(cfg: Mapping[str, Any], key: str, prefix: str, minimum: int) -> None:
    if cfg.get(key) is not None:
        _require_int(cfg, key, prefix, minimum)


def _require_number(cfg: Mapping[str, Any], key: str, prefix: str, minimum: float) -> None:
    value = cfg.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ConfigError(
            f"{prefix}.{key} must be a number >= {minimum:g}, got {_describe(value)}, "
            f"e.g. {prefix}.{key}=30."
        )


def _require_choice(cfg: Mapping[str, Any], key: str, prefix: str, choices: tuple) -> None:
    if cfg.get(key) not in choices:
        options = ", ".join(str(choice) for choice in choices)
        raise ConfigError(
            f"{prefix}.{key}={_describe(cfg.get(key))} is not allowed; use one of: {options}."
        )


def _validate_data(data: DictConfig) -> None:
    """The options every dataset has: example counts and the training subset."""
    for key in ("max_train_examples", "max_test_examples", "overfit_subset"):
        _require_optional_int(data, key, "data", minimum=1)
    fraction = data.get("train_fraction")
    if fraction is not None and (
        isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1
    ):
        raise ConfigError(
            f"data.train_fraction must be a number in (0, 1], got {_describe(fraction)}, "
            "e.g. data.train_fraction=0.5."
        )


def _require_fold(cv: DictConfig) -> None:
    fold = cv.get("fold")
    if fold is None:
        return
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < cv.k:
        raise ConfigError(
            f"cv.fold must be an integer from 0 to cv.k-1={cv.k - 1} or 'all' (every fold in one "
            f"job), got {_describe(fold)}, e.g. cv.fold=1 or cv.fold=all."
        )


def _validate_trainer(trainer: DictConfig) -> None:
    _require_int(trainer, "epochs", "trainer", minimum=0)  # 0: evaluate only (baselines)
    _require_int(trainer, "batch_size", "trainer")
    if trainer.get("eval_batch_size") != "auto":
        try:
            _require_int(trainer, "eval_batch_size", "trainer")
        except ConfigError as error:
            raise ConfigError(
                f"{error} Or trainer.eval_batch_size=auto: sized by the model's layer outputs."
            ) from None
    _require_int(trainer, "steps_per_execution", "trainer", minimum=0)
    _require_optional_int(trainer, "checkpoint_every", "trainer", minimum=1)
    _require_number(trainer, "checkpoint_seconds", "trainer", minimum=0)
    _require_int(trainer, "print_predictions", "trainer", minimum=0)
    _require_optional_int(trainer, "seed", "trainer", minimum=0)
    _require_optional_int(trainer, "validation_seed", "trainer", minimum=0)
    _require_optional_int(trainer, "threads", "trainer", minimum=1)
    _require_choice(trainer, "precision", "trainer", PRECISIONS)
    _require_choice(trainer, "validation", "trainer", VALIDATIONS)
    _require_choice(trainer, "jit_compile", "trainer", (True, False, "auto"))
    _require_choice(trainer, "loop", "trainer", ("auto", "fit", "graph"))
    _require_choice(trainer, "population", "trainer", ("auto", "in_turn"))
    _require_int(trainer, "repeats", "trainer", minimum=1)
    _require_choice(trainer, "verbose", "trainer", ("auto", 0, 1, 2))
    _require_choice(trainer, "deterministic", "trainer", (True, False))
    _require_choice(trainer, "shuffle", "trainer", (True, False))
    _require_choice(trainer, "keep_checkpoint", "trainer", (True, False))
    _require_choice(trainer, "print_summary", "trainer", (True, False))
    _require_choice(trainer, "distribute", "trainer", (None, "mirrored", "multi_worker"))


def _validate_cross_validation(cfg: DictConfig) -> None:
    trainer, cv = cfg.trainer, cfg.get("cv")
    if trainer.validation == "kfold" and (cv is None or cv.get("fold") is None):
        raise ConfigError(
            "trainer.validation=kfold needs a fold: set cv.fold (0 .. cv.k-1), or sweep all folds with "
            "-m cv.fold='range(5)'."
        )
    if cv is not None:
        _require_int(cv, "k", "cv", minimum=2)
        _require_int(cv, "seed", "cv", minimum=0)
        if cv.fold != "all":  # all: every fold in one job (ldl/sweeps/cross_validation.py)
            _require_fold(cv)


def _validate_model(model: DictConfig) -> None:
    if "hidden_units" in model:
        units = model.hidden_units
        if not isinstance(units, ListConfig | list) or not all(
            isinstance(u, int) and not isinstance(u, bool) for u in units
        ):
            raise ConfigError(
                f"model.hidden_units must be a list of integers, got {_describe(units)}, "
                "e.g. model.hidden_units=[64,64]."
            )
    for key in ("dropout", "l1_kernel", "l2_kernel", "l1_bias", "l2_bias"):
        value = model.get(key)
        # model=fc takes one dropout rate per hidden layer as a list (chapter 6's placement).
        per_layer = key == "dropout" and model.get("name") == "fc" and isinstance(value, ListConfig)
        values = list(value) if per_layer else [value]
        if key in model and any(
            isinstance(item, bool) or not isinstance(item, int | float) for item in values
        ):
            raise ConfigError(f"model.{key} must be a number, got {_describe(model[key])}.")
    if model.get("name") == "multimodal":
        from ldl.tasks.multimodal.options import check_fusion

        check_fusion(model.get("fusion", "early"))


def validate_config(cfg: DictConfig) -> None:
    """Raise ConfigError for the first value of the wrong type or out of range."""
    _validate_trainer(cfg.trainer)
    _validate_cross_validation(cfg)
    _validate_data(cfg.data)
    learning_rate = cfg.optimizer.get("learning_rate")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, int | float):
        raise ConfigError(
            f"optimizer.learning_rate must be a number, got {_describe(learning_rate)}, "
            "e.g. optimizer.learning_rate=0.001."
        )
    _validate_model(cfg.model)
    from ldl.config_checks import check_everything_is_read, check_values

    check_everything_is_read(cfg)
    check_values(cfg)


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
