"""The feature cache: one gzip-compressed pickle of the (rows, columns, depth) float32 features per
image (the book's `.pickle.gzip` files), the caption dictionary and the extractor that made them.

Extraction streams: a batch of images is loaded, run through the extractor and written, then dropped,
so memory stays bounded however many images there are (COCO's raw features are ~33 GB). Each file is
written to a temporary name and renamed when complete, so an interrupted extraction leaves only whole
files, and a rerun skips them (resumable).
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ldl.errors import ConfigError, DataError
from ldl.tasks.captioning.coco import CaptionedImage, image_path
from ldl.tasks.captioning.extractors import ExtractorSpec, build_extractor
from ldl.tasks.captioning.images import preprocess

FEATURE_SUFFIX = ".pickle.gzip"
CAPTIONS_FILE = "captions.json"
EXTRACTOR_FILE = "extractor.json"


def feature_path(cache_dir: Path, entry: CaptionedImage) -> Path:
    return Path(cache_dir) / (Path(entry.file_name).stem + FEATURE_SUFFIX)


def save_features(path: Path, features: np.ndarray) -> None:
    temporary = path.with_name(path.name + ".partial")
    with gzip.open(temporary, "wb", compresslevel=3) as stream:
        pickle.dump(np.asarray(features, dtype=np.float32), stream, protocol=4)
    os.replace(temporary, path)  # atomic: a crash never leaves a half-written feature file


def load_features(path: Path | str) -> np.ndarray:
    try:
        with gzip.open(path, "rb") as stream:
            return pickle.load(stream)
    except FileNotFoundError:
        raise DataError(
            f"The feature file '{path}' is missing; run the feature extraction again (it skips the "
            "files that exist)."
        ) from None
    except (OSError, EOFError, pickle.UnpicklingError) as error:
        raise DataError(
            f"The feature file '{path}' is damaged ({error}); delete it and rerun."
        ) from None


def check_extractor(cache_dir: Path, spec: ExtractorSpec) -> None:
    """A cache holds the features of one extractor; refuse to mix in another's."""
    path = Path(cache_dir) / EXTRACTOR_FILE
    if path.is_file():
        recorded = json.loads(path.read_text())
        if recorded != spec.as_dict():
            raise ConfigError(
                f"The feature cache '{cache_dir}' was made by the extractor {recorded}, not "
                f"{spec.as_dict()}; choose another data.cache_dir or delete that folder."
            )
    else:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(spec.as_dict(), indent=2) + "\n")


def write_caption_dictionary(cache_dir: Path, entries: Sequence[CaptionedImage]) -> None:
    """image id -> [file name, caption 1, caption 2, ...] in the reader's order (the book's dictionary)."""
    dictionary = {str(e.image_id): [e.file_name, *e.captions] for e in entries}
    temporary = Path(cache_dir) / (CAPTIONS_FILE + ".partial")
    temporary.write_text(json.dumps(dictionary) + "\n")
    os.replace(temporary, Path(cache_dir) / CAPTIONS_FILE)


def read_caption_dictionary(cache_dir: Path) -> list[CaptionedImage]:
    path = Path(cache_dir) / CAPTIONS_FILE
    dictionary = json.loads(path.read_text())
    return [
        CaptionedImage(int(key), values[0], tuple(values[1:])) for key, values in dictionary.items()
    ]


def extract_features(
    entries: Sequence[CaptionedImage],
    dataset_dir: Path,
    cache_dir: Path,
    spec: ExtractorSpec,
    batch_size: int = 32,
    progress: bool = True,
    after_batch: Callable[[int], None] | None = None,
) -> dict[str, float]:
    """Write the missing feature files; return how many were extracted, skipped and the seconds."""
    cache_dir = Path(cache_dir)
    check_extractor(cache_dir, spec)
    missing = [e for e in entries if not feature_path(cache_dir, e).is_file()]
    started = time.perf_counter()
    if missing:
        import keras

        extractor = build_extractor(spec)
        # A live bar on a terminal; in a log file, one line when the extraction is done.
        verbose = 1 if sys.stdout.isatty() else 2
        bar = (
            keras.utils.Progbar(len(missing), verbose=verbose, unit_name="image")
            if progress
            else None
        )
        for first in range(0, len(missing), batch_size):
            chunk = missing[first : first + batch_size]
            images = np.stack([spec.load_image(image_path(dataset_dir, e)) for e in chunk])
            features = extractor(preprocess(images, spec.preprocessing))
            for entry, array in zip(chunk, features, strict=True):
                save_features(feature_path(cache_dir, entry), array)
            if bar is not None:
                bar.add(len(chunk))
            if after_batch is not None:
                after_batch(first + len(chunk))
    write_caption_dictionary(cache_dir, entries)
    return {
        "images": len(entries),
        "extracted": len(missing),
        "skipped": len(entries) - len(missing),
        "extraction_seconds": time.perf_counter() - started,
    }
