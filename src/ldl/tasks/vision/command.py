"""`ldl predict images=dog.jpg`: the top-5 ImageNet classes of image files with a pretrained network
(c8e1: ResNet-50 with ImageNet weights, 224x224 nearest-neighbour resize, caffe preprocessing)."""

from __future__ import annotations

from typing import Any

from ldl.cli.arguments import Converter, comma_list, optional_text, parse_arguments, positive_int
from ldl.errors import ConfigError

USAGE = (
    "usage: ldl predict images=<file>[,<file>...] [architecture=ResNet50] [weights=imagenet|null|<file>] "
    "[top=5] [size=224] [interpolation=nearest] [preprocessing=auto|caffe|tf|torch|none]"
)


OPTIONS: dict[str, Converter] = {
    "images": comma_list,
    "architecture": str,
    "weights": optional_text,
    "top": positive_int,
    "size": positive_int,
    "interpolation": str,
    "preprocessing": str,
}


def parse(arguments: list[str]) -> dict[str, Any]:
    """The typed options; at least one image is required."""
    values = parse_arguments(arguments, OPTIONS, USAGE).values
    if not values.get("images"):
        raise ConfigError(f"which images? {USAGE}")
    return values


def run_predict(arguments: list[str]) -> int:
    values = parse(arguments)
    from ldl import tf_setup

    tf_setup.import_tensorflow()
    from ldl.tasks.vision.predict import classify, format_predictions

    paths = values.pop("images")
    architecture = values.get("architecture", "ResNet50")
    weights = values.get("weights", "imagenet")
    _, results = classify(paths, **values)
    print(
        f"{architecture} ({'random weights' if weights is None else weights}), top {values.get('top', 5)}:"
    )
    for line in format_predictions(paths, results):
        print(line)
    return 0
