"""Book sales and Frankenstein data: formats, window counts, no leakage, clear errors.

The window counts are the book's (chapter 9 for book sales, chapters 11 and 12 for Frankenstein), as
docs/sequences.md states them under "`book_sales`" and "`frankenstein_chars` and `frankenstein_words`".
"""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf
from sequence_fixtures import gutenberg_text, write_book_sales_csv, write_frankenstein

from ldl.config import config_dir
from ldl.data.datasets import prepare_data
from ldl.errors import ConfigError, DataError
from ldl.tasks.forecasting.data import (
    load_book_sales,
    make_windows,
    naive_forecast,
    read_book_sales,
    scale_series,
    split_chronologically,
)
from ldl.tasks.text.data import (
    character_vocabulary,
    preprocess_characters,
    strip_gutenberg_boilerplate,
)
from ldl.tasks.text.data import (
    make_windows as token_windows,
)


def data_config(name: str, **overrides) -> dict:
    config = OmegaConf.to_container(OmegaConf.load(config_dir() / "data" / f"{name}.yaml"))
    return {**config, **overrides}


# --- book sales ----------------------------------------------------------------------------------


def test_reader_parses_months_and_drops_trailing_na(tmp_path):
    values = write_book_sales_csv(tmp_path, months=30, trailing_na=3)
    series = read_book_sales(tmp_path / "book_store_sales.csv")
    assert series.months[0] == "1992-01" and series.months[-1] == "1994-06"
    np.testing.assert_array_equal(series.values, values.astype(np.float32))
    assert series.values.dtype == np.float32


def test_book_range_gives_the_spec_split_and_shapes(tmp_path):
    write_book_sales_csv(tmp_path)  # Jan-92 .. Dec-20, like the real file
    series = load_book_sales(tmp_path, "2020-03")
    assert len(series) == 339 and series.months[-1] == "2020-03"
    train, test = split_chronologically(series.values, 0.8)
    assert (len(train), len(test)) == (271, 68)
    x_train, y_train = make_windows(train)
    x_test, y_test = make_windows(test)
    assert (x_train.shape, y_train.shape) == ((259, 270, 1), (259, 1))
    assert (x_test.shape, y_test.shape) == ((56, 67, 1), (56, 1))
    fixed, _ = make_windows(train, history="fixed", lookback=12)
    np.testing.assert_array_equal(fixed, x_train[:, 258:270, :])  # c9e1_ffn's slice


@pytest.mark.parametrize(("n", "min_history"), [(13, 12), (40, 12), (40, 1), (25, 5)])
def test_window_counts_follow_the_formula_and_never_look_ahead(n, min_history):
    series = np.arange(1, n + 1, dtype=np.float32)  # value = month number, 0 = padding
    for history, lookback in (("full", 12), ("fixed", 3), ("fixed", 30)):
        x, y = make_windows(series, min_history, history, lookback)
        assert len(x) == n - min_history
        assert x.shape[1] == (n - 1 if history == "full" else lookback)
        for i in range(len(x)):
            target = i + min_history
            assert y[i, 0] == target + 1
            inputs = x[i, :, 0][x[i, :, 0] > 0]
            # exactly the latest months before the target, in order, never the target or later
            expected = np.arange(max(1, target + 1 - x.shape[1]), target + 1)
            np.testing.assert_array_equal(inputs, expected)


def test_no_test_month_leaks_into_training_examples_or_statistics(tmp_path):
    write_book_sales_csv(tmp_path)
    config = data_config("book_sales")
    first = prepare_data(config, tmp_path)
    # Change every test month: the training examples and statistics must not move.
    path = tmp_path / "book_store_sales.csv"
    lines = path.read_text().splitlines()
    split = 1 + int(339 * 0.8)
    changed = [line if i <= split else line.split(",")[0] + ",5000" for i, line in enumerate(lines)]
    path.write_text("\n".join(changed) + "\n")
    second = prepare_data(config, tmp_path)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_train, second.y_train)
    assert first.statistics == second.statistics
    assert not np.array_equal(first.y_test, second.y_test)


