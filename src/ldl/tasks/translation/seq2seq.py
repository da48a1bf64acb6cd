"""c14e1's LSTM encoder-decoder (chapter 14): teacher-forced training model whose layers decode too.

Encoder: Embedding (mask_zero) -> LSTM (sequences + states) -> ... -> LSTM (states); every layer's final
(h, c) is handed to the decoder layer at the same depth. Decoder: its own Embedding (mask_zero) ->
stacked LSTMs started from those states -> Dense softmax at every step. The decoder embedding's mask
reaches the loss and the accuracy, so padded target positions do not count.

The layers have fixed names (`encoder_embedding`, `encoder_lstm_<i>`, `decoder_embedding`,
`decoder_lstm_<i>`, `decoder_output`): `ldl.tasks.translation.translate` finds them in a reloaded model and runs the
encoder once and the decoder one token per step with explicit state passing, as the book does.
"""

from __future__ import annotations

import keras
from keras import layers

from ldl.errors import ConfigError

KIND = "seq2seq"


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"model.{name} must be an integer >= 1, got {value!r}.")
    return value


def build_seq2seq(
    source_vocabulary: int | None = None,
    target_vocabulary: int | None = None,
    embedding_dim: int = 128,
    layer_size: int = 256,
    num_layers: int = 2,
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
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    decoder_input = keras.Input(shape=(None,), dtype="int32", name="decoder_input")

    x = layers.Embedding(
        source_vocabulary, embedding_dim, mask_zero=True, name="encoder_embedding"
    )(source)
    states = []
    for index in range(num_layers):
        last = index == num_layers - 1
        outputs = layers.LSTM(
            layer_size, return_sequences=not last, return_state=True, name=f"encoder_lstm_{index}"
        )(x)
        x = outputs[0]
        states.append(outputs[1:])

    y = layers.Embedding(
        target_vocabulary, embedding_dim, mask_zero=True, name="decoder_embedding"
    )(decoder_input)
    for index in range(num_layers):
        y = layers.LSTM(
            layer_size, return_sequences=True, return_state=True, name=f"decoder_lstm_{index}"
        )(y, initial_state=list(states[index]))[0]
    probabilities = layers.Dense(
        target_vocabulary, activation="softmax", name="decoder_output", dtype="float32"
    )(y)
    return keras.Model([source, decoder_input], probabilities, name=name)
