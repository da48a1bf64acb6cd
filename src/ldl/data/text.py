"""Keras-compatible text utilities (docs/book-conventions.md, text utilities), because Keras 3 no longer ships them.

The book's word-level examples (c12e1, c14e1, c17e2, ...) tokenize with the legacy
`keras.preprocessing.text` functions. Their exact rules decide which tokens exist (the apostrophe stays,
curly quotes glue to words, the vocabulary ranking breaks ties by first occurrence), so the results
are only comparable with the book's when these rules are reproduced bit for bit. Keep this module free
of TensorFlow: it is pure Python and NumPy, and fast to test.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

# The label of vocabulary ids past the words a text has (Frankenstein has fewer than 10,000 words):
# their rows are never seen in training, so word-vector queries skip them.
UNUSED_TOKEN = "<unused>"

# The legacy Keras default filter: ASCII punctuation (apostrophe excluded), TAB and LF.
KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_TRANSLATION = str.maketrans(dict.fromkeys(KERAS_FILTERS, " "))


def text_to_word_sequence(text: str) -> list[str]:
    """Lowercase, turn every filter character into a space, split on ASCII spaces, drop empties.

    Only ASCII punctuation is filtered: non-ASCII quotes and dashes stay glued to words ("“the",
    "labour—the"), and non-ASCII spaces are not separators, exactly as in legacy Keras.
    """
    return [word for word in text.lower().translate(_TRANSLATION).split(" ") if word]


def _as_tokens(text: str | Sequence[str]) -> list[str]:
    """A string is tokenized; a list is taken as already tokenized (lowercased item by item)."""
    if isinstance(text, str):
        return text_to_word_sequence(text)
    return [item.lower() for item in text]


class Tokenizer:
    """Legacy `keras.preprocessing.text.Tokenizer` semantics: a ranked vocabulary with index 0 free.

    Words are ranked by descending count; ties keep first-occurrence order. With an `oov_token`, it
    gets index 1 and words start at 2; only indices below `num_words` are emitted, everything else
    becomes the OOV index (or is dropped without an OOV token).
    """

    def __init__(self, num_words: int | None = None, oov_token: str | None = None) -> None:
        if num_words is not None and (isinstance(num_words, bool) or num_words < 1):
            raise ValueError(f"num_words must be a positive integer or None, got {num_words!r}.")
        self.num_words = num_words
        self.oov_token = oov_token
        self.word_counts: dict[str, int] = {}
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}

    def fit_on_texts(self, texts: Iterable[str | Sequence[str]]) -> None:
        """Count words in order of first occurrence, then rank them (stable sort by count)."""
        for text in texts:
            for word in _as_tokens(text):
                self.word_counts[word] = self.word_counts.get(word, 0) + 1
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [w for w, _ in ranked]
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1), strict=True))
        self.index_word = {index: word for word, index in self.word_index.items()}

    @property
    def oov_index(self) -> int | None:
        return None if self.oov_token is None else self.word_index.get(self.oov_token)

    def texts_to_sequences(self, texts: Iterable[str | Sequence[str]]) -> list[list[int]]:
        """Map every text to word indices; rare (index >= num_words) and unknown words become OOV."""
        oov = self.oov_index
        sequences = []
        for text in texts:
            sequence = []
            for word in _as_tokens(text):
                index = self.word_index.get(word)
                if index is not None and not (self.num_words and index >= self.num_words):
                    sequence.append(index)
                elif oov is not None:
                    sequence.append(oov)
            sequences.append(sequence)
        return sequences

    def sequences_to_texts(self, sequences: Iterable[Sequence[int]]) -> list[str]:
        """Indices back to space-joined words; 0, OOV and indices >= num_words read as the OOV token."""
        oov = self.oov_index
        texts = []
        for sequence in sequences:
            words = []
            for index in sequence:
                index = int(index)
                word = self.index_word.get(index)
                if word is not None and not (self.num_words and index >= self.num_words):
                    words.append(word)
                elif oov is not None:
                    words.append(self.index_word[oov])
            texts.append(" ".join(words))
        return texts


def pad_sequences(
    sequences: Sequence[Sequence[int]],
    maxlen: int | None = None,
    padding: str = "pre",
    truncating: str = "pre",
    value: int = 0,
) -> np.ndarray:
    """Pad with `value` to `maxlen` (default: the longest sequence); int32, like Keras's default.

    Longer sequences lose their start (`truncating="pre"`) or end (`"post"`).
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in ("pre", "post"):
            raise ValueError(f"{name} must be 'pre' or 'post', got {side!r}.")
    if maxlen is None:
        maxlen = max((len(sequence) for sequence in sequences), default=0)
    if maxlen < 0:
        raise ValueError(f"maxlen must be >= 0, got {maxlen}.")
    padded = np.full((len(sequences), maxlen), value, dtype=np.int32)
    for row, sequence in enumerate(sequences):
        if maxlen == 0 or len(sequence) == 0:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        if padding == "pre":
            padded[row, maxlen - len(kept) :] = kept
        else:
            padded[row, : len(kept)] = kept
    return padded


def validation_split_index(count: int, fraction: float) -> int:
    """Where Keras's `fit(validation_split=fraction)` cuts `count` examples (before any shuffling).

    The first `int(count * (1 - fraction))` examples train; the rest validate (docs/book-conventions.md, text utilities).
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(
            f"a validation fraction must lie strictly between 0 and 1, got {fraction}."
        )
    return int(count * (1.0 - fraction))
