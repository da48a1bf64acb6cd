"""Captioning a batch of feature grids: greedy (with the attention weights of every word) and beam.

The encoder top runs once per image (initial h, c and the 196 regions); then the decoder is fed one
token per step with its LSTM state passed explicitly, as the book's inference models do, until STOP or
`max_steps` tokens. The layers are found by name in the (reloaded) training model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ldl.errors import ConfigError

DECODINGS = ("greedy", "beam")


class CaptionStepper:
    """`start(features)` -> state; `step(state, prefixes)` -> (next-token probabilities, state);
    `select(state, rows)` keeps some rows (beam search). The last `step`'s attention weights
    (batch, 196) are in `last_attention`."""

    def __init__(self, model: Any) -> None:
        from keras import ops

        self.ops = ops
        try:
            self.pooling = model.get_layer("global_pooling")
            self.initial_h = model.get_layer("initial_h")
            self.initial_c = model.get_layer("initial_c")
            self.regions = model.get_layer("regions")
            self.embedding = model.get_layer("embedding")
            self.lstm = model.get_layer("lstm")
            self.query = model.get_layer("query")
            self.attention = model.get_layer("attention")
            self.concatenate = model.get_layer("concatenate")
            self.output = model.get_layer("output")
        except ValueError:
            raise ConfigError(
                "This model is no captioning model (it lacks the layers of the chapter 16 decoder); "
                "use a run of c16e2 or captioning_shapes."
            ) from None
        self.last_attention: np.ndarray | None = None

    def start(self, features: np.ndarray) -> tuple[Any, Any, Any]:
        pooled = self.pooling(features)
        return self.initial_h(pooled), self.initial_c(pooled), self.regions(features)

    def step(self, state: tuple[Any, Any, Any], prefixes: np.ndarray) -> tuple[np.ndarray, Any]:
        h, c, regions = state
        embedded = self.embedding(np.asarray(prefixes)[:, -1:])
        sequence, h, c = self.lstm(embedded, initial_state=[h, c], training=False)
        query = self.query(sequence)
        context, weights = self.attention([query, regions, regions], return_attention_scores=True)
        probabilities = self.output(self.concatenate([sequence, context]))
        self.last_attention = np.asarray(weights)[:, 0, :]
        return np.asarray(probabilities)[:, 0, :], (h, c, regions)

    def select(self, state: tuple[Any, Any, Any], rows: np.ndarray) -> tuple[Any, Any, Any]:
        return tuple(self.ops.take(part, rows, axis=0) for part in state)


@dataclass(frozen=True)
class Caption:
    ids: list[int]  # without START and STOP
    attention: np.ndarray  # (len(ids), regions): the weights with which each word was chosen


def greedy_captions(
    model: Any,
    features: np.ndarray,
    start: int,
    stop: int,
    max_steps: int = 60,
    batch_size: int = 256,
) -> list[Caption]:
    """The most probable token each step (ties to the lower id) until STOP or `max_steps` tokens."""
    stepper = CaptionStepper(model)
    captions: list[Caption] = []
    for first in range(0, len(features), batch_size):
        chunk = np.asarray(features[first : first + batch_size], dtype=np.float32)
        count = len(chunk)
        state = stepper.start(chunk)
        prefixes = np.full((count, 1), start, dtype=np.int32)
        ids: list[list[int]] = [[] for _ in range(count)]
        weights: list[list[np.ndarray]] = [[] for _ in range(count)]
        done = np.zeros(count, dtype=bool)
        for _ in range(max_steps):
            probabilities, state = stepper.step(state, prefixes)
            attention = np.asarray(stepper.last_attention)
            tokens = np.argmax(probabilities, axis=1).astype(np.int32)
            for row in np.flatnonzero(~done):
                if tokens[row] == stop:
                    done[row] = True
                else:
                    ids[row].append(int(tokens[row]))
                    weights[row].append(attention[row])
            if done.all():
                break
            prefixes = tokens[:, None]
        regions = int(np.prod(chunk.shape[1:3]))
        captions += [
            Caption(row_ids, np.asarray(row_weights).reshape(len(row_ids), regions))
            for row_ids, row_weights in zip(ids, weights, strict=True)
        ]
    return captions


def beam_caption_ids(
    model: Any, features: np.ndarray, start: int, stop: int, max_steps: int, beam_width: int
) -> list[list[int]]:
    """The best beam-search caption of each image (summed log probabilities, as translation's)."""
    from ldl.decoding import beam_decode

    stepper = CaptionStepper(model)
    return [
        list(beam_decode(stepper, grid[None], start, stop, max_steps, beam_width)[0].ids)
        for grid in np.asarray(features, dtype=np.float32)
    ]


def caption_ids(
    model: Any,
    features: np.ndarray,
    start: int,
    stop: int,
    max_steps: int = 60,
    decoding: str = "greedy",
    beam_width: int = 3,
) -> list[list[int]]:
    if decoding not in DECODINGS:
        raise ConfigError(f"decoding={decoding!r} is not known; use greedy or beam.")
    if decoding == "beam":
        return beam_caption_ids(model, features, start, stop, max_steps, beam_width)
    return [caption.ids for caption in greedy_captions(model, features, start, stop, max_steps)]
