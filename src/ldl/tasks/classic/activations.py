"""Activation functions of the hand-written networks (chapters 3 and 4) and their derivatives.

Backpropagation needs each derivative as a function of the neuron's *output*, as the book writes
them: tanh' = 1 - y^2, sigmoid' = y (1 - y). The expressions keep the listings' order of operations
so the float64 results match the book's to the last bit. The sign and step functions of chapters 1
and 2 are not here: their derivative is zero wherever it exists, which is why chapter 3 replaces them
with tanh and the logistic sigmoid before it introduces gradient descent.
"""

from __future__ import annotations

from typing import Literal, overload

import numpy as np

Activation = Literal["tanh", "sigmoid", "relu"]
ACTIVATIONS: tuple[Activation, ...] = ("tanh", "sigmoid", "relu")


def check_activation(name: str, role: str) -> Activation:
    """`name` as an Activation, or ValueError naming the choices."""
    if name not in ACTIVATIONS:
        raise ValueError(
            f"{role} activation {name!r} is not known; choose one of: {', '.join(ACTIVATIONS)} "
            "(sign and step functions have no useful derivative for backpropagation)"
        )
    return name


@overload
def activate(name: Activation, z: float) -> float: ...
@overload
def activate(name: Activation, z: np.ndarray) -> np.ndarray: ...
def activate(name: Activation, z: np.ndarray | float) -> np.ndarray | float:
    """The activation of a weighted sum (a float or an array)."""
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    return np.maximum(z, 0.0)


@overload
def derivative_from_output(name: Activation, y: float) -> float: ...
@overload
def derivative_from_output(name: Activation, y: np.ndarray) -> np.ndarray: ...
def derivative_from_output(name: Activation, y: np.ndarray | float) -> np.ndarray | float:
    """The activation's derivative expressed through its output y."""
    if name == "tanh":
        return 1.0 - y**2
    if name == "sigmoid":
        return y * (1.0 - y)
    return np.where(np.asarray(y) > 0.0, 1.0, 0.0)
