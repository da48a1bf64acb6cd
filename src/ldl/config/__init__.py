"""ldl's config: the schema of every config group (declared once, typed, with allowed values and
bounds), its check, and names and flattened forms of configs.

- `validate(cfg)`: the schema's check of a composed config; imports no TensorFlow (docs/config-schema.md).
- `validate_config(cfg)`: `validate` plus the checks that need Keras (loss and metric names in any form).
"""

from ldl.config.fields import Field, closest, did_you_mean
from ldl.config.groups import PRECISIONS, VALIDATIONS
from ldl.config.tree import (
    config_dir,
    experiment_ids,
    flatten,
    hparams_of,
    natural_key,
    resolved_config,
    sweep_name,
)
from ldl.config.validation import validate, validate_config

__all__ = [
    "PRECISIONS",
    "VALIDATIONS",
    "Field",
    "closest",
    "config_dir",
    "did_you_mean",
    "experiment_ids",
    "flatten",
    "hparams_of",
    "natural_key",
    "resolved_config",
    "sweep_name",
    "validate",
    "validate_config",
]
