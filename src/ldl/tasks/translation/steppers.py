"""Decoder steppers: how greedy and beam decoding (`ldl.decoding`) drive a trained translation model.

`start` encodes a batch of source rows once; `step` gives the next-token distribution after each row's
prefix; `select` keeps the rows a beam search goes on with. The LSTM stepper feeds one token per step
and passes the decoder states explicitly (chapter 14); the Transformer stepper re-reads the whole prefix
over the cached encoder output (chapter 15, no key/value cache). `stepper_for` finds the model family
by its layer names, so a reloaded `model.keras` is all it needs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ldl.decoding import DecoderStepper
from ldl.errors import ConfigError


def _layer_names(model: Any) -> set[str]:
    return {layer.name for layer in model.layers}


class Seq2SeqStepper:
    """c14e1: the encoder's final states start the decoder, fed one token per step (state passing).

    With attention the state also holds the top encoder layer's outputs and the source mask, which
    each step's query reads; a bidirectional encoder's two directions are concatenated as in training.
    """

    def __init__(self, model: Any) -> None:
        from keras import ops

        from ldl.tasks.translation.attention import attend

        self.ops, self.attend = ops, attend
        names = _layer_names(model)
        count = sum(1 for name in names if name.startswith("encoder_lstm_") and "cell" not in name)
        self.encoder_embedding = model.get_layer("encoder_embedding")
        self.encoder = [model.get_layer(f"encoder_lstm_{i}") for i in range(count)]
        self.decoder_embedding = model.get_layer("decoder_embedding")
        # The decoder stack: LSTM layers, or one FeedingDecoder (attention inside the loop).
        self.feeding = model.get_layer("feeding_decoder") if "feeding_decoder" in names else None
        self.state_every_step = "decoder_input_with_state" in names
        self.decoder = (
            [] if self.feeding else [model.get_layer(f"decoder_lstm_{i}") for i in range(count)]
        )
        self.output = model.get_layer("decoder_output")
        self.attention: dict[str, Any] = {
            name: model.get_layer(name)
            for name in ("attention_query", "attention_key", "attention", "attention_combine")
            if name in names
        }

    def encode(self, sources: np.ndarray) -> tuple[Any, list[list[Any]], Any]:
        """(top encoder outputs, every layer's final [h, c], source mask)."""
        mask = self.ops.not_equal(sources, 0)
        x = self.encoder_embedding(sources)
        states = []
        for layer in self.encoder:
            outputs = layer(x, mask=mask, training=False)
            x = outputs[0]
            if len(outputs) == 5:  # bidirectional: forward h, c, backward h, c
                forward_h, forward_c, backward_h, backward_c = outputs[1:]
                concatenate = self.ops.concatenate
                states.append(
                    [
                        concatenate([forward_h, backward_h], -1),
                        concatenate([forward_c, backward_c], -1),
                    ]
                )
            else:
                states.append(list(outputs[1:]))
        return x, states, mask

    def start(self, sources: np.ndarray) -> tuple[list[Any], Any, Any, Any]:
        memory, states, mask = self.encode(sources)
        if self.feeding is not None:
            return states, memory, mask, self.feeding.initial_feed(len(sources))
        # `feed` is the vector that goes in with every input token: input feeding's attentional
        # vector (above) or, with state_every_step, the top encoder layer's final h.
        feed = states[-1][0] if self.state_every_step else None
        return (states, memory, mask, feed) if self.attention else (states, None, None, feed)

    def step(
        self, state: tuple[list[Any], Any, Any, Any], prefixes: np.ndarray
    ) -> tuple[np.ndarray, Any]:
        states, memory, mask, feed = state
        y = self.decoder_embedding(prefixes[:, -1:])
        if self.feeding is not None:
            y, (new_states, feed) = self.feeding(
                y, states=states, memory=memory, memory_mask=mask, feed=feed, return_state=True
            )
            return np.asarray(self.output(y[:, -1, :])), (new_states, memory, mask, feed)
        if self.state_every_step:
            y = self.ops.concatenate([y, self.ops.expand_dims(feed, 1)], axis=-1)
        new_states = []
        for layer, layer_state in zip(self.decoder, states, strict=True):
            outputs = layer(y, initial_state=layer_state, training=False)
            y = outputs[0]
            new_states.append(list(outputs[1:]))
        if self.attention:
            y = self.attend(self.attention, y, memory, mask)
        return np.asarray(self.output(y[:, -1, :])), (new_states, memory, mask, feed)

    def select(self, state: tuple[list[Any], Any, Any, Any], rows: np.ndarray) -> Any:
        states, memory, mask, feed = state

        def take(value: Any) -> Any:
            return None if value is None else self.ops.take(value, rows, axis=0)

        return (
            [[take(s) for s in layer] for layer in states],
            take(memory),
            take(mask),
            take(feed),
        )


class TransformerStepper:
    """c15_transformer: encode once, then re-read the whole prefix every step (the book's way)."""

    def __init__(self, model: Any) -> None:
        from keras import ops

        from ldl.tasks.translation import transformer

        self.ops, self.model, self.transformer = ops, model, transformer

    def start(self, sources: np.ndarray) -> tuple[Any, Any]:
        return self.transformer.encode(self.model, sources)

    def step(self, state: tuple[Any, Any], prefixes: np.ndarray) -> tuple[np.ndarray, Any]:
        encoded, source_mask = state
        probabilities = self.transformer.decode_last(self.model, encoded, source_mask, prefixes)
        return np.asarray(probabilities), state

    def select(self, state: tuple[Any, Any], rows: np.ndarray) -> tuple[Any, Any]:
        encoded, source_mask = state
        take = self.ops.take
        return take(encoded, rows, axis=0), (
            None if source_mask is None else take(source_mask, rows, axis=0)
        )


def stepper_for(model: Any) -> DecoderStepper:
    names = _layer_names(model)
    if "encoder_embedding" in names and "encoder_lstm_0" in names:
        return Seq2SeqStepper(model)
    if "source_embedding" in names and "target_embedding" in names:
        return TransformerStepper(model)
    raise ConfigError(
        "This model is no translation model (it has neither the seq2seq nor the Transformer "
        "layers); use a run of c14e1 or c15_transformer."
    )
