"""Nearest words and analogies on a generated GloVe file; c13e1 end to end; clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sequence_fixtures import write_glove

from ldl.data.text import UNUSED_TOKEN, Tokenizer
from ldl.errors import ConfigError, DataError
from ldl.tasks.text.data import index_to_word
from ldl.tasks.text.embeddings import (
    WordVectors,
    distances_to,
    nearest,
    parse_query,
    rank_of,
    read_glove,
)


@pytest.fixture(scope="module")
def glove(tmp_path_factory):
    directory = tmp_path_factory.mktemp("glove")
    vectors = write_glove(directory)
    return directory, vectors


def test_reader_keeps_order_and_float32_values(glove):
    directory, written = glove
    vectors = read_glove(directory / "glove.6B.100d.txt")
    assert vectors.words == list(written)
    assert vectors.vectors.dtype == np.float32
    np.testing.assert_array_equal(vectors.vectors[1], written["queen"])
    assert read_glove(directory / "glove.6B.100d.txt", max_words=3).words == [
        "king",
        "queen",
        "prince",
    ]


def test_cosine_nearest_words_include_the_query_as_the_book_does(glove):
    vectors = read_glove(glove[0] / "glove.6B.100d.txt")
    (first, zero), second = nearest(vectors, "king", k=2)[0], nearest(vectors, "king", k=2)[1]
    assert (first, zero) == ("king", pytest.approx(0.0, abs=1e-6))
    assert second[0] == "prince"
    king, man, woman, queen = (
        glove[1][w].astype(np.float64) for w in ("king", "man", "woman", "queen")
    )
    query = king - man + woman
    expected = 1 - query @ queen / (np.linalg.norm(query) * np.linalg.norm(queen))
    found = dict(nearest(vectors, "king - man + woman", k=3))
    assert found["queen"] == pytest.approx(expected, abs=1e-6)
    assert nearest(vectors, "king-man+woman", k=1, exclude_inputs=True)[0][0] == "queen"
    assert rank_of(vectors, "sweden", "sweden") == 1


def test_query_parsing():
    known = {"e-mail", "king"}.__contains__
    assert parse_query("king - man + woman", known) == [(1, "king"), (-1, "man"), (1, "woman")]
    assert parse_query("king-man+woman", known) == [(1, "king"), (-1, "man"), (1, "woman")]
    assert parse_query("e-mail", known) == [(1, "e-mail")]
    assert parse_query("-man", known) == [(-1, "man")]
    with pytest.raises(ConfigError, match="without a word"):
        parse_query("king -", known)
    with pytest.raises(ConfigError, match="empty"):
        parse_query("  ", known)


def test_distances_and_unknown_words():
    matrix = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(distances_to(matrix, np.array([1.0, 0.0])), [0.0, 1.0, 1.0])
    np.testing.assert_allclose(
        distances_to(matrix, np.array([1.0, 0.0]), "euclidean"), [0.0, np.sqrt(5), 1.0]
    )
    vectors = WordVectors(["a", "b", "c"], matrix)
    with pytest.raises(ConfigError, match="'zebra' is not in the vocabulary"):
        nearest(vectors, "zebra")
    with pytest.raises(ConfigError, match="distance"):
        distances_to(matrix, matrix[0], "manhattan")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("king 0.1 0.2\nqueen 0.3\n", "Line 2"),
        ("king 0.1 abc\n", "Line 1"),
        ("", "no word vectors"),
    ],
)
def test_corrupt_glove_files_are_reported_by_name(tmp_path, content, fragment):
    path = tmp_path / "glove.txt"
    path.write_text(content)
    with pytest.raises(DataError, match=fragment) as error:
        read_glove(path)
    assert "glove.txt" in str(error.value)


def test_c13e1_prints_the_book_queries_and_compares(make_config, glove, tmp_path, capsys):
    from ldl.training.train import train

    metrics = train(make_config("experiment=c13e1", f"data_dir={glove[0]}"))
    printed = capsys.readouterr().out
    assert "Read 25 word vectors of dimension 8." in printed
    assert "king - man + woman: " in printed
    assert metrics["status"] == "completed"
    assert metrics["word/king/1"] == "king" and metrics["distance/king/1"] == pytest.approx(
        0, abs=1e-6
    )
    assert metrics["rank/sweden/stockholm"] >= 1
    assert metrics["book_verdict/distance/king/2"] in ("within", "outside")
    recorded = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert recorded["word/king-man+woman/1"] in ("king", "queen")


def test_c13e1_without_glove_names_the_file(make_config, tmp_path):
    from ldl.training.train import train

    with pytest.raises(DataError, match=r"glove\.6B\.100d\.txt.*nlp\.stanford\.edu"):
        train(make_config("experiment=c13e1", f"data_dir={tmp_path / 'empty'}"))


def test_rows_past_the_texts_vocabulary_are_labelled_unused_and_never_neighbours():
    tokenizer = Tokenizer(num_words=8, oov_token="UNK")
    tokenizer.fit_on_texts([["the", "monster", "the", "saw"]])
    words = index_to_word(tokenizer, 8)
    assert words == [
        "<pad>",
        "UNK",
        "the",
        "monster",
        "saw",
        UNUSED_TOKEN,
        UNUSED_TOKEN,
        UNUSED_TOKEN,
    ]
    # The untrained rows lie closest to "the" here, and are still skipped.
    matrix = np.array([[9, 9], [5, 5], [1, 0], [0, 1], [-1, 0], [1, 0.01], [1, 0.02], [1, 0.03]])
    vectors = WordVectors(words, matrix.astype("float32"))
    assert [word for word, _ in nearest(vectors, "the", k=3, distance="euclidean")] == [
        "the",
        "monster",
        "saw",
    ]


def test_unit_length_vectors_rank_euclidean_like_cosine(make_config, glove, tmp_path):
    from ldl.tasks.text.embeddings import unit_length
    from ldl.training.train import train

    # "long" points the same way as "a" but is ten times longer: far in Euclidean terms, near by angle
    raw = WordVectors(["a", "long", "b"], np.array([[1.0, 0.0], [10.0, 1.0], [0.6, 0.8]]))
    assert [w for w, _ in nearest(raw, "a", 2, "euclidean", exclude_inputs=True)] == ["b", "long"]
    unit = unit_length(raw)
    np.testing.assert_allclose(np.linalg.norm(unit.vectors, axis=1), 1.0)
    assert [w for w, _ in nearest(unit, "a", 2, "euclidean", exclude_inputs=True)] == ["long", "b"]
    assert [w for w, _ in nearest(raw, "a", 2, "cosine", exclude_inputs=True)] == ["long", "b"]
    # c13e1 with model.normalize=true: Euclidean neighbours of a word are then its cosine neighbours
    overrides = ("experiment=c13e1", f"data_dir={glove[0]}")
    euclidean = ("model.distance=euclidean", "model.k=5")
    plain = train(make_config(*overrides, *euclidean, run_dir=tmp_path / "plain"))
    unit = train(
        make_config(*overrides, *euclidean, "model.normalize=true", run_dir=tmp_path / "u")
    )
    cosine = train(make_config(*overrides, "model.k=5", run_dir=tmp_path / "cosine"))
    words = [f"word/{q}/{rank}" for q in ("dog", "king", "sweden") for rank in range(1, 6)]
    assert [unit[key] for key in words] == [cosine[key] for key in words]
    assert [plain[key] for key in words] != [unit[key] for key in words]
