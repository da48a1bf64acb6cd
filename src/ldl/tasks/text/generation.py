"""Text generation from a trained next-token model: beam search, greedy and temperature sampling.

The decoders work on token ids and a `predict` function (a batch of equally long id sequences -> one
next-token distribution per sequence), so they can be checked on tiny hand-made models and used with any
Keras model whose run folder holds its vocabulary (`data.json`). Beam search is exactly the book's
(chapter 11): every beam's `beam_width` best next tokens (ties to the lower index), all candidates sorted
by cumulative log probability with a stable sort, the best `beam_width` kept; no length normalization.

Recurrent models can also generate statefully (chapter 12): a copy of the model with batch size 1 and
stateful recurrent layers is fed one token per call, so each step costs one time step instead of
re-reading the whole prefix. Both ways give the same distributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ldl.data.text import text_to_word_sequence
from ldl.decoding import check_beam_width, safe_log, top_k
from ldl.errors import ConfigError

# What a run's data.json is needed for, named in the error when a run has none.
NEEDS_VOCABULARY = (
    "its dataset has no vocabulary: only text models (e.g. c11e1, c12e1) can generate or show word "
    "neighbours"
)

# A batch of equally long token-id sequences -> next-token probabilities, shape (batch, vocabulary).
Predict = Callable[[Sequence[Sequence[int]]], np.ndarray]
DECODINGS = ("beam", "greedy", "sample")
MODES = ("auto", "refeed", "stateful")
RECURRENT_LAYERS = ("SimpleRNN", "LSTM", "GRU")


@dataclass(frozen=True)
class Vocabulary:
    """The token of every id, and how a model reads ids: one-hot vectors or plain ids."""

    tokens: list[str]
    level: str  # characters | words
    input_encoding: str  # one_hot | ids
    oov_token: str | None = None
    lowercase: bool = True  # characters: the text was lowercased (data.lowercase), so is the prompt

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> Vocabulary:
        """From a run's data.json (written by the frankenstein datasets)."""
        if "vocabulary" not in metadata or "tokens" not in metadata:
            raise ConfigError(
                "This run's data.json holds no token vocabulary, so its model does not predict "
                "text; generation needs a text model such as c11e1 or c12e1."
            )
        return cls(
            tokens=list(metadata["vocabulary"]),
            level=metadata["tokens"],
            input_encoding=metadata.get("input_encoding", "ids"),
            oov_token=metadata.get("oov_token"),
            lowercase=bool(metadata.get("lowercase", True)),
        )

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, prompt: str) -> list[int]:
        """Prompt text to ids, with the dataset's own preprocessing (lowercase; words per docs/book-conventions.md, text utilities)."""
        if self.level == "characters":
            text = self._characters(prompt)
            index = {token: i for i, token in enumerate(self.tokens)}
            unknown = sorted({char for char in text if char not in index})
            if unknown:
                raise ConfigError(
                    f"The prompt {prompt!r} contains characters the model never saw: "
                    f"{''.join(unknown)!r}. Use characters of the training text."
                )
            return [index[char] for char in text]
        index = {}
        for i, token in enumerate(self.tokens[2:], start=2):
            if token != self.oov_token:
                index.setdefault(token, i)
        oov = self.tokens.index(self.oov_token) if self.oov_token in self.tokens else None
        ids = []
        for word in text_to_word_sequence(prompt):
            if word in index:
                ids.append(index[word])
            elif oov is not None:
                ids.append(oov)
        return ids

    def _characters(self, prompt: str) -> str:
        return (prompt.lower() if self.lowercase else prompt).replace("\n", " ")

    def decode(self, ids: Sequence[int]) -> str:
        if self.level == "characters":
            return "".join(self.tokens[i] for i in ids)
        return " ".join(self.tokens[i] for i in ids)

    def join(self, prompt: str, continuation: Sequence[int]) -> str:
        """The prompt followed by the generated tokens, as the book prints it."""
        if self.level == "characters":
            return self._characters(prompt) + self.decode(continuation)
        words = " ".join(text_to_word_sequence(prompt))
        return (words + " " + self.decode(continuation)).strip()


@dataclass(frozen=True)
class Completion:
    """Generated token ids after the prompt and their cumulative natural-log probability."""

    ids: tuple[int, ...]
    log_probability: float

    @property
    def probability(self) -> float:
        return math.exp(self.log_probability)


def _check_steps(steps: int, width: int = 1) -> None:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ConfigError(f"length must be a whole number of tokens >= 1, got {steps!r}.")
    check_beam_width(width)


