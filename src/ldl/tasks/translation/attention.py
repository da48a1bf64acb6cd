"""Luong attention on the top layer of the LSTM encoder-decoder (chapter 15): the named layers and the
step that turns a decoder output into an attentional vector (see `seq2seq.py`)."""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from ldl.errors import ConfigError

ATTENTIONS = ("none", "dot", "general", "additive")


def check_attention(attention: object) -> str:
    if attention not in ATTENTIONS:
        raise ConfigError(
            f"model.attention={attention!r} is not known; use one of: {', '.join(ATTENTIONS)}."
        )
    return str(attention)


def attention_layers(attention: str, layer_size: int) -> dict[str, layers.Layer]:
    """The named layers of Luong attention with the given score (see the module docstring)."""
    found: dict[str, layers.Layer] = {
        "attention_combine": layers.Dense(layer_size, activation="tanh", name="attention_combine")
    }
    if attention == "additive":
        found["attention_query"] = layers.Dense(layer_size, use_bias=False, name="attention_query")
        found["attention_key"] = layers.Dense(layer_size, use_bias=False, name="attention_key")
        found["attention"] = layers.AdditiveAttention(use_scale=True, name="attention")
    else:
        if attention == "general":
            found["attention_key"] = layers.Dense(layer_size, use_bias=False, name="attention_key")
        found["attention"] = layers.Attention(score_mode="dot", name="attention")
    return found


def attend(named: dict[str, layers.Layer], query: Any, memory: Any, memory_mask: Any) -> Any:
    """The attentional vector tanh(W_c [context; query]) for every query step."""
    keys = named["attention_key"](memory) if "attention_key" in named else memory
    scored = named["attention_query"](query) if "attention_query" in named else query
    context = named["attention"]([scored, memory, keys], mask=[None, memory_mask])
    return named["attention_combine"](layers.Concatenate(axis=-1)([context, query]))


@keras.saving.register_keras_serializable(package="ldl")
class TokenMask(layers.Layer):
    """Passes its first input through with the mask `ids != 0` of its second (the decoder input ids).

    Keras's Concatenate does not keep the decoder's mask when one of its inputs (the attention context,
    the repeated encoder state) has none, so the loss and accuracy would count the padded target
    positions; this layer puts the mask back right before the softmax.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: list[Any]) -> Any:
        # A new tensor: Keras keeps a mask already attached to the returned tensor instead of asking
        # compute_mask, and the input arrives with Concatenate's wrong one.
        return keras.ops.add(inputs[0], 0.0)

    def compute_mask(self, inputs: list[Any], mask: Any = None) -> Any:
        return keras.ops.not_equal(inputs[1], 0)