def test_standardization_uses_training_months_and_the_book_compatible_mean_scaling():
    train, test = np.array([1.0, 2.0, 3.0, 6.0]), np.array([10.0])
    scaled_train, scaled_test, mean, std = scale_series(train, test, "std")
    assert (mean, std) == (3.0, pytest.approx(np.std(train)))
    assert scaled_test[0] == pytest.approx((10 - 3) / np.std(train))
    assert float(np.mean(scaled_train)) == pytest.approx(0.0, abs=1e-7)
    _, by_mean, _, scale = scale_series(train, test, "mean")
    assert scale == 3.0 and by_mean[0] == pytest.approx(7 / 3)
    with pytest.raises(ConfigError, match="scale_by"):
        scale_series(train, test, "max")


def test_naive_forecast_is_the_last_input_month():
    x, y = make_windows(np.arange(1, 31, dtype=np.float32))
    np.testing.assert_array_equal(naive_forecast(x)[:, 0], y[:, 0] - 1)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("Month,Sales\nJan-92,790\n", "Period,Value"),
        ("Period,Value\nJan-92,790\nMar-92,535\n", "consecutive"),
        ("Period,Value\nJan-92,790\nFeb-92,abc\n", "'abc'"),
        ("Period,Value\nJan-92,790\nFeb-92,NA\nMar-92,800\n", "no value for 1992-02"),
        ("Period,Value\n1992/01,790\n", "Line 2"),
        ("Period,Value\n", "holds no monthly values"),
    ],
)
def test_corrupt_csv_is_a_data_error_naming_the_file(tmp_path, content, fragment):
    path = tmp_path / "book_store_sales.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=fragment) as error:
        read_book_sales(path)
    assert "book_store_sales.csv" in str(error.value)


def test_missing_csv_and_bad_options_are_clear(tmp_path):
    with pytest.raises(DataError, match=r"book_store_sales\.csv"):
        load_book_sales(tmp_path)
    write_book_sales_csv(tmp_path, months=30)
    with pytest.raises(ConfigError, match="YYYY-MM"):
        load_book_sales(tmp_path, "March 2020")
    with pytest.raises(ConfigError, match="before the first month"):
        load_book_sales(tmp_path, "1990-01")
    with pytest.raises(ConfigError, match="no example"):
        prepare_data(data_config("book_sales", end_date=None, min_history=25), tmp_path)


# --- Frankenstein ----------------------------------------------------------------------------------


def test_character_preprocessing_follows_the_book_order():
    assert preprocess_characters("A\nB  C   D    E") == "a b c  d  e"
    assert character_vocabulary("cabca") == ["a", "b", "c"]
    assert character_vocabulary("cabca", "first_occurrence") == ["c", "a", "b"]
    with pytest.raises(ConfigError, match="char_order"):
        character_vocabulary("abc", "set")


@pytest.mark.parametrize(
    ("length", "window", "step"), [(100, 40, 3), (41, 40, 3), (43, 40, 3), (50, 10, 1)]
)
def test_window_count_is_the_book_loop(length, window, step):
    ids = np.arange(length)
    x, y = token_windows(ids, window, step)
    assert len(x) == len(range(0, length - window, step))
    np.testing.assert_array_equal(x[:, 0], np.arange(0, length - window, step))
    np.testing.assert_array_equal(y, x[:, -1] + 1)


def test_too_short_a_text_is_a_clear_error():
    with pytest.raises(DataError, match="too few"):
        token_windows(np.arange(40), 40, 3)


def test_character_dataset_reads_bom_and_crlf_and_splits_the_last_five_percent(tmp_path):
    text = write_frankenstein(tmp_path)
    data = prepare_data(data_config("frankenstein_chars"), tmp_path)
    processed = preprocess_characters(text)
    assert "\ufeff" not in data.metadata["vocabulary"] and "\r" not in data.metadata["vocabulary"]
    assert data.metadata["vocabulary"] == sorted(set(processed))
    windows = len(range(0, len(processed) - 40, 3))
    assert len(data.x_test) == windows - int(windows * 0.95)
    assert len(data.x_train) + len(data.x_test) == windows
    assert data.x_train.dtype == np.int32 and data.x_train.shape[1] == 40
    assert data.input_shape == (40, len(data.metadata["vocabulary"]))
    # The test windows are the end of the text, the training windows its start.
    decoded = "".join(data.metadata["vocabulary"][i] for i in data.x_train[0])
    assert decoded == processed[:40]
    last = "".join(data.metadata["vocabulary"][i] for i in data.x_test[-1])
    start = 3 * (windows - 1)
    assert last == processed[start : start + 40]
    features, targets = data.transform(data.x_test[:2], data.y_test[:2])
    assert tuple(features.shape) == (2, 40, data.num_outputs) and tuple(targets.shape) == (
        2,
        data.num_outputs,
    )
    np.testing.assert_array_equal(np.argmax(features, axis=-1), data.x_test[:2])


