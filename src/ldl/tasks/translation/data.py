"""Anki/Tatoeba French -> English sentence pairs for c14e1 and c15_transformer (chapters 14 and 15).

`fra.txt` holds one pair per line: English, TAB, French, and in newer releases a TAB and an attribution
column (ignored). The book reads the first 60,000 lines (the shortest sentences: the file is sorted by
length), tokenizes each side with Keras's `text_to_word_sequence` (docs/book-conventions.md, text utilities), fits one tokenizer per
language with 9,998 words (0 = PAD, 1 = UNK) and appends START = 9,998 and STOP = 9,999.

The test rows are a seeded permutation's first 20 % (the book draws them with unseeded `random.sample`):
every model trained on the same `split_seed` is scored on the same sentences, so their BLEU compares.
The model inputs are a pair (source ids, decoder input ids); the targets are the decoder's next tokens.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit
from ldl.data.download import fetch, missing_files_error
from ldl.data.text import Tokenizer, pad_sequences, text_to_word_sequence
from ldl.errors import ConfigError, DataError

FILE_NAME = "fra.txt"
ZIP_NAME = "fra-eng.zip"
SOURCE_URL = "https://www.manythings.org/anki/fra-eng.zip"
PAD, UNK, START, STOP = "PAD", "UNK", "START", "STOP"
PADDINGS = ("pre", "post")


@dataclass(frozen=True)
class Pairs:
    """Tokenized sentence pairs in file order: source (French) and destination (English) words."""

    source: list[list[str]]
    destination: list[list[str]]


def _check_int(data_config: Mapping[str, Any], key: str, minimum: int) -> int:
    value = data_config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"data.{key} must be an integer >= {minimum}, got {value!r}.")
    return value


def _download_pairs_file(data_config: Mapping[str, Any], data_dir: Path) -> Path | None:
    """Fetch the zip named by data.download_url when data.download_sha256 pins it; extract fra.txt.

    The official zip is republished with every Anki release, so no checksum can be fixed in ldl: the
    user pins the release they trust (or puts fra.txt in the data directory themselves).
    """
    sha256 = data_config["download_sha256"]
    if not data_config["download"] or not sha256:
        return None
    archive = fetch(ZIP_NAME, str(data_config["download_url"] or SOURCE_URL), sha256, data_dir)
    try:
        with zipfile.ZipFile(archive) as bundle:
            member = next(
                (name for name in bundle.namelist() if Path(name).name == FILE_NAME), None
            )
            if member is None:
                raise DataError(
                    f"'{archive}' holds no {FILE_NAME}; it is not the Anki French-English zip. "
                    f"Delete it and put {FILE_NAME} in '{data_dir}' yourself."
                )
            (data_dir / FILE_NAME).write_bytes(bundle.read(member))
    except zipfile.BadZipFile as error:
        raise DataError(f"'{archive}' is not a zip file ({error}); delete it.") from None
    return data_dir / FILE_NAME


def read_pairs(data_config: Mapping[str, Any], data_dir: Path | str) -> Pairs:
    """The first `read_lines` lines of fra.txt as (French, English) token lists, each cut to
    `max_length` tokens."""
    data_dir = Path(data_dir).expanduser()
    file_name = data_config["file"]
    path = data_dir / file_name
    if not path.is_file():
        downloaded = _download_pairs_file(data_config, data_dir)
        if downloaded is None:
            raise missing_files_error(
                "Anki French-English",
                data_dir,
                [file_name],
                SOURCE_URL,
                reason=(
                    "It is not downloaded automatically because the official zip changes with every "
                    "Anki release (set data.download_sha256=<sha256 of the zip you trust> to let ldl "
                    "fetch and verify it); unzip fra.txt from it"
                ),
            )
        path = downloaded
    read_lines = _check_int(data_config, "read_lines", 1)
    max_length = _check_int(data_config, "max_length", 1)
    source, destination = [], []
    try:
        with open(path, encoding="utf-8") as stream:
            for number, line in enumerate(stream, start=1):
                if number > read_lines:
                    break
                columns = line.rstrip("\n").split("\t")
                if len(columns) < 2:
                    raise DataError(
                        f"Line {number} of '{path}' has no TAB between the English and the French "
                        "sentence; fra.txt must hold 'English<TAB>French[<TAB>attribution]' lines."
                    )
                destination.append(text_to_word_sequence(columns[0])[:max_length])
                source.append(text_to_word_sequence(columns[1])[:max_length])
    except UnicodeDecodeError as error:
        raise DataError(f"'{path}' is not UTF-8 text ({error}); replace it.") from None
    if len(source) < 2:
        raise DataError(f"'{path}' holds {len(source)} sentence pairs; at least 2 are needed.")
    return Pairs(source, destination)


def drop_duplicate_pairs(pairs: Pairs) -> tuple[Pairs, int]:
    """The pairs without repeats of an earlier (source, destination) pair, and how many were dropped.

    fra.txt repeats many short pairs; a repeat can land on both sides of the test split, which scores
    memorized sentences as translated ones.
    """
    seen: set[tuple[tuple[str, ...], tuple[str, ...]]] = set()
    source, destination = [], []
    for words, target in zip(pairs.source, pairs.destination, strict=True):
        key = (tuple(words), tuple(target))
        if key not in seen:
            seen.add(key)
            source.append(words)
            destination.append(target)
    return Pairs(source, destination), len(pairs.source) - len(source)


def fit_tokenizer(token_lists: Sequence[Sequence[str]], max_words: int) -> Tokenizer:
    """One language's tokenizer: `max_words - 2` ids (PAD, UNK and words), START/STOP come after."""
    tokenizer = Tokenizer(num_words=max_words - 2, oov_token=UNK)
    tokenizer.fit_on_texts([list(tokens) for tokens in token_lists])
    return tokenizer


