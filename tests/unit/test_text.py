"""Keras-compatible text utilities, rule by rule (docs/book-conventions.md, text utilities)."""

from __future__ import annotations

import numpy as np
import pytest

from ldl.data.text import Tokenizer, pad_sequences, text_to_word_sequence, validation_split_index


def test_text_to_word_sequence_filters_ascii_punctuation_only():
    text = "Don't STOP!\tHe said: \"“the labour—the” end\"\nj'ai… we're 3.5 km"
    assert text_to_word_sequence(text) == [
        "don't", "stop", "he", "said", "“the", "labour—the”", "end", "j'ai…", "we're", "3", "5", "km",
    ]  # fmt: skip


def test_non_ascii_spaces_are_not_separators():
    assert text_to_word_sequence("Tu viens\u202f? Oui\u00a0!") == ["tu", "viens\u202f", "oui\u00a0"]
    assert text_to_word_sequence("  a  b   ") == ["a", "b"]
    assert text_to_word_sequence("") == []


def test_tokenizer_ranks_by_count_with_ties_in_first_occurrence_order():
    tokenizer = Tokenizer(num_words=5, oov_token="UNK")
    tokenizer.fit_on_texts(["b a c", "a d b e"])
    # counts: b 2, a 2, c 1, d 1, e 1 -> b (first seen) before a; c, d, e in order of appearance.
    assert tokenizer.word_index == {"UNK": 1, "b": 2, "a": 3, "c": 4, "d": 5, "e": 6}
    # Indices >= num_words (5) and unknown words become UNK (1).
    assert tokenizer.texts_to_sequences(["a b c d e zebra"]) == [[3, 2, 4, 1, 1, 1]]
    assert tokenizer.sequences_to_texts([[2, 3, 4, 5, 0, 1, 99]]) == ["b a c UNK UNK UNK UNK"]


def test_tokenizer_takes_lists_as_tokenized_and_strings_through_the_filter():
    tokenizer = Tokenizer(oov_token="UNK")
    tokenizer.fit_on_texts([["The", "end."], "The end."])
    assert tokenizer.word_index == {"UNK": 1, "the": 2, "end.": 3, "end": 4}
    assert tokenizer.texts_to_sequences([["THE", "end."], "the end"]) == [[2, 3], [2, 4]]


def test_tokenizer_without_oov_token_starts_at_one_and_drops_rare_words():
    tokenizer = Tokenizer(num_words=3)
    tokenizer.fit_on_texts(["x y y z z z"])
    assert tokenizer.word_index == {"z": 1, "y": 2, "x": 3}
    assert tokenizer.texts_to_sequences(["x y z w"]) == [[2, 1]]
    assert tokenizer.sequences_to_texts([[1, 2, 3, 0]]) == ["z y"]


def test_tokenizer_rejects_a_bad_vocabulary_limit():
    with pytest.raises(ValueError, match="num_words"):
        Tokenizer(num_words=0)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 4])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    import keras

    sequences = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]
    ours = pad_sequences(sequences, maxlen=maxlen, padding=padding, truncating=truncating)
    theirs = keras.utils.pad_sequences(
        sequences, maxlen=maxlen, padding=padding, truncating=truncating
    )
    assert ours.dtype == np.int32
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_rejects_unknown_sides():
    with pytest.raises(ValueError, match="padding"):
        pad_sequences([[1]], padding="middle")


def test_validation_split_index_is_keras_validation_split():
    # chapters 11 and 12: 145,947 windows -> 7,298 validation; 26,230 -> 1,312.
    assert 145_947 - validation_split_index(145_947, 0.05) == 7_298
    assert 26_230 - validation_split_index(26_230, 0.05) == 1_312
    with pytest.raises(ValueError, match="between 0 and 1"):
        validation_split_index(10, 1.0)
