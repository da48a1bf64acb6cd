"""`data=coco_captions` (c16e2) and `data=shapes_captions` (the generated task): cached features and
caption ids, as PreparedData whose batches are PyDatasets that load the features lazily.

The caption dictionary decides the order; the test images are the first int(test_fraction * N) of a
permutation seeded with `split_seed` (the book holds none out: test_fraction=0 trains on every image
and skips the test report), the training images are the others in dictionary order. The tokenizer is
fitted on the first captions of all images (the book's way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit
from ldl.errors import ConfigError
from ldl.tasks.captioning.batches import CaptionBatches
from ldl.tasks.captioning.cache import (
    CAPTIONS_FILE as CACHE_CAPTIONS,
)
from ldl.tasks.captioning.cache import (
    check_extractor,
    extract_features,
    feature_path,
    load_features,
    read_caption_dictionary,
)
from ldl.tasks.captioning.coco import (
    CAPTIONS_FILE,
    IMAGES_FOLDER,
    CaptionedImage,
    image_path,
    missing_coco_error,
    read_captions,
)
from ldl.tasks.captioning.extractors import ExtractorSpec
from ldl.tasks.captioning.vocabulary import CaptionVocabulary

SPLITS = ("train", "validation", "test")


def dataset_folder(data_config: Mapping[str, Any], data_dir: Path | str) -> Path:
    folder = Path(str(data_config["folder"] or ""))
    return folder if folder.is_absolute() else Path(data_dir).expanduser() / folder


def cache_folder(data_config: Mapping[str, Any], data_dir: Path | str) -> Path:
    cache = Path(str(data_config["cache_dir"]))
    return cache if cache.is_absolute() else Path(data_dir).expanduser() / cache


def extractor_spec(data_config: Mapping[str, Any]) -> ExtractorSpec:
    return ExtractorSpec.from_mapping(dict(data_config["extractor"] or {}))


def prepare_features(
    data_config: Mapping[str, Any], data_dir: Path | str, progress: bool = True
) -> tuple[list[CaptionedImage], dict[str, Any]]:
    """The images (reader order) with every feature file in the cache; extracts the missing ones.

    Without the COCO captions file, a complete cache (its caption dictionary and every feature file)
    is enough to train."""
    dataset_dir = dataset_folder(data_config, data_dir)
    cache_dir = cache_folder(data_config, data_dir)
    spec = extractor_spec(data_config)
    limit = data_config["read_images"]
    if not (dataset_dir / CAPTIONS_FILE).is_file() and (cache_dir / CACHE_CAPTIONS).is_file():
        check_extractor(cache_dir, spec)
        entries = read_caption_dictionary(cache_dir)[: limit or None]
        if all(feature_path(cache_dir, e).is_file() for e in entries):
            return entries, {"images": len(entries), "extracted": 0, "skipped": len(entries)}
    entries = read_captions(dataset_dir, limit)
    if not entries:
        raise ConfigError(f"'{dataset_dir / CAPTIONS_FILE}' holds no captioned image.")
    if not (dataset_dir / IMAGES_FOLDER).is_dir():
        raise missing_coco_error(
            dataset_dir, f"the image folder '{dataset_dir / IMAGES_FOLDER}' is missing"
        )
    batch = int(data_config["extraction_batch_size"])
    statistics = extract_features(entries, dataset_dir, cache_dir, spec, batch, progress)
    return entries, statistics


def split_rows(count: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows in order, test rows in draw order)."""
    if not 0.0 <= test_fraction < 1.0:
        raise ConfigError(f"data.test_fraction must lie in [0, 1), got {test_fraction}.")
    n_test = int(count * test_fraction)
    if test_fraction > 0 and n_test == 0:
        raise ConfigError(f"{count} images are too few to hold out {test_fraction:.0%}; use more.")
    order = np.random.default_rng(seed).permutation(count)
    return np.sort(order[n_test:]), order[:n_test]


@dataclass(frozen=True)
class CaptionTable:
    """Every image's feature file, photo and caption ids, and which rows train and test."""

    files: np.ndarray  # feature file per image
    images: list[str]  # photo per image
    tokens: list[list[str]]  # first caption, tokenized
    decoder_input: np.ndarray
    decoder_target: np.ndarray
    train_rows: np.ndarray
    test_rows: np.ndarray
    workers: int

    def batches(
        self, split: str, batch_size: int, seed: int, shuffle: bool
    ) -> CaptionBatches | None:
        """The lazily loading batches of one split (None when it holds no image)."""
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        rows = self.train_rows if split == "train" else self.test_rows
        if len(rows) == 0:
            return None
        return CaptionBatches(
            self.files[rows],
            self.decoder_input[rows],
            self.decoder_target[rows],
            batch_size,
            seed,
            shuffle=shuffle and split == "train",
            workers=self.workers,
        )


