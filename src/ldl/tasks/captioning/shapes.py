"""The generated captioning task `shapes_captions`: coloured shapes at places, captions naming which is
where. It stands in for COCO where COCO is not available; it is no COCO result.

Each scene holds 2 or 3 objects of different colours (red, green, blue, yellow), each a circle, square
or triangle of 44-60 pixels, in different cells of a 3 x 3 grid over the central 224 x 224 crop, on a
noisy grey background. Its caption names the objects in colour order, each with its shape and its
cell: "red circle top left and blue square middle center". GAP of the features cannot tell which
object is where, so an attention model has to look at the object to name its shape and place; the
generator records each object's regions of the 14 x 14 grid to measure whether it does.

The scenes are written in COCO's own file layout (`annotations/captions_train2014.json` and
`train2014/COCO_train2014_<12-digit id>.jpg`, 300 x 240 JPEGs, so the book's resize to 256 and
central crop apply) plus `objects.json`; they go through the same reader, cache, PyDataset, model,
decoding and figures as COCO. A second caption per image (objects in reading order) is written and,
by the first-caption rule, never used.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ldl.tasks.captioning.coco import CAPTIONS_FILE, IMAGES_FOLDER

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 70, 220),
    "yellow": (230, 200, 30),
}
SHAPES = ("circle", "square", "triangle")
ROWS = ("top", "middle", "bottom")
COLUMNS = ("left", "center", "right")
OBJECTS_FILE = "objects.json"
# The scene is drawn at the size the book's resize gives (320 x 256) and saved at 300 x 240, so the
# reader's resize (shorter side 256) and central crop (offsets 48, 16) map it back.
CANVAS = (320, 256)
SAVED = (300, 240)
CROP, REGION = 224, 16


def _shape_mask(shape: str, centre: tuple[float, float], half: float, size: tuple[int, int]):
    from PIL import Image, ImageDraw

    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    x, y = centre
    if shape == "circle":
        draw.ellipse([x - half, y - half, x + half, y + half], fill=255)
    elif shape == "square":
        draw.rectangle([x - half, y - half, x + half, y + half], fill=255)
    else:
        draw.polygon([(x, y - half), (x - half, y + half), (x + half, y + half)], fill=255)
    return np.asarray(mask) > 127


def scene(rng: np.random.Generator) -> tuple[np.ndarray, list[dict], str, str]:
    """(canvas RGB uint8 (256, 320, 3), objects, caption, second caption) of one random scene."""
    width, height = CANVAS
    left, top = (width - CROP) // 2, (height - CROP) // 2
    image = rng.normal(200.0, 8.0, size=(height, width, 3))
    count = int(rng.integers(2, 4))
    colours = sorted(rng.choice(len(COLOURS), size=count, replace=False))
    cells = rng.choice(9, size=count, replace=False)
    objects = []
    for colour_index, cell in zip(colours, cells, strict=True):
        colour = list(COLOURS)[colour_index]
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        row, column = divmod(int(cell), 3)
        half = float(rng.uniform(22, 30))
        centre_x = left + (column + 0.5) * CROP / 3 + rng.uniform(-6, 6)
        centre_y = top + (row + 0.5) * CROP / 3 + rng.uniform(-6, 6)
        mask = _shape_mask(shape, (centre_x, centre_y), half, CANVAS)
        image[mask] = COLOURS[colour]
        cropped = mask[top : top + CROP, left : left + CROP].astype(np.float32)
        side = CROP // REGION
        coverage = cropped.reshape(side, REGION, side, REGION).mean(axis=(1, 3)).reshape(-1)
        objects.append(
            {
                "colour": colour,
                "shape": shape,
                "row": ROWS[row],
                "column": COLUMNS[column],
                # Regions of the 14 x 14 grid that the object covers by at least 15 %.
                "regions": [int(i) for i in np.flatnonzero(coverage >= 0.15)],
            }
        )
    caption = " and ".join(f"{o['colour']} {o['shape']} {o['row']} {o['column']}" for o in objects)
    reading = sorted(objects, key=lambda o: (ROWS.index(o["row"]), COLUMNS.index(o["column"])))
    second = "a picture of " + ", ".join(f"a {o['colour']} {o['shape']}" for o in reading)
    return image.clip(0, 255).astype(np.uint8), objects, caption, second


def file_name(image_id: int) -> str:
    return f"COCO_train2014_{image_id:012d}.jpg"


def generate_shapes_dataset(folder: Path | str, count: int, seed: int = 0) -> Path:
    """Write `count` scenes in COCO's layout under `folder` (image ids 1 .. count); deterministic."""
    from PIL import Image

    folder = Path(folder)
    (folder / IMAGES_FOLDER).mkdir(parents=True, exist_ok=True)
    (folder / CAPTIONS_FILE).parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, annotations, objects = [], [], {}
    second_captions = []
    for image_id in range(1, count + 1):
        canvas, scene_objects, caption, second = scene(rng)
        name = file_name(image_id)
        Image.fromarray(canvas).resize(SAVED, Image.Resampling.BILINEAR).save(
            folder / IMAGES_FOLDER / name, quality=92
        )
        images.append({"id": image_id, "file_name": name, "width": SAVED[0], "height": SAVED[1]})
        annotations.append({"id": 2 * image_id - 1, "image_id": image_id, "caption": caption})
        second_captions.append({"id": 2 * image_id, "image_id": image_id, "caption": second})
        objects[str(image_id)] = scene_objects
    document = {
        "info": {"description": f"ldl shapes_captions, {count} generated scenes, seed {seed}"},
        "images": images,
        # COCO interleaves captions of different images; the first caption of each image comes first.
        "annotations": annotations + second_captions,
    }
    (folder / CAPTIONS_FILE).write_text(json.dumps(document))
    (folder / OBJECTS_FILE).write_text(
        json.dumps({"count": count, "seed": seed, "objects": objects})
    )
    return folder


def ensure_shapes_dataset(folder: Path | str, count: int, seed: int) -> dict[str, list[dict]]:
    """Generate the scenes unless `folder` already holds these (same count and seed); their objects."""
    folder = Path(folder)
    path = folder / OBJECTS_FILE
    if path.is_file():
        recorded = json.loads(path.read_text())
        if recorded.get("count") == count and recorded.get("seed") == seed:
            return recorded["objects"]
    generate_shapes_dataset(folder, count, seed)
    return json.loads(path.read_text())["objects"]


def shape_words() -> set[str]:
    return set(SHAPES)