def beam_search(
    predict: Predict, prompt: Sequence[int], beam_width: int, steps: int
) -> list[Completion]:
    """The book's beam search; returns `beam_width` completions, most probable first."""
    _check_steps(steps, beam_width)
    if not prompt:
        raise ConfigError("The prompt is empty; beam search needs at least one token to start.")
    beams: list[tuple[float, list[int]]] = [(0.0, list(prompt))]
    for _ in range(steps):
        distributions = predict([sequence for _, sequence in beams])
        candidates = []
        for (score, sequence), distribution in zip(beams, distributions, strict=True):
            for token in top_k(distribution, beam_width):
                token = int(token)
                candidates.append(
                    (score + safe_log(float(distribution[token])), [*sequence, token])
                )
        candidates.sort(key=lambda candidate: candidate[0], reverse=True)  # stable
        beams = candidates[:beam_width]
    start = len(prompt)
    return [Completion(tuple(sequence[start:]), score) for score, sequence in beams]


def greedy_search(predict: Predict, prompt: Sequence[int], steps: int) -> Completion:
    """Always the most probable next token (ties to the lower id), by re-reading the whole prefix."""
    _check_steps(steps)
    sequence, score = list(prompt), 0.0
    for _ in range(steps):
        distribution = predict([sequence])[0]
        token = int(top_k(distribution, 1)[0])
        score += safe_log(float(distribution[token]))
        sequence.append(token)
    return Completion(tuple(sequence[len(prompt) :]), score)


def temperature_sample(
    predict: Predict,
    prompt: Sequence[int],
    steps: int,
    temperature: float = 1.0,
    rng: np.random.Generator | None = None,
) -> Completion:
    """Draw each token from the distribution sharpened (T < 1) or flattened (T > 1) by temperature.

    The reported probability is the model's own (untempered) probability of the drawn tokens.
    """
    _check_steps(steps)
    if not temperature > 0:
        raise ConfigError(f"temperature must be > 0, got {temperature!r}.")
    rng = rng or np.random.default_rng()
    sequence, score = list(prompt), 0.0
    for _ in range(steps):
        distribution = np.asarray(predict([sequence])[0], dtype=np.float64)
        token = int(rng.choice(len(distribution), p=tempered(distribution, temperature)))
        score += safe_log(float(distribution[token]))
        sequence.append(token)
    return Completion(tuple(sequence[len(prompt) :]), score)


def tempered(distribution: np.ndarray, temperature: float) -> np.ndarray:
    """p^(1/T), renormalized (computed in log space so small T does not underflow to all zeros)."""
    with np.errstate(divide="ignore"):
        logits = np.log(np.asarray(distribution, dtype=np.float64)) / temperature
    logits -= np.max(logits)
    weights = np.exp(logits)
    return weights / weights.sum()


# --- Keras models -------------------------------------------------------------------------------


def _encode_inputs(
    model: Any, vocabulary: Vocabulary, sequences: Sequence[Sequence[int]]
) -> np.ndarray:
    """Id sequences -> the model's input array; fixed-length models see the last `timesteps` tokens,
    pre-padded with id 0 / all-zero one-hot rows (their training padding)."""
    ids = np.asarray(sequences, dtype=np.int64)
    timesteps = model.inputs[0].shape[1]
    if timesteps is not None and ids.shape[1] != timesteps:
        kept = ids[:, -timesteps:]
        ids = np.pad(kept, ((0, 0), (timesteps - kept.shape[1], 0)), constant_values=-1)
    if vocabulary.input_encoding == "one_hot":
        encoded = np.zeros((*ids.shape, len(vocabulary)), dtype=np.float32)
        rows, columns = np.nonzero(ids >= 0)
        encoded[rows, columns, ids[rows, columns]] = 1.0
        return encoded
    return np.maximum(ids, 0).astype(np.int32)


def refeed_predictor(model: Any, vocabulary: Vocabulary) -> Predict:
    """Predict by running the model over every whole prefix (the book's c11e1 way)."""

    def predict(sequences: Sequence[Sequence[int]]) -> np.ndarray:
        outputs = model(_encode_inputs(model, vocabulary, sequences), training=False)
        return np.asarray(outputs)

    return predict


