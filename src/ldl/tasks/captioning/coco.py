"""COCO 2014 captions as the book reads them (chapter 16): image id -> [file name, caption 1, ...].

`captions_train2014.json` holds an `images` list (id, file_name, ...) and an `annotations` list
(image_id, caption, ...). The book walks the images first, creating one entry per image in file order,
then the annotations in file order, appending each caption to its image; it trains on the first caption
of each image only. The photos are `train2014/COCO_train2014_<12-digit id>.jpg` next to `annotations/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ldl.data.download import missing_files_error
from ldl.errors import DataError

CAPTIONS_FILE = "annotations/captions_train2014.json"
IMAGES_FOLDER = "train2014"
ANNOTATIONS_URL = "http://images.cocodataset.org/annotations/annotations_trainval2014.zip"
IMAGES_URL = "http://images.cocodataset.org/zips/train2014.zip"


@dataclass(frozen=True)
class CaptionedImage:
    """One training image: its COCO id, its file (relative to the image folder) and its captions."""

    image_id: int
    file_name: str
    captions: tuple[str, ...]

    @property
    def first_caption(self) -> str:
        return self.captions[0]


def missing_coco_error(dataset_dir: Path, what: str) -> DataError:
    """The one-paragraph error for an incomplete COCO folder: which files, where, from which URL."""
    error = missing_files_error(
        "COCO 2014 captions",
        dataset_dir,
        [CAPTIONS_FILE, f"{IMAGES_FOLDER}/COCO_train2014_<id>.jpg"],
        None,
        reason=(
            f"{what}. COCO is 13 GB and is not downloaded automatically: unzip {ANNOTATIONS_URL} "
            f"(for {CAPTIONS_FILE}) and {IMAGES_URL} (for {IMAGES_FOLDER}/) into that folder. "
            "The VGG19 ImageNet weights come through Keras's download cache on first use"
        ),
    )
    return error


def read_captions(dataset_dir: Path | str, limit: int | None = None) -> list[CaptionedImage]:
    """The images of `captions_train2014.json` in file order, each with its captions in file order;
    images without a caption are left out (they cannot be trained on). `limit`: the first N images
    (the book's `read_images` limit)."""
    dataset_dir = Path(dataset_dir).expanduser()
    path = dataset_dir / CAPTIONS_FILE
    if not path.is_file():
        raise missing_coco_error(dataset_dir, f"'{path}' does not exist")
    try:
        with open(path, encoding="utf-8") as stream:
            document = json.load(stream)
        images = document["images"]
        annotations = document["annotations"]
        order: dict[int, list[str]] = {}
        files: dict[int, str] = {}
        for image in images:  # images first: they fix the order of the entries
            image_id = int(image["id"])
            files[image_id] = str(image["file_name"])
            order[image_id] = []
        for annotation in annotations:  # then the captions, in file order
            image_id = int(annotation["image_id"])
            if image_id not in order:
                raise DataError(
                    f"'{path}' has a caption for image {image_id}, which is not in its images list; "
                    "the file is not a COCO captions file or is damaged."
                )
            order[image_id].append(str(annotation["caption"]))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(f"'{path}' is not a JSON file ({error}); download it again.") from None
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(
            f"'{path}' is not in COCO's captions format (images with id and file_name, annotations "
            f"with image_id and caption): {error!r}."
        ) from None
    entries = [
        CaptionedImage(image_id, files[image_id], tuple(captions))
        for image_id, captions in order.items()
        if captions
    ]
    return entries if limit is None else entries[: int(limit)]


def image_path(dataset_dir: Path | str, entry: CaptionedImage) -> Path:
    return Path(dataset_dir).expanduser() / IMAGES_FOLDER / entry.file_name
