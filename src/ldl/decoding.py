"""Decoding token sequences from a trained model, shared by the text tasks: greedy decoding and beam
search over a step-by-step model interface, top-k ids, and corpus BLEU for the results.

A model decodes through a `DecoderStepper`: `start` reads a batch of inputs once (source sentences,
image features); `step` gives the next-token distribution after each row's prefix; `select` keeps the
rows beam search goes on with. Scores are sums of log probabilities, so beam search with width 1 is
exactly greedy decoding. Such sums favour short hypotheses (every token costs probability); the
optional length normalization ranks finished hypotheses by score / ((5 + length) / 6) ** alpha (the
GNMT length penalty; alpha 0, the default and the book's, leaves the sums as they are).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ldl.errors import ConfigError


def safe_log(probability: float) -> float:
    """ln p, with -inf for p = 0 (a beam that takes an impossible token sinks instead of failing)."""
    return math.log(probability) if probability > 0 else -math.inf


def top_k(probabilities: np.ndarray, k: int) -> np.ndarray:
    """The k most probable ids in descending probability, ties to the lower id (repeated argmax)."""
    return np.argsort(-np.asarray(probabilities, dtype=np.float64), kind="stable")[:k]


# More beams than this only repeats near-identical hypotheses (the book uses 3 to 8) and makes
# decoding and the printed list grow without bound.
MAX_BEAM_WIDTH = 100


def check_beam_width(width: int, vocabulary_size: int | None = None) -> None:
    """A beam width from 1 to MAX_BEAM_WIDTH and, when given, to the vocabulary size."""
    bound = min(MAX_BEAM_WIDTH, vocabulary_size) if vocabulary_size else MAX_BEAM_WIDTH
    if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= bound:
        limit = f"the vocabulary size ({bound})" if bound == vocabulary_size else str(bound)
        raise ConfigError(f"beam_width must be a whole number from 1 to {limit}, got {width!r}.")


class DecoderStepper(Protocol):
    """Decoding a trained translator step by step, for greedy and beam search alike.

    The state is the stepper's own (LSTM states, or the encoder output and source ids): opaque here.
    """

    def start(self, sources: np.ndarray) -> Any:
        """The state after reading a batch of source sentences."""
        ...

    def step(self, state: Any, prefixes: np.ndarray) -> tuple[np.ndarray, Any]:
        """Next-token probabilities for each row's target prefix, and the state after it."""
        ...

    def select(self, state: Any, rows: np.ndarray) -> Any:
        """The state of the chosen rows (the beams beam search keeps)."""
        ...


def greedy_decode(
    stepper: DecoderStepper, sources: np.ndarray, start: int, stop: int, max_steps: int
) -> list[list[int]]:
    """The most probable token each step (ties to the lower id) until STOP or `max_steps` tokens;
    the returned ids exclude STOP."""
    count = len(sources)
    state = stepper.start(sources)
    prefixes = np.full((count, 1), start, dtype=np.int32)
    outputs: list[list[int]] = [[] for _ in range(count)]
    done = np.zeros(count, dtype=bool)
    for _ in range(max_steps):
        probabilities, state = stepper.step(state, prefixes)
        tokens = np.argmax(probabilities, axis=1).astype(np.int32)
        for row in np.flatnonzero(~done):
            if tokens[row] == stop:
                done[row] = True
            else:
                outputs[row].append(int(tokens[row]))
        if done.all():
            break
        prefixes = np.concatenate([prefixes, tokens[:, None]], axis=1)
    return outputs


def length_penalty(length: int, alpha: float) -> float:
    """((5 + length) / 6) ** alpha; 1 for alpha 0 (no normalization)."""
    return ((5.0 + length) / 6.0) ** alpha


def check_length_normalization(alpha: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 <= alpha <= 2.0:
        raise ConfigError(
            f"length_normalization must be a number from 0 (off, the book) to 2, got {alpha!r}; "
            "0.6 to 1.0 are common."
        )


@dataclass(frozen=True)
class Hypothesis:
    ids: tuple[int, ...]  # without START and STOP
    log_probability: float
    finished: bool
    # log_probability / length_penalty(len(ids) + 1 for a finished one, alpha): the ranking score.
    normalized: float = 0.0


def beam_decode(
    stepper: DecoderStepper,
    source: np.ndarray,
    start: int,
    stop: int,
    max_steps: int,
    beam_width: int,
    length_normalization: float = 0.0,
) -> list[Hypothesis]:
    """Beam search for one source row (1, length); hypotheses best first.

    Live hypotheses all have the same length at each step, so they are ranked by their summed log
    probabilities; finished ones (they end at STOP, at different lengths) by their normalized score
    when `length_normalization` > 0, and the search then runs until `beam_width` of them finish.
    """
    check_beam_width(beam_width)
    check_length_normalization(length_normalization)
    state = stepper.start(np.asarray(source)[None, :] if np.ndim(source) == 1 else source)
    live: list[tuple[float, list[int]]] = [(0.0, [])]
    finished: list[Hypothesis] = []

    def hypothesis(ids: list[int], score: float, done: bool) -> Hypothesis:
        length = len(ids) + (1 if done else 0)  # STOP counts as a token
        normalized = score / length_penalty(length, length_normalization)
        return Hypothesis(tuple(ids), score, done, normalized)

    for _ in range(max_steps):
        prefixes = np.asarray([[start, *ids] for _, ids in live], dtype=np.int32)
        probabilities, state = stepper.step(state, prefixes)
        candidates = []
        for parent, ((score, ids), distribution) in enumerate(
            zip(live, probabilities, strict=True)
        ):
            for token in top_k(distribution, beam_width):
                log_p = safe_log(float(distribution[token]))
                candidates.append((score + log_p, int(token), parent, ids))
        candidates.sort(key=lambda candidate: candidate[0], reverse=True)  # stable
        next_live, parents = [], []
        for score, token, parent, ids in candidates[:beam_width]:
            if token == stop:
                finished.append(hypothesis(ids, score, True))
            else:
                next_live.append((score, [*ids, token]))
                parents.append(parent)
        best_finished = max((h.log_probability for h in finished), default=-math.inf)
        # Without normalization a live hypothesis can only lose probability, so one that already
        # scores below the best finished can never overtake it.
        cannot_win = length_normalization == 0.0 and next_live and next_live[0][0] <= best_finished
        if not next_live or len(finished) >= beam_width or cannot_win:
            live = next_live
            break
        live = next_live
        state = stepper.select(state, np.asarray(parents, dtype=np.int32))
    unfinished = [hypothesis(ids, score, False) for score, ids in live]
    ranked = sorted(finished, key=lambda h: h.normalized, reverse=True)
    return (ranked + sorted(unfinished, key=lambda h: h.normalized, reverse=True))[:beam_width]


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[str]) -> tuple[float, str]:
    """sacrebleu's corpus BLEU (0-100) of space-joined word sequences, and its signature."""
    import sacrebleu

    metric = sacrebleu.metrics.BLEU()
    score = metric.corpus_score(list(hypotheses), [list(references)])
    return float(score.score), str(metric.get_signature())
