"""Caption tokens and the decoder's input and target ids (book chapter 16).

Captions go through Keras's `text_to_word_sequence`, are cut to 60 tokens and fitted by a tokenizer
with 9,998 ids (0 PAD, 1 UNK, 2 .. 9,997 the most frequent words); START = 9,998 and STOP = 9,999 come
after. decoder input = [START] + tokens + [STOP], decoder target = tokens + [STOP], both post-padded
to the same length (the position whose input is STOP has target PAD, as in the book).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ldl.data.text import Tokenizer, pad_sequences, text_to_word_sequence
from ldl.errors import ConfigError

PAD, UNK, START, STOP = "PAD", "UNK", "START", "STOP"


@dataclass(frozen=True)
class CaptionVocabulary:
    """Row i of the embedding and the softmax: PAD, UNK, words, START, STOP."""

    tokens: list[str]
    max_length: int = 60

    @classmethod
    def fit(cls, token_lists: Sequence[Sequence[str]], max_words: int, max_length: int = 60):
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 5:
            raise ConfigError(f"data.max_words must be an integer >= 5, got {max_words!r}.")
        tokenizer = Tokenizer(num_words=max_words - 2, oov_token=UNK)
        tokenizer.fit_on_texts([list(tokens) for tokens in token_lists])
        words = [PAD] + [tokenizer.index_word.get(i, UNK) for i in range(1, max_words - 2)]
        return cls([*words, START, STOP], max_length)

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def start(self) -> int:
        return self.size - 2

    @property
    def stop(self) -> int:
        return self.size - 1

    def tokenize(self, caption: str) -> list[str]:
        return text_to_word_sequence(caption)[: self.max_length]

    def ids(self, tokens: Sequence[str]) -> list[int]:
        index = {word: i for i, word in enumerate(self.tokens[: self.start]) if i >= 2}
        return [index.get(word, 1) for word in tokens]

    def words(self, ids: Sequence[int]) -> list[str]:
        return [self.tokens[int(i)] for i in ids]

    def decoder_arrays(self, token_lists: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """(decoder input, decoder target): [START] + ids + [STOP] and ids + [STOP], post-padded."""
        sequences = [self.ids(tokens) for tokens in token_lists]
        inputs = [[self.start, *ids, self.stop] for ids in sequences]
        targets = [[*ids, self.stop] for ids in sequences]
        length = max(len(row) for row in inputs)
        return (
            pad_sequences(inputs, maxlen=length, padding="post"),
            pad_sequences(targets, maxlen=length, padding="post"),
        )
