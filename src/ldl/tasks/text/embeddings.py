"""Word-embedding lookups: nearest words and analogies (chapters 12 and 13), on GloVe or a trained model.

Chapter 13 explores pretrained GloVe vectors and chapter 12 inspects the embedding its language model
learned; both come down to ranking every vector by its distance to a query vector. The query is a word
or plain vector arithmetic on raw vectors ("king - man + woman"); as in the book, the query words are
not excluded from the results unless asked (the book notes that king - man + woman is nearest to king).
Pure NumPy: loading a run's model is the command's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig

from ldl.data.download import missing_files_error
from ldl.data.text import UNUSED_TOKEN
from ldl.errors import ConfigError, DataError
from ldl.runs.reporter import Say

DISTANCES = ("cosine", "euclidean")
GLOVE_URL = "https://nlp.stanford.edu/data/glove.6B.zip (glove.6B.100d.txt)"
_OPERATOR = re.compile(r"\s*([+-])\s*")


@dataclass(frozen=True, eq=False)
class WordVectors:
    """A vocabulary and one vector per word (row i belongs to words[i])."""

    words: list[str]
    vectors: np.ndarray

    def __post_init__(self) -> None:
        if self.vectors.ndim != 2 or len(self.words) != len(self.vectors):
            raise ValueError(
                f"{len(self.words)} words need a (words, dimension) matrix, got {self.vectors.shape}"
            )

    def index(self, word: str) -> int:
        """Row of `word`; the first row wins if a label repeats."""
        try:
            return self._index()[word]
        except KeyError:
            raise ConfigError(
                f"{word!r} is not in the vocabulary of {len(self.words):,} words. Check the spelling "
                "(text vocabularies are lowercase)."
            ) from None

    def _index(self) -> dict[str, int]:
        cached = self.__dict__.get("_cached_index")
        if cached is None:
            cached = {}
            for row, word in enumerate(self.words):
                cached.setdefault(word, row)
            object.__setattr__(self, "_cached_index", cached)
        return cached

    def __contains__(self, word: str) -> bool:
        return word in self._index()


def parse_query(expression: str, known: Callable[[str], bool]) -> list[tuple[int, str]]:
    """ "king - man + woman" (spaces optional) -> [(+1, "king"), (-1, "man"), (+1, "woman")].

    A string the vocabulary holds as one word (e.g. "e-mail") is that word, not arithmetic.
    """
    expression = expression.strip()
    if not expression:
        raise ConfigError("The query is empty; give a word or an analogy such as king-man+woman.")
    if known(expression):
        return [(1, expression)]
    parts = _OPERATOR.split(expression)  # word, operator, word, ..., word
    parts = parts[1:] if parts[0] == "" else ["+", *parts]
    terms = []
    for operator, word in zip(parts[0::2], parts[1::2], strict=True):
        if not word:
            raise ConfigError(f"The query {expression!r} has an operator without a word after it.")
        terms.append((1 if operator == "+" else -1, word))
    return terms


def query_vector(vectors: WordVectors, expression: str) -> tuple[np.ndarray, list[str]]:
    """The vector of a word or of an analogy (plain sums of raw vectors), and the words used."""
    terms = parse_query(expression, vectors.__contains__)
    total = np.zeros(vectors.vectors.shape[1], dtype=np.float64)
    for sign, word in terms:
        total += sign * vectors.vectors[vectors.index(word)].astype(np.float64)
    return total, [word for _, word in terms]


def distances_to(matrix: np.ndarray, vector: np.ndarray, distance: str = "cosine") -> np.ndarray:
    """Distance of every row to `vector`: cosine (1 - cos) or Euclidean. A zero row has cosine
    distance 1 (it points nowhere), which keeps padding rows out of the way instead of NaN."""
    if distance not in DISTANCES:
        raise ConfigError(
            f"distance={distance!r} is not known; use one of: {', '.join(DISTANCES)}."
        )
    matrix = np.asarray(matrix, dtype=np.float64)
    vector = np.asarray(vector, dtype=np.float64)
    if distance == "euclidean":
        return np.linalg.norm(matrix - vector, axis=1)
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.where(norms > 0, matrix @ vector / norms, 0.0)
    return 1.0 - cosine


def nearest(
    vectors: WordVectors,
    expression: str,
    k: int = 3,
    distance: str = "cosine",
    exclude_inputs: bool = False,
) -> list[tuple[str, float]]:
    """The k nearest words to a word or analogy, closest first (ties in vocabulary order)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ConfigError(f"k must be a whole number >= 1, got {k!r}.")
    vector, used = query_vector(vectors, expression)
    order, scores = ranking(vectors, vector, distance)
    result = []
    for row in order:
        word = vectors.words[row]
        if word == UNUSED_TOKEN or (exclude_inputs and word in used):
            continue  # rows past the text's vocabulary hold untrained initial values
        result.append((word, float(scores[row])))
        if len(result) == k:
            break
    return result


def ranking(
    vectors: WordVectors, vector: np.ndarray, distance: str = "cosine"
) -> tuple[np.ndarray, np.ndarray]:
    """Row order by ascending distance (stable) and the distances themselves."""
    scores = distances_to(vectors.vectors, vector, distance)
    return np.argsort(scores, kind="stable"), scores


