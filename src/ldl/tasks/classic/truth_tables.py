"""Bias-augmented two-input truth tables used by the book's chapter 1 and 3 examples.

The row order is the book's, (x1, x2) = (-1, -1), (-1, +1), (+1, -1), (+1, +1), and it matters: the
training loops shuffle a persistent index list over these rows, so a different order would change
every printed weight. Each input row starts with the bias input x0 = 1.0.
"""

from __future__ import annotations

import numpy as np

# Inputs (x0, x1, x2) in the book's row order; x0 is the bias input.
_INPUTS: tuple[tuple[float, float, float], ...] = (
    (1.0, -1.0, -1.0),
    (1.0, -1.0, 1.0),
    (1.0, 1.0, -1.0),
    (1.0, 1.0, 1.0),
)

# Targets in the sign encoding (+1 = true, -1 = false), one per input row.
_SIGN_TARGETS: dict[str, tuple[float, float, float, float]] = {
    "nand": (1.0, 1.0, 1.0, -1.0),
    "or": (-1.0, 1.0, 1.0, 1.0),
    "and": (-1.0, -1.0, -1.0, 1.0),
    "xor": (-1.0, 1.0, 1.0, -1.0),
}

TRUTH_TABLE_NAMES: tuple[str, ...] = tuple(_SIGN_TARGETS)
TARGET_ENCODINGS: tuple[str, ...] = ("sign", "binary")


def truth_table(name: str, target_encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (inputs, targets) for a two-input logic function.

    `inputs` has shape (4, 3), float64, with x0 = 1.0 in the first column. `targets` has shape (4,),
    float64: +-1 for `target_encoding="sign"` (the perceptron of chapter 1 outputs -1/+1) or 0/1 for
    `"binary"` (the logistic output neuron of chapter 3). Fresh arrays are returned on every call so
    callers may modify them.
    """
    key = name.lower()
    if key not in _SIGN_TARGETS:
        raise ValueError(
            f"unknown truth table {name!r}; choose one of: {', '.join(TRUTH_TABLE_NAMES)}"
        )
    if target_encoding not in TARGET_ENCODINGS:
        raise ValueError(
            f"unknown target encoding {target_encoding!r}; "
            f"choose one of: {', '.join(TARGET_ENCODINGS)}"
        )
    inputs = np.array(_INPUTS, dtype=np.float64)
    targets = np.array(_SIGN_TARGETS[key], dtype=np.float64)
    if target_encoding == "binary":
        targets = (targets + 1.0) / 2.0
    return inputs, targets
