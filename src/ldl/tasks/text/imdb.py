"""IMDB movie reviews as bags of words or of n-grams (chapter 12 suggests such a sentiment classifier as
an exercise, without code).

`data_dir/aclImdb/{train,test}/{pos,neg}/*.txt` is the Stanford Large Movie Review Dataset as its
archive unpacks (25,000 reviews per split, half positive). Each review: `<br />` line breaks become
spaces, then Keras's `text_to_word_sequence` (docs/book-conventions.md, text utilities); with
`ngrams: 2` every pair of neighbouring words is a token too ("not good"). The `max_words - 1` most
frequent tokens of the training reviews are the features (column 0 unused, as Keras numbers words from
1); a review is the vector of their counts (`representation: count`) or of 0/1 presence (`binary`).
Word order is lost, which is the point of the exercise: how far does a model get without it?
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.arrays import ArraySplits
from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit, prepare_arrays
from ldl.data.download import missing_files_error
from ldl.data.text import Tokenizer, text_to_word_sequence
from ldl.errors import ConfigError, DataError

FOLDER = "aclImdb"
SOURCE_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
REPRESENTATIONS = ("binary", "count")


def read_reviews(data_dir: Path | str, split: str) -> tuple[list[str], np.ndarray]:
    """The texts and labels (0 negative, 1 positive) of one split, in a fixed shuffled order (the
    files come sorted by label, and a quick run's first examples must hold both)."""
    folder = Path(data_dir).expanduser() / FOLDER / split
    if not (folder / "pos").is_dir() or not (folder / "neg").is_dir():
        raise missing_files_error(
            "IMDB reviews", Path(data_dir).expanduser(), [f"{FOLDER}/{split}/pos", f"{FOLDER}/{split}/neg"],
            SOURCE_URL, reason="Unpack aclImdb_v1.tar.gz there",
        )  # fmt: skip
    texts, labels = [], []
    for label, name in ((0, "neg"), (1, "pos")):
        for path in sorted((folder / name).glob("*.txt")):
            try:
                texts.append(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError as error:
                raise DataError(f"'{path}' is not UTF-8 text ({error}); replace it.") from None
            labels.append(label)
    if not texts:
        raise DataError(f"'{folder}' holds no reviews (*.txt in pos/ and neg/).")
    order = np.random.default_rng(0).permutation(len(texts))
    return [texts[i] for i in order], np.asarray(labels, dtype=np.int64)[order]


def review_tokens(text: str, ngrams: int = 1) -> list[str]:
    """The review's words, followed by its word pairs when `ngrams` is 2."""
    words = text_to_word_sequence(text.replace("<br />", " "))
    if ngrams == 2:
        return [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]
    return words


def bag_matrix(sequences: Sequence[Sequence[int]], width: int, representation: str) -> np.ndarray:
    """(reviews, width) token counts or 0/1 presence, as float32."""
    matrix = np.zeros((len(sequences), width), dtype=np.float32)
    for row, ids in enumerate(sequences):
        if len(ids):
            counts = np.bincount(np.asarray(ids), minlength=width)[:width]
            matrix[row] = np.minimum(counts, 1) if representation == "binary" else counts
    return matrix


def prepare_imdb(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """Bag-of-words (or of n-grams) vectors of the reviews; 2 classes."""
    max_words, ngrams = data_config["max_words"], data_config["ngrams"]
    representation = data_config["representation"]
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 2:
        raise ConfigError(f"data.max_words must be an integer >= 2, got {max_words!r}.")
    if ngrams not in (1, 2):
        raise ConfigError(
            f"data.ngrams must be 1 (words) or 2 (words and word pairs), got {ngrams!r}."
        )
    if representation not in REPRESENTATIONS:
        raise ConfigError(
            f"data.representation={representation!r} is not known; use binary or count."
        )
    train_texts, y_train = read_reviews(data_dir, "train")
    test_texts, y_test = read_reviews(data_dir, "test")
    train_tokens = [review_tokens(text, ngrams) for text in train_texts]
    tokenizer = Tokenizer(num_words=max_words)
    tokenizer.fit_on_texts(train_tokens)
    encode = tokenizer.texts_to_sequences
    raw = ArraySplits(
        bag_matrix(encode(train_tokens), max_words, representation),
        y_train,
        bag_matrix(
            encode([review_tokens(t, ngrams) for t in test_texts]), max_words, representation
        ),
        y_test,
    )
    prepared = prepare_arrays(raw, {**data_config, "standardize": "none"}, split)
    prepared.statistics["distinct_tokens"] = len(tokenizer.word_counts)
    prepared.metadata.update(
        dataset="imdb_bow",
        features=[tokenizer.index_word.get(i, "") for i in range(max_words)],
        ngrams=ngrams,
        representation=representation,
    )
    return prepared
