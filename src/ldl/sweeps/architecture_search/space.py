"""The search space of chapter 17's architecture searches, and the moves through it.

A definition is a list of layers, each a dict like the book's: DENSE (size, activation, dropout),
CONV2D (size, activation, kernel, stride, dropout) or MAXPOOL2D (kernel, stride, dropout). Its
convolution and pooling layers come first, its dense layers last, and it always has at least one of
each. Every random draw goes through one NumPy RandomState, in the book's order, so a seed fixes the
whole sequence of candidates.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

LayerType = Literal["DENSE", "CONV2D", "MAXPOOL2D"]
Layer = dict[str, Any]
Definition = list[Layer]

# The activations `model=cnn`'s layer tokens accept (ldl.models.cnn.ACTIVATIONS, which imports Keras;
# a test keeps the two equal), so that every candidate can be built.
CNN_ACTIVATIONS = (
    "relu",
    "tanh",
    "sigmoid",
    "elu",
    "selu",
    "leaky_relu",
    "softplus",
    "linear",
    "gelu",
)


@dataclass(frozen=True)
class SearchSpace:
    """The lists every layer parameter is drawn from (`hydra.sweeper.layer_sizes`, ...); the
    defaults are the book's."""

    sizes: tuple[int, ...] = (16, 64, 256, 1024, 4096)
    activations: tuple[str, ...] = ("relu", "tanh", "elu")
    kernels: tuple[int, ...] = (1, 2, 3, 4)
    strides: tuple[int, ...] = (1, 2, 3, 4)
    dropouts: tuple[float, ...] = (0.0, 0.4, 0.7, 0.9)

    @property
    def parameters(self) -> dict[str, dict[str, list[Any]]]:
        """Each layer type's parameters and the list each is drawn from, in the order drawn."""
        sizes, activations = list(self.sizes), list(self.activations)
        kernels, strides, dropouts = list(self.kernels), list(self.strides), list(self.dropouts)
        return {
            "DENSE": {"size": sizes, "activation": activations, "dropout": dropouts},
            "CONV2D": {
                "size": sizes,
                "activation": activations,
                "kernel": kernels,
                "stride": strides,
                "dropout": dropouts,
            },
            "MAXPOOL2D": {"kernel": kernels, "stride": strides, "dropout": dropouts},
        }


BOOK_SPACE = SearchSpace()
PARAMETERS = BOOK_SPACE.parameters
INPUT_SHAPE = (32, 32, 3)
CLASSES = 10


def random_layer(
    rng: np.random.RandomState, layer_type: str, space: SearchSpace = BOOK_SPACE
) -> Layer:
    layer: Layer = {"type": layer_type}
    for name, values in space.parameters[layer_type].items():
        layer[name] = values[rng.randint(len(values))]
    return layer


def random_definition(rng: np.random.RandomState, space: SearchSpace = BOOK_SPACE) -> Definition:
    """2-8 layers; the first 1 .. n-1 convolution or pooling (half each), the rest dense."""
    layer_count = rng.randint(2, 9)
    non_dense_count = rng.randint(1, layer_count)
    definition = []
    for index in range(layer_count):
        if index < non_dense_count:
            layer_type = "CONV2D" if rng.randint(2) == 0 else "MAXPOOL2D"
        else:
            layer_type = "DENSE"
        definition.append(random_layer(rng, layer_type, space))
    return definition


