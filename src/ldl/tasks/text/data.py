"""*Frankenstein* as next-character (c11e1) and next-word (c12e1) prediction windows (chapters 11 and 12).

Windows are stored as integer token ids, never as one-hot floats: the book's float64 one-hot character
windows need about 3 GB, while the ids need 23 MB and are one-hot encoded batch by batch inside the
tf.data pipeline (`PreparedData.transform`). The vocabulary order is deterministic (sorted characters;
ranked words with ties in first-occurrence order), so a saved model and its `data.json` vocabulary
always agree. The validation (= test) windows are the last 5 % of the text, Keras's
`validation_split` semantics, taken before any shuffling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit
from ldl.data.download import missing_files_error
from ldl.data.text import (
    UNUSED_TOKEN,
    Tokenizer,
    text_to_word_sequence,
    validation_split_index,
)
from ldl.errors import ConfigError, DataError
from ldl.tasks.text.embeddings import load_glove

FILE_NAME = "frankenstein.txt"
SOURCE_URL = "https://www.gutenberg.org/ebooks/84 (Plain Text UTF-8, file 84-0.txt)"
CHAR_ORDERS = ("sorted", "first_occurrence")
PAD_TOKEN = "<pad>"


def read_text(data_dir: Path | str, file_name: str = FILE_NAME) -> str:
    """The book's read: UTF-8 with the BOM removed, universal newlines (CRLF -> LF)."""
    path = Path(data_dir).expanduser() / file_name
    if not path.is_file():
        raise missing_files_error("Frankenstein text", path.parent, [file_name], SOURCE_URL)
    try:
        with open(path, encoding="utf-8-sig") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(
            f"Cannot read '{path}' as UTF-8 text ({error}); the file is corrupt or in another "
            "encoding. Replace it with Project Gutenberg's UTF-8 plain text of eBook #84."
        ) from None
    if not text.strip():
        raise DataError(f"'{path}' is empty. Replace it with Project Gutenberg's eBook #84.")
    return text


def strip_gutenberg_boilerplate(text: str) -> str:
    """The text between Gutenberg's `*** START OF ...` and `*** END OF ...` lines (chapter 11 option).

    The book keeps the licence, which makes up most of its validation windows; stripping it gives a
    cleaner validation set. Without the markers the text is returned unchanged.
    """
    start = text.find("*** START OF")
    if start >= 0:
        start = text.find("\n", start) + 1 or len(text)
    end = text.find("*** END OF", max(start, 0))
    return text[max(start, 0) : end if end >= 0 else len(text)]


def preprocess_characters(text: str, lowercase: bool = True) -> str:
    """The book's character preprocessing, in its order: lowercase, LF -> space, then one
    left-to-right pass replacing two spaces by one (so runs of 3+ spaces only partly collapse).

    Without lowercasing (`data.lowercase=false`) the vocabulary keeps capitals and the model must also
    learn where sentences and names start: more classes, fewer examples of each.
    """
    return (text.lower() if lowercase else text).replace("\n", " ").replace("  ", " ")


def character_vocabulary(text: str, order: str = "sorted") -> list[str]:
    """The distinct characters, sorted (default) or in order of first occurrence.

    The book numbers them in Python `set` order, which changes from process to process; a fixed
    order changes nothing about the learning problem but makes saved models reloadable.
    """
    if order not in CHAR_ORDERS:
        raise ConfigError(
            f"data.char_order={order!r} is not known; use one of: {', '.join(CHAR_ORDERS)}."
        )
    return sorted(set(text)) if order == "sorted" else list(dict.fromkeys(text))


def window_starts(length: int, window_length: int, step: int) -> range:
    """Start positions 0, step, 2*step, ... while start < length - window_length (the book's loop)."""
    for key, value in (("window_length", window_length), ("window_step", step)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"data.{key} must be an integer >= 1, got {value!r}.")
    return range(0, length - window_length, step)


