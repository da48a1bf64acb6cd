"""Kept for the modules that import from here: the checks now live in the ldl.config package."""

from ldl.config.fields import closest, did_you_mean
from ldl.config.groups import HOLD_OUT_NOTHING, MAX_BEAM_WIDTH
from ldl.config.keras_checks import MODEL_RUNTIME_ARGUMENTS, check_target_options

__all__ = [
    "HOLD_OUT_NOTHING",
    "MAX_BEAM_WIDTH",
    "MODEL_RUNTIME_ARGUMENTS",
    "check_target_options",
    "closest",
    "did_you_mean",
]
