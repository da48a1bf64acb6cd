"""Luong attention on the top layer of the LSTM encoder-decoder (chapter 15): the named layers and the
step that turns a decoder output into an attentional vector (see `seq2seq.py`)."""

from __future__ import annotations

from typing import Any

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