def make_windows(ids: np.ndarray, window_length: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (N, window_length) and next-token targets (N,) from one sequence of token ids."""
    starts = np.asarray(window_starts(len(ids), window_length, step), dtype=np.int64)
    if len(starts) == 0:
        raise DataError(
            f"The text has only {len(ids)} tokens, too few for one window of {window_length} "
            "plus a target; use a longer text or a shorter data.window_length."
        )
    x = ids[starts[:, None] + np.arange(window_length)[None, :]]
    return x.astype(np.int32), ids[starts + window_length].astype(np.int32)


def _split_and_cut(
    x: np.ndarray, y: np.ndarray, data_config: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The last `test_fraction` of the windows validate/test (Keras validation_split), then the
    optional `max_train_examples` / `max_test_examples` keep the first windows of each part."""
    fraction = float(data_config["test_fraction"])
    if not 0.0 < fraction < 1.0:
        raise ConfigError(f"data.test_fraction must lie strictly between 0 and 1, got {fraction}.")
    cut = validation_split_index(len(x), fraction)
    if cut == 0 or cut == len(x):
        raise DataError(
            f"{len(x)} windows are too few to split off {fraction:.0%} as validation data; use a "
            "longer text or a smaller data.window_step."
        )
    n_train, n_test = data_config["max_train_examples"], data_config["max_test_examples"]
    return x[:cut][:n_train], y[:cut][:n_train], x[cut:][:n_test], y[cut:][:n_test]


def load_text(data_config: Mapping[str, Any], data_dir: Path | str) -> str:
    text = read_text(data_dir, str(data_config["file"]))
    if data_config["strip_gutenberg_boilerplate"]:
        text = strip_gutenberg_boilerplate(text)
    return text


def prepare_characters(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """c11e1's data: 40-character windows, step 3, one-hot encoded per batch in the pipeline."""
    lowercase = data_config.get("lowercase", True)
    if not isinstance(lowercase, bool):
        raise ConfigError(f"data.lowercase must be true or false, got {lowercase!r}.")
    text = preprocess_characters(load_text(data_config, data_dir), lowercase)
    vocabulary = character_vocabulary(text, str(data_config["char_order"]))
    index = {char: i for i, char in enumerate(vocabulary)}
    ids = np.fromiter((index[char] for char in text), dtype=np.int32, count=len(text))
    window_length, step = data_config["window_length"], data_config["window_step"]
    x, y = make_windows(ids, window_length, step)
    x_train, y_train, x_test, y_test = _split_and_cut(x, y, data_config)
    size = len(vocabulary)
    return split.carve(
        PreparedData(
            x_train=x_train,
            y_train=y_train,
            x_val=None,
            y_val=None,
            x_test=x_test,
            y_test=y_test,
            task="classification",
            num_outputs=size,
            statistics={"characters": len(text), "vocabulary_size": size, "windows": len(x)},
            transform=one_hot_transform(size, one_hot_targets=True),
            metadata={
                "dataset": "frankenstein_chars",
                "tokens": "characters",
                "input_encoding": "one_hot",
                "lowercase": lowercase,
                "vocabulary": vocabulary,
                "window_length": window_length,
            },
            model_input_shape=(window_length, size),
        )
    )


def word_tokenizer(tokens: list[str], max_words: int, oov_token: str | None) -> Tokenizer:
    """The book's tokenizer, fitted on the whole token list (validation part included, chapter 12)."""
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 3:
        raise ConfigError(f"data.max_words must be an integer >= 3, got {max_words!r}.")
    tokenizer = Tokenizer(num_words=max_words, oov_token=oov_token)
    tokenizer.fit_on_texts(tokens)
    return tokenizer


def index_to_word(tokenizer: Tokenizer, max_words: int) -> list[str]:
    """Row i of the model's vocabulary (embedding row, softmax output): word, OOV, padding or unused."""
    words = [PAD_TOKEN]
    for index in range(1, max_words):
        word = tokenizer.index_word.get(index)
        words.append(word if word is not None else UNUSED_TOKEN)
    return words


def prepare_words(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """c12e1's data: 40-word windows, step 3, over a `max_words` vocabulary with an UNK token."""
    tokens = text_to_word_sequence(load_text(data_config, data_dir))
    max_words = data_config["max_words"]
    oov_token = data_config["oov_token"]
    tokenizer = word_tokenizer(tokens, max_words, oov_token)
    ids = np.asarray([seq[0] if seq else 0 for seq in tokenizer.texts_to_sequences(tokens)])
    window_length, step = data_config["window_length"], data_config["window_step"]
    x, y = make_windows(ids, window_length, step)
    x_train, y_train, x_test, y_test = _split_and_cut(x, y, data_config)
    vocabulary = index_to_word(tokenizer, max_words)
    initial_weights, coverage = {}, {}
    if data_config.get("pretrained_embeddings"):
        matrix, found = pretrained_matrix(
            vocabulary, data_dir, str(data_config["pretrained_embeddings"])
        )
        initial_weights = {"embedding": [matrix]}
        coverage = {"pretrained_words": found}
    return split.carve(
        PreparedData(
            x_train=x_train,
            y_train=y_train,
            x_val=None,
            y_val=None,
            x_test=x_test,
            y_test=y_test,
            task="classification",
            num_outputs=max_words,
            statistics={
                "tokens": len(tokens),
                "distinct_words": len(tokenizer.word_counts),
                "windows": len(x),
                **coverage,
            },
            initial_weights=initial_weights,
            metadata={
                "dataset": "frankenstein_words",
                "tokens": "words",
                "input_encoding": "ids",
                "vocabulary": vocabulary,
                "oov_token": oov_token,
                "window_length": window_length,
            },
        )
    )


def pretrained_matrix(
    vocabulary: Sequence[str], data_dir: Path | str, file_name: str
) -> tuple[np.ndarray, int]:
    """The Embedding's starting matrix: row i = the file's vector of vocabulary[i]; rows of words the
    file lacks (and of UNK) drawn from uniform(-0.05, 0.05) (Keras's Embedding default), the padding
    row 0 zeros. Returns the matrix and how many vocabulary words the file had."""
    vectors = load_glove(data_dir, file_name)
    lookup = {word: row for row, word in enumerate(vectors.words)}
    dimension = vectors.vectors.shape[1]
    matrix = np.random.default_rng(0).uniform(-0.05, 0.05, (len(vocabulary), dimension))
    matrix[0] = 0.0
    found = 0
    for index, word in enumerate(vocabulary[1:], start=1):
        if word in lookup:
            matrix[index] = vectors.vectors[lookup[word]]
            found += 1
    return matrix.astype(np.float32), found


def one_hot_transform(depth: int, one_hot_targets: bool = True) -> Any:
    """A batch transform (ids -> float32 one-hot) run inside tf.data, so no one-hot array is stored."""
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()

    def encode(features: Any, targets: Any) -> tuple[Any, Any]:
        encoded = tf.one_hot(features, depth, dtype=tf.float32)
        return encoded, tf.one_hot(targets, depth, dtype=tf.float32) if one_hot_targets else targets

    return encode