def test_word_dataset_uses_the_keras_tokenizer_rules(tmp_path):
    text = write_frankenstein(tmp_path, sentences=200)
    config = data_config("frankenstein_words", max_words=12, window_length=8)
    data = prepare_data(config, tmp_path)
    vocabulary = data.metadata["vocabulary"]
    assert len(vocabulary) == 12 and vocabulary[:2] == ["<pad>", "UNK"]
    tokens = text_words(text)
    assert "he—don't" in tokens and any(token.startswith("“") for token in tokens)
    assert not any(char in token for token in tokens for char in ",.\r\n")
    assert data.num_outputs == 12 and data.x_train.shape[1] == 8
    assert int(data.x_train.max()) < 12 and int(data.x_train.min()) >= 1  # 1 = UNK for rare words
    assert data.statistics["tokens"] == len(text_words(text))
    assert data.model_input_shape is None and data.transform is None


def text_words(text: str) -> list[str]:
    from ldl.data.text import text_to_word_sequence

    return text_to_word_sequence(text)


def test_validation_options_work_on_prepared_windows(tmp_path):
    write_frankenstein(tmp_path)
    config = data_config("frankenstein_chars")
    full = prepare_data(config, tmp_path)
    last = prepare_data(config, tmp_path, validation="last_fraction", validation_fraction=0.1)
    cut = int(len(full.x_train) * 0.9)
    np.testing.assert_array_equal(last.x_train, full.x_train[:cut])
    np.testing.assert_array_equal(last.x_val, full.x_train[cut:])
    holdout = prepare_data(config, tmp_path, validation="holdout", validation_fraction=0.1)
    assert len(holdout.x_val) + len(holdout.x_train) == len(full.x_train)


def test_gutenberg_boilerplate_can_be_stripped():
    text = gutenberg_text(sentences=3)
    body = strip_gutenberg_boilerplate(text)
    assert "Project Gutenberg" not in body and "Updated editions" not in body
    assert body.strip().endswith(".")
    assert strip_gutenberg_boilerplate("no markers") == "no markers"


def test_missing_text_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match=r"frankenstein\.txt"):
        prepare_data(data_config("frankenstein_words"), tmp_path)
    (tmp_path / "frankenstein.txt").write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(DataError, match="UTF-8"):
        prepare_data(data_config("frankenstein_chars"), tmp_path)


# --- the real files (skipped without ../shared/data) ------------------------------------------------


@pytest.mark.real_data
def test_real_book_sales_match_the_spec(real_data_dir):
    data = prepare_data(data_config("book_sales"), real_data_dir)
    assert data.x_train.shape == (259, 270, 1) and data.x_test.shape == (56, 67, 1)
    assert data.statistics["mean"] == pytest.approx(1149.42, abs=0.01)
    assert data.statistics["scale"] == pytest.approx(438.31, abs=0.01)
    assert data.metadata["test_target_months"] == ["2015-08", "2020-03"]
    naive = naive_forecast(data.x_test)
    assert float(np.mean((naive - data.y_test) ** 2)) == pytest.approx(0.636, abs=0.001)
    by_mean = prepare_data(data_config("book_sales", scale_by="mean"), real_data_dir)
    naive = naive_forecast(by_mean.x_test)
    assert float(np.mean((naive - by_mean.y_test) ** 2)) == pytest.approx(0.0924, abs=0.0001)


@pytest.mark.real_data
def test_real_frankenstein_matches_the_spec(real_data_dir):
    chars = prepare_data(data_config("frankenstein_chars"), real_data_dir)
    assert chars.statistics == {"characters": 437_881, "vocabulary_size": 67, "windows": 145_947}
    assert len(chars.x_test) == 7_298
    words = prepare_data(data_config("frankenstein_words"), real_data_dir)
    assert words.statistics == {"tokens": 78_728, "distinct_words": 7_636, "windows": 26_230}
    assert len(words.x_test) == 1_312
