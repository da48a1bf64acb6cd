"""Weight initializers from config specs such as `{name: random_uniform, minval: -0.1, maxval: 0.1}`.

Each call returns a new object: in Keras 3 one initializer instance shared by two same-shaped layers gives
them identical weights (chapter 5), so layers must never share one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras

from ldl.errors import ConfigError

INITIALIZERS: dict[str, type[keras.initializers.Initializer]] = {
    "random_uniform": keras.initializers.RandomUniform,
    "random_normal": keras.initializers.RandomNormal,
    "truncated_normal": keras.initializers.TruncatedNormal,
    "variance_scaling": keras.initializers.VarianceScaling,
    "glorot_uniform": keras.initializers.GlorotUniform,
    "glorot_normal": keras.initializers.GlorotNormal,
    "he_normal": keras.initializers.HeNormal,
    "he_uniform": keras.initializers.HeUniform,
    "lecun_normal": keras.initializers.LecunNormal,
    "lecun_uniform": keras.initializers.LecunUniform,
    "orthogonal": keras.initializers.Orthogonal,
    "identity": keras.initializers.Identity,
    "zeros": keras.initializers.Zeros,
    "ones": keras.initializers.Ones,
    "constant": keras.initializers.Constant,
}


def make_initializer(spec: Mapping[str, Any] | str) -> keras.initializers.Initializer:
    """Build a fresh Keras initializer from a name or a `{name: ..., **arguments}` mapping."""
    if isinstance(spec, str):
        spec = {"name": spec}
    arguments = dict(spec)
    name = arguments.pop("name", None)
    if name not in INITIALIZERS:
        raise ConfigError(
            f"Initializer {name!r} is not known. Use one of: {', '.join(sorted(INITIALIZERS))}."
        )
    try:
        return INITIALIZERS[name](**arguments)
    except TypeError as error:
        raise ConfigError(f"Initializer {name!r} does not accept {arguments}: {error}.") from None
