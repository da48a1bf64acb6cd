"""word2vec training (chapter 13's concepts; the book shows no training code): CBOW or skip-gram with
negative sampling on Frankenstein, with separate or tied input and output matrices.

Examples (the dataset): for every word position t and context offset 1..K on both sides,
- skip-gram: the centre word predicts one context word: inputs (centre, context), target 1, plus
  `negatives` pairs (centre, a word drawn from the unigram distribution ** 0.75), target 0;
- CBOW: the 2K context words (their average) predict the centre word: inputs (context words,
  centre), target 1, plus `negatives` (context words, a drawn word), target 0 (positions without K
  words on both sides start no example).
The model (`build_word2vec`): the first input's ids through the input Embedding (`embedding`), averaged;
the candidate word through the output Embedding (`context_embedding`, or the same matrix when `tied`);
sigmoid of their dot product. The learned vectors are the `embedding` rows, so
`ldl embeddings run=<run> nearest=...` queries them like c12e1's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np
from keras import layers

from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit
from ldl.data.text import text_to_word_sequence
from ldl.errors import ConfigError
from ldl.tasks.text.data import index_to_word, load_text, word_tokenizer

METHODS = ("skipgram", "cbow")


def _integer(data_config: Mapping[str, Any], key: str, minimum: int) -> int:
    value = data_config[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"data.{key} must be an integer >= {minimum}, got {value!r}.")
    return value


def negative_sampler(ids: np.ndarray, vocabulary: int, seed: int) -> Any:
    """Draws of word ids from the unigram distribution raised to 3/4 (word2vec's), ids >= 2."""
    counts = np.bincount(ids, minlength=vocabulary).astype(np.float64)
    counts[:2] = 0.0  # never padding or UNK
    weights = counts**0.75
    probabilities = weights / weights.sum()
    rng = np.random.default_rng(seed)
    return lambda size: np.asarray(rng.choice(vocabulary, size=size, p=probabilities), np.int32)


def training_examples(
    ids: np.ndarray, method: str, window: int, negatives: int, vocabulary: int, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """((first input, candidate), target) for every position: see the module docstring."""
    if method not in METHODS:
        raise ConfigError(f"data.method={method!r} is not known; use skipgram or cbow.")
    draw = negative_sampler(ids, vocabulary, seed)
    offsets = [o for o in range(-window, window + 1) if o != 0]
    positions = np.arange(window, len(ids) - window)
    context = np.stack([ids[positions + o] for o in offsets], axis=1)  # (positions, 2K)
    if method == "skipgram":  # one example per (centre, context word)
        first = np.repeat(ids[positions], len(offsets))[:, None]
        true = context.reshape(-1)
    else:  # one example per centre word, its 2K context words as the input
        first, true = context, ids[positions]
    noise = draw(len(true) * negatives)
    inputs = np.concatenate([first, np.repeat(first, negatives, axis=0)]).astype(np.int32)
    candidates = np.concatenate([true, noise]).astype(np.int32)[:, None]
    targets = np.concatenate([np.ones(len(true)), np.zeros(len(noise))]).astype(np.float32)
    order = np.random.default_rng(seed + 1).permutation(len(targets))
    return (inputs[order], candidates[order]), targets[order, None]


def prepare_word2vec(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """Frankenstein's words as word2vec examples; the last `test_fraction` of them are held out."""
    max_words = _integer(data_config, "max_words", 3)
    window, negatives = _integer(data_config, "window", 1), _integer(data_config, "negatives", 1)
    tokens = text_to_word_sequence(load_text(data_config, data_dir))
    tokenizer = word_tokenizer(tokens, max_words, "UNK")
    ids = np.asarray([seq[0] if seq else 0 for seq in tokenizer.texts_to_sequences(tokens)])
    method = str(data_config["method"])
    (first, candidate), targets = training_examples(ids, method, window, negatives, max_words)
    cut = int(len(targets) * (1.0 - float(data_config["test_fraction"])))
    if not 0 < cut < len(targets):
        raise ConfigError("data.test_fraction must leave examples on both sides, e.g. 0.05.")
    return split.carve(
        PreparedData(
            x_train=(first[:cut], candidate[:cut]),
            y_train=targets[:cut],
            x_val=None,
            y_val=None,
            x_test=(first[cut:], candidate[cut:]),
            y_test=targets[cut:],
            task="regression",  # one probability per pair, binary cross-entropy
            num_outputs=1,
            statistics={"tokens": len(tokens), "examples": len(targets)},
            metadata={
                "dataset": "frankenstein_word2vec",
                "tokens": "words",
                "vocabulary": index_to_word(tokenizer, max_words),
                "method": method,
            },
            model_input_shape=((first.shape[1],), (1,)),
        )
    )


def build_word2vec(
    input_shape: Any,
    vocabulary: int,
    embedding_dim: int = 100,
    tied: bool = False,
    name: str = "word2vec",
) -> keras.Model:
    """sigmoid(mean of the first input's input vectors . the candidate's output vector)."""
    if isinstance(embedding_dim, bool) or not isinstance(embedding_dim, int) or embedding_dim < 1:
        raise ConfigError(f"model.embedding_dim must be a positive integer, got {embedding_dim!r}.")
    (width,), _ = input_shape
    words = keras.Input(shape=(width,), dtype="int32", name="words")
    candidate = keras.Input(shape=(1,), dtype="int32", name="candidate")
    embedding = layers.Embedding(vocabulary, embedding_dim, name="embedding")
    output_embedding = (
        embedding if tied else layers.Embedding(vocabulary, embedding_dim, name="context_embedding")
    )
    averaged = layers.GlobalAveragePooling1D(name="average")(embedding(words))
    candidate_vector = layers.Flatten(name="candidate_vector")(output_embedding(candidate))
    score = layers.Dot(axes=1, name="score")([averaged, candidate_vector])
    probability = layers.Activation("sigmoid", name="probability", dtype="float32")(score)
    return keras.Model([words, candidate], probability, name=name)
