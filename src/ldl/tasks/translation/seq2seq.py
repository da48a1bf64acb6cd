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
- `state_every_step`: the top encoder layer's final h is also concatenated to every decoder input
  embedding (the alternative decoder of chapter 15, after Cho et al.), not only used as the start state.
- `input_feeding` (Luong) and `attention_query: previous_state` (Bahdanau) put the attention inside
  the decoder's recurrence: the decoder is then one `FeedingDecoder` layer (`feeding_decoder.py`).
"""

from __future__ import annotations

import keras
from keras import layers

from ldl.errors import ConfigError
from ldl.tasks.translation.attention import TokenMask, attend, attention_layers, check_attention
from ldl.tasks.translation.feeding_decoder import QUERIES, FeedingDecoder

KIND = "seq2seq"


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"model.{name} must be an integer >= 1, got {value!r}.")
    return value


def _encoder_layer(index: int, units: int, sequences: bool, bidirectional: bool) -> layers.Layer:
    lstm = layers.LSTM(
        units // 2 if bidirectional else units,
        return_sequences=sequences,
        return_state=True,
        name=f"encoder_lstm_{index}" if not bidirectional else f"encoder_lstm_{index}_cell",
    )
    return layers.Bidirectional(lstm, name=f"encoder_lstm_{index}") if bidirectional else lstm


def _check_looped_attention(attention: str, input_feeding: object, query: object) -> bool:
    """Whether the decoder needs attention inside its loop (input feeding, or Bahdanau's query)."""
    if query not in QUERIES:
        raise ConfigError(
            f"model.attention_query={query!r} is not known; use output (Luong: the top decoder "
            "output of the step) or previous_state (Bahdanau: the top layer's state before the step)."
        )
    if not isinstance(input_feeding, bool):
        raise ConfigError(f"model.input_feeding must be true or false, got {input_feeding!r}.")
    looped = input_feeding or query == "previous_state"
    if looped and attention == "none":
        raise ConfigError(
            "model.input_feeding and model.attention_query=previous_state need attention; set "
            "model.attention=dot, general or additive."
        )
    return looped


def build_seq2seq(
    source_vocabulary: int | None = None,
    target_vocabulary: int | None = None,
    embedding_dim: int = 128,
    layer_size: int = 256,
    num_layers: int = 2,
    bidirectional_encoder: bool = False,
    attention: str = "none",
    input_feeding: bool = False,
    attention_query: str = "output",
    state_every_step: bool = False,
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
    attention = check_attention(attention)
    looped = _check_looped_attention(attention, input_feeding, attention_query)
    if not isinstance(state_every_step, bool) or (state_every_step and looped):
        raise ConfigError(
            "model.state_every_step must be true or false, and it does not combine with "
            f"model.input_feeding or model.attention_query=previous_state (got {state_every_step!r})."
        )
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
    source_mask = keras.ops.not_equal(source, 0)
    if state_every_step:  # the top encoder layer's final h next to every input token's embedding
        context = states[-1][0]
        steps = keras.ops.zeros_like(y[:, :, :1]) + keras.ops.expand_dims(context, 1)
        y = layers.Concatenate(axis=-1, name="decoder_input_with_state")([y, steps])
    if looped:  # attention inside the recurrence: one layer runs the whole decoder stack
        decoder = FeedingDecoder(
            layer_size, num_layers, attention, attention_query, bool(input_feeding),
            name="feeding_decoder",
        )  # fmt: skip
        y = decoder(y, states=[list(state) for state in states], memory=x, memory_mask=source_mask)
    else:
        for index in range(num_layers):
            y = layers.LSTM(
                layer_size, return_sequences=True, return_state=True, name=f"decoder_lstm_{index}"
            )(y, initial_state=list(states[index]))[0]
        if attention != "none":
            y = attend(attention_layers(attention, layer_size), y, x, source_mask)
    if attention != "none" or state_every_step:
        y = TokenMask(name="decoder_mask")([y, decoder_input])
    probabilities = layers.Dense(
        target_vocabulary, activation="softmax", name="decoder_output", dtype="float32"
    )(y)
    return keras.Model([source, decoder_input], probabilities, name=name)
