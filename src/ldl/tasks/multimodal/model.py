"""Chapter 17's multimodal network, with one head (c17e2) or two (c17e3).

Early fusion (`fusion: early`, the book's network) joins the modalities before the shared Dense layer:

    text (2 word ids) -> Embedding 8 -> 4 (no mask) -> LSTM 8 --+
                                                              concatenate (792) -> Dense 25 ReLU -> heads
    image (28x28) -> Flatten (784) ---------------------------+

Late fusion (`fusion: late`, the alternative chapter 17 names) gives each modality its own Dense 25
ReLU and joins their outputs just before the heads: LSTM 8 -> Dense 25 and Flatten -> Dense 25,
concatenated (50) -> heads (20,808 parameters with the digit head).

Heads: `digit` (Dense num_outputs softmax) and, for the multitask network, `answer` (Dense 1 sigmoid,
the yes/no answer to the question in the text). Keras default initializers, as the book. Parameters:
32 + 416 + 19,825 + 260 = 20,533 with the digit head, 20,559 with both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras

from ldl.errors import ConfigError
from ldl.tasks.multimodal.options import Fusion, check_fusion

Head = Literal["digit", "answer"]


def build_multimodal(
    input_shape: Sequence[Any],
    num_outputs: int,
    heads: Sequence[Head] = ("digit",),
    vocabulary: int = 8,
    embedding_dim: int = 4,
    lstm_units: int = 8,
    dense_units: int = 25,
    activation: str = "relu",
    fusion: Fusion = "early",
    name: str = "multimodal",
) -> keras.Model:
    """Inputs {"image", "text"}; one output, or a dict of outputs by head name when there are two."""
    check_fusion(fusion)
    image_shape, text_shape = input_shape
    unknown = [head for head in heads if head not in ("digit", "answer")]
    if unknown or not heads or len(set(heads)) != len(heads):
        raise ConfigError(
            f"model.heads must name digit and/or answer once each, got {list(heads)}."
        )
    image = keras.Input(shape=tuple(image_shape), name="image")
    text = keras.Input(shape=tuple(text_shape), dtype="int32", name="text")
    words = keras.layers.Embedding(vocabulary, embedding_dim, name="embedding")(text)
    words = keras.layers.LSTM(lstm_units, name="lstm")(words)
    pixels = keras.layers.Flatten(name="flatten")(image)
    if fusion == "early":
        joint = keras.layers.Concatenate(name="fusion")([words, pixels])
        joint = keras.layers.Dense(dense_units, activation=activation, name="dense")(joint)
    else:  # each modality is reduced to its own features first, then they meet at the heads
        words = keras.layers.Dense(dense_units, activation=activation, name="text_dense")(words)
        pixels = keras.layers.Dense(dense_units, activation=activation, name="image_dense")(pixels)
        joint = keras.layers.Concatenate(name="fusion")([words, pixels])
    outputs = {
        "digit": lambda: keras.layers.Dense(
            num_outputs, activation="softmax", dtype="float32", name="digit"
        )(joint),
        "answer": lambda: keras.layers.Dense(
            1, activation="sigmoid", dtype="float32", name="answer"
        )(joint),
    }
    built = {head: outputs[head]() for head in heads}
    result: Any = built if len(built) > 1 else next(iter(built.values()))
    return keras.Model({"image": image, "text": text}, result, name=name)
