"""The loss, metric and initializer names ldl accepts, so a typo is refused before TensorFlow loads.

Keras looks a loss or metric name up in its own tables (`keras.losses.get`, `keras.metrics.get`); LOSSES
and METRICS are those tables' lower-case names, kept equal to Keras by tests/unit/test_config_schema.py. A
name in another form (a class name such as `MeanSquaredError`) is left to Keras itself once it loads
(ldl/config/keras_checks.py). Initializers are built by ldl (ldl/models/initializers.py), so INITIALIZERS
is exactly the names it builds, in any form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from omegaconf import DictConfig

from ldl.config.fields import did_you_mean
from ldl.errors import ConfigError

LOSSES = (
    "bce", "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_hinge",
    "circle", "cosine_similarity", "ctc", "dice", "hinge", "huber", "kl_divergence", "kld",
    "log_cosh", "mae", "mape", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle", "poisson",
    "sparse_categorical_crossentropy", "squared_hinge", "tversky",
)  # fmt: skip
METRICS = (
    "accuracy", "auc", "bce", "binary_accuracy", "binary_crossentropy", "binary_io_u",
    "categorical_accuracy", "categorical_crossentropy", "categorical_hinge",
    "concordance_correlation", "cosine_similarity", "f1_score", "f_beta_score", "false_negatives",
    "false_positives", "hinge", "kl_divergence", "log_cosh_error", "mae", "mape", "mean",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "mse", "msle", "pearson_correlation", "poisson", "precision",
    "r2_score", "recall", "root_mean_squared_error", "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy", "squared_hinge", "sum",
    "top_k_categorical_accuracy", "true_negatives", "true_positives",
)  # fmt: skip
# Metrics ldl adds to Keras's (ldl.training.metrics.LDL_METRICS).
LDL_METRICS = ("perplexity",)
# The initializers ldl builds (ldl.models.initializers.INITIALIZERS, kept equal by a test): Keras's own
# names for them, without Keras's aliases (`uniform`, `one`, ...) and its `stft`, which shapes windows for
# a spectrogram layer, not the weights of ldl's models (and needs scipy).
INITIALIZERS = (
    "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
    "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal", "variance_scaling", "zeros",
)  # fmt: skip

# Keras's tables hold lower-case names and class names; only the first kind is listed here, and only
# names Keras builds without arguments (`keras.metrics.get("precision_at_recall")` cannot).
_LOWER_CASE = re.compile(r"^[a-z0-9_]+$")


def named(value: Any, key: str) -> Iterable[tuple[str, str]]:
    """(key, name) of every loss or metric given by name: a name, a list, or a mapping by output."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, list):
        for item in value:
            yield from named(item, key)
    elif isinstance(value, dict):
        for head, item in value.items():
            yield from named(item, f"{key}.{head}")


def _refuse(key: str, name: str, what: str, known: Iterable[str], listed: str) -> ConfigError:
    options = sorted(known)
    return ConfigError(
        f"{key}={name!r} is not {what}.{did_you_mean(name, options)} {listed}: "
        f"{', '.join(options)}."
    )


def check_names(cfg: DictConfig) -> None:
    """ConfigError for a lower-case loss or metric name Keras lacks, or an initializer ldl does not build."""
    from ldl.targets import plain

    for key, name in named(plain(cfg.get("loss")), "loss"):
        if _LOWER_CASE.match(name) and name not in LOSSES:
            raise _refuse(key, name, "a Keras loss", LOSSES, "Losses")
    for key, name in named(plain(cfg.get("metrics")), "metrics"):
        if _LOWER_CASE.match(name) and name not in (*METRICS, *LDL_METRICS):
            raise _refuse(key, name, "a Keras metric", (*METRICS, *LDL_METRICS), "Metrics")
    initializer = cfg.get("initializer")
    if isinstance(initializer, DictConfig):
        for part, spec in initializer.items():
            chosen = spec.get("name") if isinstance(spec, DictConfig) else None
            if isinstance(chosen, str) and chosen not in INITIALIZERS:
                raise _refuse(
                    f"initializer.{part!s}.name",
                    chosen,
                    "an initializer ldl builds",
                    INITIALIZERS,
                    "Initializers",
                )
