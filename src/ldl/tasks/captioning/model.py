"""The book's captioning decoder (chapter 16): attention over the 196 regions of the image features.

Encoder top: GlobalAveragePooling of the (14, 14, D) features -> two linear Dense(256) layers giving
the LSTM's initial h and c. Decoder: Embedding(10,000 -> 128, no mask: Keras's Attention layer used
here takes none) -> LSTM(256, sequences and states, starting from h, c) -> linear Dense(512) query ->
Attention (dot-product scores, no scaling, the defaults) with the features reshaped to (196, D) as key
and value -> concatenate [LSTM output, attention output] -> Dense(10,000, softmax). With D = 512 this
has 9,758,480 trainable parameters. The query size must equal D (the scores combine both).

The layers have fixed names: `ldl.tasks.captioning.decoding` runs the encoder top once and the decoder
one token per step with explicit state passing (the book's inference models), from a reloaded model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras
from keras import layers

from ldl.errors import ConfigError

AttentionScore = Literal["dot", "scaled_dot", "concat"]
ATTENTION_SCORES = ("dot", "scaled_dot", "concat")


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"model.{name} must be an integer >= 1, got {value!r}.")
    return value


def attention_layer(score: AttentionScore) -> layers.Attention:
    """dot: the book (Luong dot scores, no scale); scaled_dot: a learned scale; concat: additive
    (Bahdanau-style) scores."""
    if score not in ATTENTION_SCORES:
        raise ConfigError(
            f"model.attention={score!r} is not known; use one of {', '.join(ATTENTION_SCORES)}."
        )
    if score == "concat":
        return layers.Attention(score_mode="concat", name="attention")
    return layers.Attention(use_scale=score == "scaled_dot", name="attention")


def build_captioning_model(
    num_outputs: int,
    input_shape: Sequence[Sequence[Any]] = ((14, 14, 512), (None,)),
    embedding_dim: int = 128,
    lstm_units: int = 256,
    query_units: int | None = None,
    attention: AttentionScore = "dot",
    name: str = "captioning",
) -> keras.Model:
    """Inputs (features (rows, columns, D), decoder input ids) -> next-token probabilities over the
    `num_outputs` tokens; `input_shape` is the data's ((rows, columns, D), (caption length,))."""
    vocabulary_size = _positive("num_outputs", num_outputs)
    _positive("embedding_dim", embedding_dim)
    _positive("lstm_units", lstm_units)
    rows, columns, depth = (int(size) for size in input_shape[0])
    query_units = depth if query_units is None else _positive("query_units", query_units)
    if query_units != depth:  # Keras's dot and concat scores both combine query and key per feature
        raise ConfigError(
            f"model.query_units={query_units} must equal the feature depth {depth} (the attention "
            "scores combine the query with each region's features), or null to follow it."
        )
    features = keras.Input((rows, columns, depth), name="features")
    decoder_input = keras.Input((None,), dtype="int32", name="decoder_input")

    pooled = layers.GlobalAveragePooling2D(name="global_pooling")(features)
    initial_h = layers.Dense(lstm_units, name="initial_h")(pooled)
    initial_c = layers.Dense(lstm_units, name="initial_c")(pooled)
    regions = layers.Reshape((rows * columns, depth), name="regions")(features)

    embedded = layers.Embedding(vocabulary_size, embedding_dim, name="embedding")(decoder_input)
    sequence = layers.LSTM(lstm_units, return_sequences=True, return_state=True, name="lstm")(
        embedded, initial_state=[initial_h, initial_c]
    )[0]
    query = layers.Dense(query_units, name="query")(sequence)
    context = attention_layer(attention)([query, regions, regions])
    joined = layers.Concatenate(name="concatenate")([sequence, context])
    probabilities = layers.Dense(
        vocabulary_size, activation="softmax", name="output", dtype="float32"
    )(joined)
    return keras.Model([features, decoder_input], probabilities, name=name)