def _split_rows(data_config: Mapping[str, Any], count: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and test rows, cut to max_train_examples / max_test_examples."""
    train_rows, test_rows = split_rows(
        count, float(data_config["test_fraction"]), int(data_config["split_seed"])
    )
    if data_config["max_train_examples"]:
        train_rows = train_rows[: int(data_config["max_train_examples"])]
    if data_config["max_test_examples"]:
        test_rows = test_rows[: int(data_config["max_test_examples"])]
    return train_rows, test_rows


def _caption_table(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    entries: list[CaptionedImage],
    vocabulary: CaptionVocabulary,
) -> CaptionTable:
    tokens = [vocabulary.tokenize(e.first_caption) for e in entries]
    decoder_input, decoder_target = vocabulary.decoder_arrays(tokens)
    cache_dir, dataset_dir = (
        cache_folder(data_config, data_dir),
        dataset_folder(data_config, data_dir),
    )
    train_rows, test_rows = _split_rows(data_config, len(entries))
    return CaptionTable(
        files=np.asarray([str(feature_path(cache_dir, e)) for e in entries]),
        images=[str(image_path(dataset_dir, e)) for e in entries],
        tokens=tokens,
        decoder_input=decoder_input,
        decoder_target=decoder_target,
        train_rows=train_rows,
        test_rows=test_rows,
        workers=int(data_config["workers"]),
    )


@dataclass
class CaptionReportOnTest:
    """The end-of-training caption report on the test images (nothing when none is held out)."""

    vocabulary: CaptionVocabulary
    table: CaptionTable
    spec: ExtractorSpec
    grid: tuple[int, int]
    options: dict[str, Any]
    objects: list[Any] | None
    shape_words: set[str] | None

    def __call__(self, model: Any, run_dir: Path) -> dict[str, Any]:
        from ldl.tasks.captioning.report import caption_report

        rows = self.table.test_rows
        if len(rows) == 0:
            return {}
        return caption_report(
            model,
            self.vocabulary,
            [str(self.table.files[row]) for row in rows],
            [self.table.images[row] for row in rows],
            [self.table.tokens[row] for row in rows],
            run_dir,
            objects=self.objects,
            shape_words=self.shape_words,
            spec=self.spec,
            grid=self.grid,
            **self.options,
        )


def _statistics(
    entries: list[CaptionedImage],
    table: CaptionTable,
    vocabulary: CaptionVocabulary,
    feature_shape: tuple[int, ...],
    extraction: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "images": len(entries),
        "train_images": len(table.train_rows),
        "test_images": len(table.test_rows),
        "words": sum(1 for t in vocabulary.tokens[2 : vocabulary.start] if t != "UNK"),
        "caption_length": int(table.decoder_input.shape[1]),
        "feature_shape": list(feature_shape),
        **{f"extraction/{k}": v for k, v in extraction.items()},
    }


def _metadata(
    data_config: Mapping[str, Any],
    table: CaptionTable,
    vocabulary: CaptionVocabulary,
    spec: ExtractorSpec,
    feature_shape: tuple[int, ...],
    samples: np.ndarray,
) -> dict[str, Any]:
    """data.json: what `ldl caption` and the per-epoch samples need."""
    return {
        "dataset": data_config["name"],
        "vocabulary": vocabulary.tokens,
        "max_length": vocabulary.max_length,
        "extractor": spec.as_dict(),
        "feature_shape": list(feature_shape),
        "samples": [
            {
                "image": table.images[row],
                "features": str(table.files[row]),
                "reference": " ".join(table.tokens[row]),
            }
            for row in samples
        ],
    }


def prepare_captions(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
    objects: Mapping[str, Any] | None = None,
    shape_words: set[str] | None = None,
) -> PreparedData:
    """Extract (or read the cached) features, fit the caption vocabulary, split the images, and
    describe batches, samples and the report; `objects` (the generated scenes' shapes and regions)
    lets the report measure where the attention falls."""
    if split.validation not in ("test", "none"):
        raise ConfigError(
            f"trainer.validation={split.validation} cannot be carved from a captioning dataset, whose "
            "batches load their features lazily; use test (the held-out images validate, ldl's "
            "default) or none (the book)."
        )
    entries, extraction = prepare_features(data_config, data_dir)
    max_length = int(data_config["max_length"])
    vocabulary = CaptionVocabulary.fit(
        [CaptionVocabulary([], max_length).tokenize(e.first_caption) for e in entries],
        data_config["max_words"],
        max_length,
    )
    table = _caption_table(data_config, data_dir, entries, vocabulary)
    feature_shape = tuple(int(s) for s in load_features(table.files[0]).shape)
    spec = extractor_spec(data_config)
    samples = (table.test_rows if len(table.test_rows) else table.train_rows)[
        : int(data_config["sample_size"])
    ]
    report = CaptionReportOnTest(
        vocabulary,
        table,
        spec,
        grid=(feature_shape[0], feature_shape[1]),
        options=dict(data_config["report"] or {}),
        objects=None
        if objects is None
        else [objects[str(entries[row].image_id)] for row in table.test_rows],
        shape_words=shape_words,
    )
    rows = np.arange(len(entries))
    return PreparedData(
        x_train=(rows[table.train_rows], table.decoder_input[table.train_rows]),
        y_train=table.decoder_target[table.train_rows],
        x_val=None,
        y_val=None,
        x_test=(rows[table.test_rows], table.decoder_input[table.test_rows]),
        y_test=table.decoder_target[table.test_rows],
        task="classification",
        num_outputs=vocabulary.size,
        statistics=_statistics(entries, table, vocabulary, feature_shape, extraction),
        metadata=_metadata(data_config, table, vocabulary, spec, feature_shape, samples),
        model_input_shape=(feature_shape, (int(table.decoder_input.shape[1]),)),
        test_report=report,
        batches=table.batches,
    )


def prepare_coco_captions(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """c16e2: COCO 2014 training images, first caption each, VGG19 block5_conv4 features."""
    return prepare_captions(data_config, data_dir, split)


def prepare_shapes_captions(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """The generated shapes task (generated into data.folder on first use, then reused)."""
    from ldl.tasks.captioning.shapes import ensure_shapes_dataset, shape_words

    objects = ensure_shapes_dataset(
        dataset_folder(data_config, data_dir),
        int(data_config["images"]),
        int(data_config["generator_seed"]),
    )
    return prepare_captions(data_config, data_dir, split, objects, shape_words())
