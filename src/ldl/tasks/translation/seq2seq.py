"""c14e1's LSTM encoder-decoder (chapter 14): teacher-forced training model whose layers decode too.

Encoder: Embedding (mask_zero) -> LSTM (sequences + states) -> ... -> LSTM (states); every layer's final
(h, c) is handed to the decoder layer at the same depth. Decoder: its own Embedding (mask_zero) ->
stacked LSTMs started from those states -> Dense softmax at every step. The decoder embedding's mask
reaches the loss and the accuracy, so padded target positions do not count.

The layers have fixed names (`encoder_embedding`, `encoder_lstm_<i>`, `decoder_embedding`,
`decoder_lstm_<i>`, `decoder_output`): `ldl.tasks.translation.translate` finds them in a reloaded model and runs the
encoder once and the decoder one token per step with explicit state passing, as the book does.

Options beyond the book (chapters 14 and 15):
- `bidirectional_encoder`: every encoder layer reads the source both ways with layer_size / 2 units per
  direction; the two directions' final (h, c) are concatenated, so the decoder keeps layer_size units.
- `attention` (dot | general | additive): Luong attention on the top layer. The top decoder output h_t
  is the query over the top encoder layer's outputs h_s (padding masked): dot scores h_t . h_s, general
  h_t . W h_s, additive (Bahdanau's form) v . tanh(W1 h_t + W2 h_s). The context c_t and h_t give the
  attentional vector tanh(W_c [c_t; h_t]) (`attention_combine`) that the softmax reads. The layers are
  named `attention_query`, `attention_key`, `attention`, `attention_combine`.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

from ldl.errors import ConfigError

KIND = "seq2seq"


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"model.{name} must be an integer >= 1, got {value!r}.")
    return value


ATTENTIONS = ("none", "dot", "general", "additive")


def _check_attention(attention: object) -> str:
    if attention not in ATTENTIONS:
        raise ConfigError(
            f"model.attention={attention!r} is not known; use one of: {', '.join(ATTENTIONS)}."
        )
    return str(attention)


def _encoder_layer(index: int, units: int, sequences: bool, bidirectional: bool) -> layers.Layer:
    lstm = layers.LSTM(
        units // 2 if bidirectional else units,
        return_sequences=sequences,
        return_state=True,
        name=f"encoder_lstm_{index}" if not bidirectional else f"encoder_lstm_{index}_cell",
    )
    return layers.Bidirectional(lstm, name=f"encoder_lstm_{index}") if bidirectional else lstm


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


def build_seq2seq(
    source_vocabulary: int | None = None,
    target_vocabulary: int | None = None,
    embedding_dim: int = 128,
    layer_size: int = 256,
    num_layers: int = 2,
    bidirectional_encoder: bool = False,
    attention: str = "none",
    name: str = "seq2seq",
    num_outputs: int | None = None,
) -> keras.Model:
    """The training model: inputs (source ids, decoder input ids) -> next-token probabilities.

    The target vocabulary defaults to the data's output size (`num_outputs`), the source vocabulary
    to the target's (the Anki data gives both languages data.max_words ids).
    """
    target_vocabulary = target_vocabulary or num_outputs
    source_vocabulary = source_vocabulary or target_vocabulary
    for key, value in (
        ("source_vocabulary", source_vocabulary),
        ("target_vocabulary", target_vocabulary),
        ("embedding_dim", embedding_dim),
        ("layer_size", layer_size),
        ("num_layers", num_layers),
    ):
        _positive(key, value)
    attention = _check_attention(attention)
    if bidirectional_encoder and layer_size % 2:
        raise ConfigError(
            f"model.bidirectional_encoder needs an even model.layer_size (each direction gets half "
            f"of it), got {layer_size}."
        )
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")

    x = layers.Embedding(
        source_vocabulary, embedding_dim, mask_zero=True, name="encoder_embedding"
    )(source)
    states = []
    for index in range(num_layers):
        sequences = index < num_layers - 1 or attention != "none"
        outputs = _encoder_layer(index, layer_size, sequences, bidirectional_encoder)(x)
        x = outputs[0]
        if bidirectional_encoder:  # (h, c) of both directions side by side
            forward_h, forward_c, backward_h, backward_c = outputs[1:]
            concatenate = layers.Concatenate(axis=-1)
            states.append(
                [concatenate([forward_h, backward_h]), concatenate([forward_c, backward_c])]
            )
        else:
            states.append(outputs[1:])

    y = layers.Embedding(
        target_vocabulary, embedding_dim, mask_zero=True, name="decoder_embedding"
    )(decoder_input)
    for index in range(num_layers):
        y = layers.LSTM(
            layer_size, return_sequences=True, return_state=True, name=f"decoder_lstm_{index}"
        )(y, initial_state=list(states[index]))[0]
    if attention != "none":
        y = attend(attention_layers(attention, layer_size), y, x, keras.ops.not_equal(source, 0))
    probabilities = layers.Dense(
        target_vocabulary, activation="softmax", name="decoder_output", dtype="float32"
    )(y)
    return keras.Model([source, decoder_input], probabilities, name=name)