class StatefulPredictor:
    """A batch-1 copy of a recurrent model with stateful layers, fed one token per call (chapter 12).

    `predict` keeps the state of the prefix it has already read and feeds only the new tokens, so it can
    be used with `greedy_search` and `temperature_sample` (one sequence growing by one token a step).
    """

    def __init__(self, model: Any, vocabulary: Vocabulary) -> None:
        config = model.get_config()
        kinds = [layer["class_name"] for layer in config.get("layers", [])]
        if "Bidirectional" in kinds or not any(kind in RECURRENT_LAYERS for kind in kinds):
            raise ConfigError(
                "Stateful generation needs a Functional model with unidirectional SimpleRNN, LSTM "
                "or GRU layers; use mode=refeed for this model."
            )
        for layer in config["layers"]:
            layer.pop("build_config", None)
            if layer["class_name"] == "InputLayer":
                shape = list(layer["config"]["batch_shape"])
                layer["config"]["batch_shape"] = [1, None, *shape[2:]]
            if layer["class_name"] in RECURRENT_LAYERS:
                layer["config"]["stateful"] = True
        self.model = type(model).from_config(config)  # Functional or Sequential
        self.model.set_weights(model.get_weights())
        self.vocabulary = vocabulary
        self._seen: list[int] = []
        self._last: np.ndarray | None = None

    def reset(self) -> None:
        for layer in self.model.layers:
            if hasattr(layer, "reset_state") and getattr(layer, "stateful", False):
                layer.reset_state()
        self._seen, self._last = [], None

    def step(self, token: int) -> np.ndarray:
        """Feed one token; the distribution of the next one."""
        inputs = _encode_inputs(self.model, self.vocabulary, [[token]])
        self._last = np.asarray(self.model(inputs, training=False))[0]
        self._seen.append(int(token))
        return self._last

    def predict(self, sequences: Sequence[Sequence[int]]) -> np.ndarray:
        if len(sequences) != 1:
            raise ValueError("a stateful predictor follows one sequence at a time (batch size 1)")
        sequence = [int(token) for token in sequences[0]]
        if not sequence:
            raise ValueError("a stateful predictor needs at least one token")
        if sequence[: len(self._seen)] != self._seen:  # not a continuation of what was read
            self.reset()
        for token in sequence[len(self._seen) :]:
            self.step(token)
        if self._last is None:
            raise ValueError("the stateful predictor has read no token")
        return self._last[None, :]


def generate(
    model: Any,
    vocabulary: Vocabulary,
    prompt: str,
    decoding: str = "beam",
    length: int = 11,
    beam_width: int = 8,
    temperature: float = 1.0,
    samples: int = 1,
    mode: str = "auto",
    seed: int | None = None,
) -> list[Completion]:
    """Completions of `prompt` with the run's model: beam (best first), greedy, or samples."""
    if decoding not in DECODINGS:
        raise ConfigError(
            f"decoding={decoding!r} is not known; use one of: {', '.join(DECODINGS)}."
        )
    if mode not in MODES:
        raise ConfigError(f"mode={mode!r} is not known; use one of: {', '.join(MODES)}.")
    ids = vocabulary.encode(prompt)
    oov = (
        vocabulary.tokens.index(vocabulary.oov_token)
        if vocabulary.oov_token in vocabulary.tokens
        else None
    )
    if not ids or all(token == oov for token in ids):
        raise ConfigError(
            f"The prompt {prompt!r} holds no {vocabulary.level[:-1]} the model knows; give some "
            "text of the training corpus."
        )
    if decoding == "beam" and mode == "stateful":
        raise ConfigError("Beam search re-reads every beam (mode=refeed); drop mode=stateful.")
    stateful = mode == "stateful" or (
        mode == "auto" and decoding != "beam" and vocabulary.level == "words"
    )
    predict = (
        StatefulPredictor(model, vocabulary).predict
        if stateful
        else refeed_predictor(model, vocabulary)
    )
    if decoding == "beam":
        return beam_search(predict, ids, beam_width, length)
    if decoding == "greedy":
        return [greedy_search(predict, ids, length)]
    rng = np.random.default_rng(seed)
    return [temperature_sample(predict, ids, length, temperature, rng) for _ in range(samples)]


def describe(decoding: str, length: int, beam_width: int, temperature: float) -> str:
    if decoding == "beam":
        return f"beam search, width {beam_width}, {length} steps"
    if decoding == "greedy":
        return f"greedy, {length} steps"
    return f"sampling at temperature {temperature}, {length} steps"


def format_completions(
    vocabulary: Vocabulary, prompt: str, completions: Sequence[Completion]
) -> list[str]:
    """One line per completion: rank, text, probability and log probability; a completion that
    adds no text to the prompt says so in words."""
    lines = []
    for rank, completion in enumerate(completions, start=1):
        text = vocabulary.join(prompt, completion.ids)
        empty = "  (nothing generated: the model added no text to the prompt)"
        lines.append(
            f"{rank:>2}. {text!r}  p = {completion.probability:.4g} "
            f"(ln p = {completion.log_probability:.3f})"
            + (empty if not vocabulary.decode(completion.ids).strip() else "")
        )
    return lines