def vocabulary_of(tokenizer: Tokenizer, max_words: int) -> list[str]:
    """Row i of the embedding / softmax: PAD, UNK, the words, START, STOP (`max_words` rows)."""
    words = [PAD]
    for index in range(1, max_words - 2):
        words.append(tokenizer.index_word.get(index, UNK))
    return [*words, START, STOP]


def split_rows(count: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows in file order, test rows in draw order): int(count * fraction) test rows drawn by a
    seeded permutation, so every model sees the same split."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(
            f"data.test_fraction must lie strictly between 0 and 1, got {test_fraction}."
        )
    n_test = int(count * test_fraction)
    if n_test == 0 or n_test == count:
        raise DataError(
            f"{count} sentence pairs are too few to hold out {test_fraction:.0%}; read more lines."
        )
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[n_test:]), order[:n_test]


def encode_pairs(
    pairs: Pairs,
    source_tokenizer: Tokenizer,
    destination_tokenizer: Tokenizer,
    data_config: Mapping,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, decoder input, decoder target) id arrays, padded as the book pads them.

    decoder input = [START] + words + [STOP], decoder target = words + [STOP]; both post-padded to the
    longest decoder input (the STOP input position has target PAD, the book's quirk).
    """
    max_words = data_config["max_words"]
    start, stop = max_words - 2, max_words - 1
    src_padding = data_config["src_padding"]
    if src_padding not in PADDINGS:
        raise ConfigError(f"data.src_padding={src_padding!r} is not known; use pre or post.")
    source = source_tokenizer.texts_to_sequences(pairs.source)
    if data_config["reverse_source"]:
        source = [list(reversed(sequence)) for sequence in source]
    destination = destination_tokenizer.texts_to_sequences(pairs.destination)
    decoder_input = [[start, *sequence, stop] for sequence in destination]
    decoder_target = [[*sequence, stop] for sequence in destination]
    length = max(len(sequence) for sequence in decoder_input)
    return (
        pad_sequences(source, padding=src_padding),
        pad_sequences(decoder_input, maxlen=length, padding="post"),
        pad_sequences(decoder_target, maxlen=length, padding="post"),
    )


def _select_rows(
    data_config: Mapping[str, Any], pairs: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training rows, test rows (both cut to max_*_examples) and the test rows translated every epoch
    (indices into the test rows)."""
    seed = int(data_config["split_seed"])
    train_rows, test_rows = split_rows(pairs, float(data_config["test_fraction"]), seed)
    sample_size = min(_check_int(data_config, "sample_size", 0), len(test_rows))
    samples = np.random.default_rng(seed + 1).choice(
        len(test_rows), size=sample_size, replace=False
    )
    if data_config["max_train_examples"]:
        train_rows = train_rows[: data_config["max_train_examples"]]
    if data_config["max_test_examples"]:
        test_rows = test_rows[: data_config["max_test_examples"]]
        samples = samples[samples < len(test_rows)]
    return train_rows, test_rows, samples


def _metadata(
    data_config: Mapping[str, Any],
    pairs: Any,
    source_tokenizer: Tokenizer,
    destination_tokenizer: Tokenizer,
    source: np.ndarray,
    decoder_input: np.ndarray,
    sample_rows: list[int],
) -> dict[str, Any]:
    """What `ldl translate` and the per-epoch samples need: vocabularies, lengths, padding, samples."""
    max_words = int(data_config["max_words"])
    return {
        "dataset": "anki_fra_eng",
        "source_language": "French",
        "target_language": "English",
        "source_vocabulary": vocabulary_of(source_tokenizer, max_words),
        "target_vocabulary": vocabulary_of(destination_tokenizer, max_words),
        "source_length": int(source.shape[1]),
        "target_length": int(decoder_input.shape[1]),
        "max_length": int(data_config["max_length"]),
        "src_padding": data_config["src_padding"],
        "reverse_source": bool(data_config["reverse_source"]),
        "samples": [
            {"source": " ".join(pairs.source[row]), "target": " ".join(pairs.destination[row])}
            for row in sample_rows
        ],
    }


def _vocabulary_statistics(
    source_tokenizer: Any, destination_tokenizer: Any, source: np.ndarray, decoder_input: np.ndarray
) -> dict[str, int]:
    """Vocabulary sizes and padded lengths, recorded in the run folder."""
    return {
        "source_words": len(source_tokenizer.word_counts),
        "target_words": len(destination_tokenizer.word_counts),
        "source_length": int(source.shape[1]),
        "target_length": int(decoder_input.shape[1]),
    }


def _test_report(
    metadata: dict[str, Any],
    test_arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
    references: list[list[str]],
    report_options: dict[str, Any],
) -> Callable[[Any, Path], dict[str, Any]]:
    """The after-training report (BLEU, token accuracy, examples) on the test pairs."""
    source, decoder_input, decoder_target = test_arrays

    def test_report(model: Any, run_dir: Path) -> dict[str, Any]:
        from ldl.tasks.translation.translate import translation_report

        return translation_report(
            model,
            metadata,
            source,
            references,
            run_dir,
            decoder_inputs=decoder_input,
            targets=decoder_target,
            **report_options,
        )

    return test_report


def prepare_anki_fra_eng(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """c14e1/c15_transformer data: inputs (source, decoder input), targets (decoder target)."""
    max_words = _check_int(data_config, "max_words", 5)
    pairs, duplicates = read_pairs(data_config, data_dir), 0
    if data_config.get("dedupe_pairs", False):
        pairs, duplicates = drop_duplicate_pairs(pairs)
    source_tokenizer = fit_tokenizer(pairs.source, max_words)
    destination_tokenizer = fit_tokenizer(pairs.destination, max_words)
    source, decoder_input, decoder_target = encode_pairs(
        pairs, source_tokenizer, destination_tokenizer, data_config
    )
    train_rows, test_rows, samples = _select_rows(data_config, len(source))
    metadata = _metadata(
        data_config, pairs, source_tokenizer, destination_tokenizer, source, decoder_input,
        [test_rows[i] for i in samples],
    )  # fmt: skip
    test_report = _test_report(
        metadata,
        (source[test_rows], decoder_input[test_rows], decoder_target[test_rows]),
        [pairs.destination[row] for row in test_rows],
        dict(data_config["report"] or {}),
    )

    return split.carve(
        PreparedData(
            x_train=(source[train_rows], decoder_input[train_rows]),
            y_train=decoder_target[train_rows],
            x_val=None,
            y_val=None,
            x_test=(source[test_rows], decoder_input[test_rows]),
            y_test=decoder_target[test_rows],
            task="classification",
            num_outputs=max_words,
            statistics={
                "pairs": len(source),
                "duplicate_pairs_dropped": duplicates,
                "train_pairs": len(train_rows),
                "test_pairs": len(test_rows),
                **_vocabulary_statistics(
                    source_tokenizer, destination_tokenizer, source, decoder_input
                ),
            },
            metadata=metadata,
            model_input_shape=((int(source.shape[1]),), (int(decoder_input.shape[1]),)),
            test_report=test_report,
        )
    )
