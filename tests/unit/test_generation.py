"""Decoders on hand-made models: beam search is exact where it must be, stateful equals refeed."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ldl.errors import ConfigError
from ldl.tasks.text.generation import (
    StatefulPredictor,
    Vocabulary,
    beam_search,
    generate,
    greedy_search,
    refeed_predictor,
    temperature_sample,
    tempered,
)


def table_model(vocabulary_size: int, seed: int = 0):
    """A hand-made next-token model whose distribution depends on the whole prefix."""

    def distribution(prefix: tuple[int, ...]) -> np.ndarray:
        rng = np.random.default_rng(abs(hash((seed, prefix))) % 2**32)
        weights = rng.random(vocabulary_size) ** 3
        return weights / weights.sum()

    def predict(sequences):
        return np.stack([distribution(tuple(sequence)) for sequence in sequences])

    return predict, distribution


def brute_force_best(distribution, prompt, vocabulary_size, steps):
    best = None
    for continuation in itertools.product(range(vocabulary_size), repeat=steps):
        score, prefix = 0.0, tuple(prompt)
        for token in continuation:
            score += math.log(distribution(prefix)[token])
            prefix += (token,)
        if best is None or score > best[0]:
            best = (score, continuation)
    return best


@pytest.mark.parametrize("seed", range(5))
def test_beam_search_wide_enough_finds_the_most_probable_sequence(seed):
    predict, distribution = table_model(3, seed)
    prompt, steps = [0, 1], 4
    score, best = brute_force_best(distribution, prompt, 3, steps)
    completions = beam_search(predict, prompt, beam_width=3**steps, steps=steps)
    assert completions[0].ids == best
    assert completions[0].log_probability == pytest.approx(score)
    scores = [c.log_probability for c in completions]
    assert scores == sorted(scores, reverse=True) and len(completions) == 3**steps


@pytest.mark.parametrize("seed", range(5))
def test_beam_width_one_is_greedy(seed):
    predict, _ = table_model(4, seed)
    (beam,) = beam_search(predict, [2], beam_width=1, steps=6)
    greedy = greedy_search(predict, [2], steps=6)
    assert beam.ids == greedy.ids
    assert beam.log_probability == pytest.approx(greedy.log_probability)


def test_beam_search_beats_greedy_where_the_book_says_it_can():
    # After the prompt: a 0.6, b 0.4. After a: nothing above 0.34. After b: x 0.9.
    table = {
        (0,): [0.0, 0.6, 0.4, 0.0],
        (0, 1): [0.33, 0.33, 0.0, 0.34],
        (0, 2): [0.05, 0.0, 0.05, 0.9],
    }

    def predict(sequences):
        return np.array([table.get(tuple(s), [0.25] * 4) for s in sequences])

    greedy = greedy_search(predict, [0], steps=2)
    assert greedy.ids == (1, 3) and greedy.probability == pytest.approx(0.6 * 0.34)
    best = beam_search(predict, [0], beam_width=2, steps=2)[0]
    assert best.ids == (2, 3) and best.probability == pytest.approx(0.4 * 0.9)


def test_ties_go_to_the_lower_token_and_stable_order():
    def predict(sequences):
        return np.full((len(sequences), 4), 0.25)

    completions = beam_search(predict, [0], beam_width=3, steps=2)
    assert [c.ids for c in completions] == [(0, 0), (0, 1), (0, 2)]


def test_temperature_sampling():
    distribution = np.array([0.5, 0.3, 0.2])
    np.testing.assert_allclose(tempered(distribution, 1.0), distribution)
    assert tempered(distribution, 0.01)[0] == pytest.approx(1.0)
    flat = tempered(distribution, 1e6)
    np.testing.assert_allclose(flat, 1 / 3, atol=1e-5)
    predict, _ = table_model(5, 3)
    cold = temperature_sample(predict, [1], 5, temperature=1e-4, rng=np.random.default_rng(0))
    assert cold.ids == greedy_search(predict, [1], 5).ids
    first = temperature_sample(predict, [1], 5, rng=np.random.default_rng(7))
    again = temperature_sample(predict, [1], 5, rng=np.random.default_rng(7))
    assert first == again
    with pytest.raises(ConfigError, match="temperature"):
        temperature_sample(predict, [1], 5, temperature=0)


def test_bad_decoder_arguments_are_clear():
    predict, _ = table_model(3)
    with pytest.raises(ConfigError, match="beam_width"):
        beam_search(predict, [0], beam_width=0, steps=2)
    with pytest.raises(ConfigError, match="length"):
        greedy_search(predict, [0], steps=0)


# --- Keras models ------------------------------------------------------------------------------------

CHARS = Vocabulary(list(" abcdeht"), "characters", "one_hot")
WORDS = Vocabulary(
    ["<pad>", "UNK", "the", "body", "i", "saw", "monster", "UNK"], "words", "ids", "UNK"
)


def char_model(cell: str = "lstm"):
    import keras

    from ldl.models.rnn import build_recurrent

    keras.utils.set_random_seed(1)
    return build_recurrent((None, len(CHARS)), len(CHARS), cell=cell, units=[6, 5])


def word_model():
    import keras

    from ldl.models.rnn import build_recurrent

    keras.utils.set_random_seed(2)
    return build_recurrent(
        (None,), len(WORDS), cell="gru", units=[6], embedding_input_dim=len(WORDS),
        embedding_dim=4, dense_units=[5],
    )  # fmt: skip


@pytest.mark.parametrize("cell", [pytest.param("lstm", marks=pytest.mark.slow), "simple_rnn"])
def test_stateful_generation_equals_recomputing_from_the_full_prompt(cell):
    model = char_model(cell)
    refeed = refeed_predictor(model, CHARS)
    stateful = StatefulPredictor(model, CHARS)
    sequence = CHARS.encode("the bad")
    for _ in range(6):
        expected, got = refeed([sequence])[0], stateful.predict([sequence])[0]
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        sequence = [*sequence, int(np.argmax(expected))]
    stateful_run = generate(model, CHARS, "the bad", decoding="greedy", length=8, mode="stateful")
    refeed_run = generate(model, CHARS, "the bad", decoding="greedy", length=8, mode="refeed")
    assert stateful_run[0].ids == refeed_run[0].ids
    assert stateful_run[0].log_probability == pytest.approx(refeed_run[0].log_probability, abs=1e-4)


def test_word_model_generates_statefully_with_an_embedding():
    model = word_model()
    auto = generate(
        model, WORDS, "I saw", decoding="greedy", length=3
    )  # words: stateful by default
    refeed = generate(model, WORDS, "I saw", decoding="greedy", length=3, mode="refeed")
    assert auto[0].ids == refeed[0].ids
    assert WORDS.encode("I saw the zebra") == [4, 5, 2, 1]
    assert WORDS.join("I saw", (2, 6)) == "i saw the monster"


def test_beam_search_on_a_keras_model_is_exact_when_wide_enough():
    model = char_model()
    predict = refeed_predictor(model, CHARS)
    prompt, steps, size = CHARS.encode("he"), 2, len(CHARS)
    # Every prefix's distribution, one batch per length.
    prefixes = [tuple(prompt)] + [(*prompt, token) for token in range(size)]
    table = {}
    for length in (len(prompt), len(prompt) + 1):
        batch = [prefix for prefix in prefixes if len(prefix) == length]
        table.update(zip(batch, predict(batch).astype(np.float64), strict=True))
    score, best = brute_force_best(table.__getitem__, prompt, size, steps)
    completions = generate(
        model, CHARS, "he", decoding="beam", beam_width=size**steps, length=steps
    )
    assert completions[0].ids == best
    assert completions[0].log_probability == pytest.approx(score, abs=1e-4)
    assert generate(model, CHARS, "he", beam_width=1, length=4)[0].ids == (
        generate(model, CHARS, "he", decoding="greedy", length=4)[0].ids
    )


def test_generation_errors_are_clear():
    model = char_model()
    with pytest.raises(ConfigError, match="never saw"):
        generate(model, CHARS, "the end!")
    with pytest.raises(ConfigError, match="decoding"):
        generate(model, CHARS, "the", decoding="nucleus")
    with pytest.raises(ConfigError, match="refeed"):
        generate(model, CHARS, "the", decoding="beam", mode="stateful")
    with pytest.raises(ConfigError, match="no token vocabulary"):
        Vocabulary.from_metadata({"dataset": "book_sales"})
