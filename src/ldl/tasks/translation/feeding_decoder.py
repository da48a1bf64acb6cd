"""A decoder whose attention runs inside its recurrence (chapter 15's variants of the LSTM decoder).

Luong attention without input feeding needs only the decoder's outputs, so `seq2seq.py` adds it after
the stacked LSTMs. Two variants make each step depend on the attention of the step before, so the
decoder has to be a loop over time:

- input feeding (Luong): the attentional vector h~_{t-1} = tanh(W_c [c_{t-1}; h_{t-1}]) is
  concatenated to the next input token's embedding, so the decoder knows what it attended to;
- query from the previous state (Bahdanau): the context c_t is computed from the top layer's state
  h_{t-1} before the step, fed into the first layer with the embedding, and the output reads
  tanh(W_c [c_t; h_t]).

`FeedingDecoder` runs the stacked LSTM cells and the attention step by step with `keras.ops.scan`. Its
carry (every layer's [h, c] and the fed vector) is what `ldl translate` passes from step to step.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import layers, ops

from ldl.tasks.translation.attention import attention_layers

QUERIES = ("output", "previous_state")


@keras.saving.register_keras_serializable(package="ldl")
class FeedingDecoder(layers.Layer):
    """Stacked LSTM decoder with attention inside the loop: inputs (batch, steps, embedding) ->
    attentional vectors (batch, steps, units); the decoder mask passes through."""

    def __init__(
        self,
        units: int,
        num_layers: int,
        attention: str,
        query: str = "output",
        input_feeding: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units, self.num_layers, self.attention = units, num_layers, attention
        self.query, self.input_feeding = query, input_feeding
        self.supports_masking = True
        self.cells = [layers.LSTMCell(units, name=f"cell_{i}") for i in range(num_layers)]
        self.scoring = attention_layers(attention, units)
        self.scoring_order = sorted(self.scoring)
        self.scoring_layers = [self.scoring[name] for name in self.scoring_order]  # tracked

    def build(self, input_shape: Any) -> None:
        embedding = int(input_shape[-1])
        extra = self.units if (self.input_feeding or self.query == "previous_state") else 0
        for index, cell in enumerate(self.cells):
            cell.build((None, (embedding + extra) if index == 0 else self.units))
        if "attention_key" in self.scoring:
            self.scoring["attention_key"].build((None, None, self.units))
        if "attention_query" in self.scoring:
            self.scoring["attention_query"].build((None, None, self.units))
        sequence = (None, None, self.units)
        self.scoring["attention"].build([(None, 1, self.units), sequence, sequence])
        self.scoring["attention_combine"].build((None, 2 * self.units))
        self.built = True

    def context(self, query: Any, memory: Any, keys: Any, memory_mask: Any) -> Any:
        """Attention of one step's query (batch, units) over the memory -> (batch, units)."""
        scored = query[:, None, :]
        if "attention_query" in self.scoring:
            scored = self.scoring["attention_query"](scored)
        return self.scoring["attention"]([scored, memory, keys], mask=[None, memory_mask])[:, 0, :]

    def initial_feed(self, batch: Any) -> Any:
        return ops.zeros((batch, self.units))

    def call(
        self,
        inputs: Any,
        states: list[list[Any]],
        memory: Any,
        memory_mask: Any,
        feed: Any = None,
        return_state: bool = False,
        mask: Any = None,
    ) -> Any:
        keys = self.scoring["attention_key"](memory) if "attention_key" in self.scoring else memory
        if feed is None:
            feed = self.initial_feed(ops.shape(inputs)[0])
        combine = self.scoring["attention_combine"]

        def step(carry: Any, x: Any) -> Any:
            layer_states, fed = carry
            if self.query == "previous_state":
                context = self.context(layer_states[-1][0], memory, keys, memory_mask)
                y = ops.concatenate([x, context], axis=-1)
            else:
                y = ops.concatenate([x, fed], axis=-1) if self.input_feeding else x
            new_states = []
            for cell, state in zip(self.cells, layer_states, strict=True):
                y, new_state = cell(y, list(state))
                new_states.append(list(new_state))
            if self.query != "previous_state":
                context = self.context(y, memory, keys, memory_mask)
            attentional = combine(ops.concatenate([context, y], axis=-1))
            carry = (new_states, attentional)
            # Keras's TensorFlow scan wants the per-step output shaped like the carry.
            return carry, carry

        carry, stacked = ops.scan(
            step, ([list(s) for s in states], feed), ops.transpose(inputs, (1, 0, 2))
        )
        outputs = ops.transpose(stacked[1], (1, 0, 2))
        return (outputs, carry) if return_state else outputs

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "units": self.units,
            "num_layers": self.num_layers,
            "attention": self.attention,
            "query": self.query,
            "input_feeding": self.input_feeding,
        }