def rank_of(vectors: WordVectors, expression: str, word: str, distance: str = "cosine") -> int:
    """Position (1 = nearest) of `word` in the sorted neighbour list of a query (chapter 13)."""
    vector, _ = query_vector(vectors, expression)
    order, _ = ranking(vectors, vector, distance)
    return int(np.flatnonzero(order == vectors.index(word))[0]) + 1


def read_glove(path: Path | str, max_words: int | None = None) -> WordVectors:
    """A GloVe text file: one `word v1 v2 ... vd` line per word, split on whitespace, float32.

    Every line must have the first line's dimension; a short or non-numeric line is reported with its
    number, since it means a truncated or foreign file.
    """
    path = Path(path)
    words: list[str] = []
    rows: list[np.ndarray] = []
    dimension = None
    fix = "The file is truncated or not a GloVe text file: replace it."
    try:
        with open(path, encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if max_words is not None and len(words) >= max_words:
                    break
                fields = line.split()
                if not fields:
                    continue
                dimension = dimension or len(fields) - 1
                try:
                    if len(fields) - 1 != dimension or dimension < 1:
                        raise ValueError(f"{len(fields) - 1} numbers instead of {dimension}")
                    rows.append(np.asarray(fields[1:], dtype=np.float32))
                except ValueError as error:
                    raise DataError(
                        f"Line {number} of '{path}' is not 'word' plus numbers ({error}). {fix}"
                    ) from None
                words.append(fields[0])
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"Cannot read '{path}' as a GloVe text file ({error}). {fix}") from None
    if not words:
        raise DataError(f"'{path}' holds no word vectors. {fix}")
    return WordVectors(words, np.vstack(rows))


def unit_length(vectors: WordVectors) -> WordVectors:
    """Every vector divided by its length (chapter 13): Euclidean distances then rank like cosine
    ones, and in an analogy each word weighs the same however frequent it is (long vectors)."""
    lengths = np.linalg.norm(vectors.vectors, axis=1, keepdims=True)
    return WordVectors(vectors.words, vectors.vectors / np.maximum(lengths, 1e-12))


def load_glove(data_dir: Path | str, file_name: str, max_words: int | None = None) -> WordVectors:
    """GloVe vectors from `data_dir/file_name`, or an error saying where to get the file."""
    path = Path(data_dir).expanduser() / file_name
    if not path.is_file():
        raise missing_files_error("GloVe", path.parent, [file_name], GLOVE_URL)
    return read_glove(path, max_words)


def query_key(expression: str) -> str:
    """A metric-key form of a query: "king - man + woman" -> "king-man+woman"."""
    return re.sub(r"\s+", "", expression)


def run_glove_lookup(cfg: DictConfig, say: Say) -> dict[str, Any]:
    """The `model=glove_lookup` program (numpy_program runner): c13e1's queries, no network."""
    metrics = run_glove_queries(cfg.data, cfg.model, cfg.data_dir, say)
    return {**metrics, "device": "CPU (NumPy)"}


def run_glove_queries(
    data_config: Mapping[str, Any], model_config: Mapping[str, Any], data_dir: Path | str,
    say: Say,
) -> dict[str, Any]:  # fmt: skip
    """c13e1: load GloVe, print the nearest words of every query as the book does, return metrics.

    Metrics: `distance/<query>/<rank>` and `word/<query>/<rank>` for the k nearest, and
    `rank/<query>/<word>` for the configured rank checks (e.g. stockholm is 18th nearest to sweden).
    """
    vectors = load_glove(data_dir, str(data_config["file"]), data_config["max_words"])
    say(f"Read {len(vectors.words):,} word vectors of dimension {vectors.vectors.shape[1]}.")
    if model_config.get("normalize", False):
        vectors = unit_length(vectors)
        say("Vectors normalized to unit length.")
    distance, k = str(model_config["distance"]), int(model_config["k"])
    metrics: dict[str, Any] = {"words": len(vectors.words)}
    for expression in model_config["queries"]:
        found = nearest(vectors, expression, k, distance, bool(model_config["exclude_inputs"]))
        say(f"{expression}: " + ", ".join(f"{word}: {value:.3f}" for word, value in found))
        for rank, (word, value) in enumerate(found, start=1):
            metrics[f"distance/{query_key(expression)}/{rank}"] = value
            metrics[f"word/{query_key(expression)}/{rank}"] = word
    for expression, word in model_config.get("rank_checks") or []:
        position = rank_of(vectors, expression, word, distance)
        say(f"{word} is number {position} in the neighbour list of {expression}")
        metrics[f"rank/{query_key(expression)}/{word}"] = position
    return metrics


def embedding_matrix(model: Any) -> np.ndarray:
    """The weights of a Keras model's first Embedding layer (its learned word vectors)."""
    for layer in model.layers:
        if type(layer).__name__ == "Embedding":
            return np.asarray(layer.get_weights()[0])
    raise ConfigError(
        "This run's model has no Embedding layer, so it learned no word vectors; use a run of an "
        "embedding model such as c12e1."
    )


def model_word_vectors(model: Any, vocabulary: Sequence[str]) -> WordVectors:
    """A trained model's embedding rows labelled with the run's vocabulary (row i = id i)."""
    matrix = embedding_matrix(model)
    if len(vocabulary) != len(matrix):
        raise ConfigError(
            f"The run's vocabulary has {len(vocabulary)} entries but its embedding {len(matrix)} rows; "
            "the run folder's data.json does not belong to its model."
        )
    return WordVectors(list(vocabulary), matrix)
