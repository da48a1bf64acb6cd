"""`data=coco_captions` (c16e2) and `data=shapes_captions` (the generated task): cached features and
caption ids, as PreparedData whose batches are PyDatasets that load the features lazily.

The caption dictionary decides the order; the test images are the first int(test_fraction * N) of a
permutation seeded with `split_seed` (the book holds none out: test_fraction=0 trains on every image
and skips the test report), the training images are the others in dictionary order. The tokenizer is
fitted on the first captions of all images (the book's way).
"""

from __future__ import annotations

from collections.abc import Mapping
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
    folder = Path(str(data_config.get("folder") or ""))
    return folder if folder.is_absolute() else Path(data_dir).expanduser() / folder


def cache_folder(data_config: Mapping[str, Any], data_dir: Path | str) -> Path:
    cache = Path(str(data_config["cache_dir"]))
    return cache if cache.is_absolute() else Path(data_dir).expanduser() / cache


def extractor_spec(data_config: Mapping[str, Any]) -> ExtractorSpec:
    return ExtractorSpec.from_mapping(dict(data_config.get("extractor") or {}))


def prepare_features(
    data_config: Mapping[str, Any], data_dir: Path | str, progress: bool = True
) -> tuple[list[CaptionedImage], dict[str, Any]]:
    """The images (reader order) with every feature file in the cache; extracts the missing ones.

    Without the COCO captions file, a complete cache (its caption dictionary and every feature file)
    is enough to train."""
    dataset_dir = dataset_folder(data_config, data_dir)
    cache_dir = cache_folder(data_config, data_dir)
    spec = extractor_spec(data_config)
    limit = data_config.get("read_images")
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


def prepare_captions(
    data_config: Mapping[str, Any],
    data_dir: Path | str,
    split: ValidationSplit = TEST_AS_VALIDATION,
    objects: Mapping[str, Any] | None = None,
    shape_words: set[str] | None = None,
) -> PreparedData:
    if split.validation not in ("test", "none"):
        raise ConfigError(
            f"trainer.validation={split.validation} cannot be carved from a captioning dataset, whose "
            "batches load their features lazily; use test (the held-out images validate, ldl's "
            "default) or none (the book)."
        )
    entries, extraction = prepare_features(data_config, data_dir)
    dataset_dir = dataset_folder(data_config, data_dir)
    cache_dir = cache_folder(data_config, data_dir)
    spec = extractor_spec(data_config)
    max_length = int(data_config.get("max_length", 60))
    vocabulary = CaptionVocabulary.fit(
        [CaptionVocabulary([], max_length).tokenize(e.first_caption) for e in entries],
        data_config["max_words"],
        max_length,
    )
    tokens = [vocabulary.tokenize(e.first_caption) for e in entries]
    decoder_input, decoder_target = vocabulary.decoder_arrays(tokens)
    files = np.asarray([str(feature_path(cache_dir, e)) for e in entries])
    images = [str(image_path(dataset_dir, e)) for e in entries]
    train_rows, test_rows = split_rows(
        len(entries),
        float(data_config.get("test_fraction", 0.0)),
        int(data_config.get("split_seed", 0)),
    )
    for key, limit in (("max_train_examples", "train"), ("max_test_examples", "test")):
        if data_config.get(key):
            if limit == "train":
                train_rows = train_rows[: int(data_config[key])]
            else:
                test_rows = test_rows[: int(data_config[key])]
    feature_shape = tuple(int(s) for s in load_features(files[0]).shape)
    workers = int(data_config.get("workers", 1))
    sample_rows = (test_rows if len(test_rows) else train_rows)[
        : int(data_config.get("sample_size", 4))
    ]

    def batches(split: str, batch_size: int, seed: int, shuffle: bool) -> CaptionBatches | None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        rows = train_rows if split == "train" else test_rows
        if len(rows) == 0:
            return None
        return CaptionBatches(
            files[rows],
            decoder_input[rows],
            decoder_target[rows],
            batch_size,
            seed,
            shuffle=shuffle and split == "train",
            workers=workers,
        )

    metadata = {
        "dataset": data_config["name"],
        "vocabulary": vocabulary.tokens,
        "max_length": max_length,
        "extractor": spec.as_dict(),
        "feature_shape": list(feature_shape),
        "samples": [
            {"image": images[row], "features": str(files[row]), "reference": " ".join(tokens[row])}
            for row in sample_rows
        ],
    }
    report_options = dict(data_config.get("report") or {})
    test_objects = (
        [objects[str(entries[row].image_id)] for row in test_rows] if objects is not None else None
    )

    def test_report(model: Any, run_dir: Path) -> dict[str, Any]:
        from ldl.tasks.captioning.report import caption_report

        if len(test_rows) == 0:
            return {}
        return caption_report(
            model,
            vocabulary,
            [str(files[row]) for row in test_rows],
            [images[row] for row in test_rows],
            [tokens[row] for row in test_rows],
            run_dir,
            objects=test_objects,
            shape_words=shape_words,
            spec=spec,
            grid=(feature_shape[0], feature_shape[1]),
            **report_options,
        )

    rows_all = np.arange(len(entries))
    return PreparedData(
        x_train=(rows_all[train_rows], decoder_input[train_rows]),
        y_train=decoder_target[train_rows],
        x_val=None,
        y_val=None,
        x_test=(rows_all[test_rows], decoder_input[test_rows]),
        y_test=decoder_target[test_rows],
        task="classification",
        num_outputs=vocabulary.size,
        statistics={
            "images": len(entries),
            "train_images": len(train_rows),
            "test_images": len(test_rows),
            "words": sum(1 for t in vocabulary.tokens[2 : vocabulary.start] if t != "UNK"),
            "caption_length": int(decoder_input.shape[1]),
            "feature_shape": list(feature_shape),
            **{f"extraction/{k}": v for k, v in extraction.items()},
        },
        metadata=metadata,
        model_input_shape=(feature_shape, (int(decoder_input.shape[1]),)),
        test_report=test_report,
        batches=batches,
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
