"""A tiny COCO 2014 captions folder in COCO's exact layout, for the captioning tests.

`annotations/captions_train2014.json` (COCO's keys: images with id/file_name/width/height,
annotations with id/image_id/caption, captions of different images interleaved) and
`train2014/COCO_train2014_<12-digit id>.jpg` photos of different sizes and orientations.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# (id, width, height); the file lists images in this order, which is not id order.
IMAGES = ((391895, 640, 360), (522418, 480, 640), (184613, 500, 336), (318219, 640, 480))
CAPTIONS = (
    (522418, "A woman wearing a net on her head cutting a cake."),
    (391895, "A man with a red helmet on a small moped on a dirt road."),
    (522418, "A woman cutting a large white sheet cake."),
    (318219, "A young boy standing in front of a computer keyboard."),
    (391895, "Man riding a motor bike on a dirt road on the countryside."),
    (184613, "A child holding a flowered umbrella and petting a yak."),
)


def write_coco_fixture(folder: Path, without_caption: int | None = None) -> Path:
    """Write the fixture; `without_caption` adds an image id that no annotation names."""
    from PIL import Image

    folder = Path(folder)
    (folder / "train2014").mkdir(parents=True, exist_ok=True)
    (folder / "annotations").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    images = list(IMAGES) + ([(without_caption, 300, 300)] if without_caption else [])
    listed = []
    for image_id, width, height in images:
        name = f"COCO_train2014_{image_id:012d}.jpg"
        pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / "train2014" / name, quality=90)
        listed.append({"id": image_id, "file_name": name, "width": width, "height": height})
    annotations = [
        {"id": 100 + i, "image_id": image_id, "caption": caption}
        for i, (image_id, caption) in enumerate(CAPTIONS)
    ]
    document = {"info": {}, "images": listed, "licenses": [], "annotations": annotations}
    (folder / "annotations" / "captions_train2014.json").write_text(json.dumps(document))
    return folder