def estimate_weights(
    definition: Definition, input_shape: tuple[int, int, int] = INPUT_SHAPE, classes: int = CLASSES
) -> int:
    """The book's weight estimate, 'same' padding: convolutions and dense layers count kernel and
    bias weights, pooling none, plus the output layer. Equals Keras's count for the built model."""
    height, width, channels = input_shape
    flat: int | None = None
    total = 0
    for layer in definition:
        if layer["type"] == "CONV2D":
            kernel, stride = layer["kernel"], layer["stride"]
            total += layer["size"] * (kernel * kernel * channels + 1)
            height, width, channels = (
                math.ceil(height / stride), math.ceil(width / stride), layer["size"]
            )  # fmt: skip
        elif layer["type"] == "MAXPOOL2D":
            stride = layer["stride"]
            height, width = math.ceil(height / stride), math.ceil(width / stride)
        else:
            inputs = flat if flat is not None else height * width * channels
            total += layer["size"] * (inputs + 1)
            flat = layer["size"]
    inputs = flat if flat is not None else height * width * channels
    return total + (inputs + 1) * classes


def first_dense_index(definition: Definition) -> int:
    return next(i for i, layer in enumerate(definition) if layer["type"] == "DENSE")


def tweak(
    rng: np.random.RandomState, definition: Definition, space: SearchSpace = BOOK_SPACE
) -> None:
    """The book's neighbour move, in place: add or remove a layer (half the time), else move one
    parameter of one layer to the cyclically adjacent value of its list. At least one non-dense and
    one dense layer always remain."""
    index = rng.randint(len(definition))
    first_dense = first_dense_index(definition)
    direction = 1 if rng.randint(2) == 0 else -1
    if rng.randint(2) == 0:  # add or remove a layer
        if len(definition) < 3:
            direction = 1
        if direction == -1:
            if index == 0 and first_dense == 1:
                index = 1  # keep the only non-dense layer
            if index == first_dense and index == len(definition) - 1:
                index -= 1  # keep the only dense layer
            del definition[index]
        else:
            if index < first_dense:
                layer_type = "CONV2D" if rng.randint(2) == 0 else "MAXPOOL2D"
            else:
                layer_type = "DENSE"
            definition.insert(index, random_layer(rng, layer_type, space))
        return
    layer = definition[index]
    parameters = space.parameters[layer["type"]]
    names = list(parameters)
    name = names[rng.randint(len(names))]
    values = parameters[name]
    layer[name] = values[(values.index(layer[name]) + direction) % len(values)]


def _bottom_and_top(definition: Definition) -> tuple[Definition, Definition]:
    first_dense = first_dense_index(definition)
    return copy.deepcopy(definition[:first_dense]), copy.deepcopy(definition[first_dense:])


def crossover(
    rng: np.random.RandomState, parent0: Definition, parent1: Definition, max_size: int
) -> Definition:
    """The book's crossover: both parents' convolution parts then both dense parts (each pair in a
    random order) when the two together stay small enough and a coin says so; else one parent's
    convolution part with the other's dense part."""
    bottoms_tops = [_bottom_and_top(parent0), _bottom_and_top(parent1)]
    together = estimate_weights(parent0) + estimate_weights(parent1) < max_size
    if rng.randint(2) == 1 and together:
        first = rng.randint(2)
        bottom = bottoms_tops[first][0] + bottoms_tops[1 - first][0]
        second = rng.randint(2)
        top = bottoms_tops[second][1] + bottoms_tops[1 - second][1]
        return bottom + top
    chosen = rng.randint(2)
    return bottoms_tops[chosen][0] + bottoms_tops[1 - chosen][1]


def to_layer_tokens(definition: Definition) -> list[str]:
    """The definition in `model=cnn`'s layer syntax, so `ldl train model=cnn model.layers=[...]`
    builds exactly this network ('same' padding; dropout after a layer as its own token)."""
    tokens = []
    for layer in definition:
        if layer["type"] == "CONV2D":
            tokens.append(
                f"C{layer['size']}-k{layer['kernel']}-s{layer['stride']}-{layer['activation']}-same"
            )
        elif layer["type"] == "MAXPOOL2D":
            tokens.append(f"P{layer['kernel']}-s{layer['stride']}-same")
        else:
            tokens.append(f"F{layer['size']}-{layer['activation']}")
        if layer["dropout"] > 0:
            tokens.append(f"D{layer['dropout']}")
    return tokens
