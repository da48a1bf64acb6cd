"""`ldl predict images=dog.jpg`: the top-5 ImageNet classes of image files with a pretrained network
(c8e1: ResNet-50 with ImageNet weights, 224x224 nearest-neighbour resize, caffe preprocessing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ldl.errors import ConfigError

USAGE = (
    "usage: ldl predict images=<file>[,<file>...] [architecture=ResNet50] [weights=imagenet|null|<file>] "
    "[top=5] [size=224] [interpolation=nearest] [preprocessing=auto|caffe|tf|torch|none]"
)


def _weights(text: str) -> str | None:
    return None if text.lower() in ("null", "none", "") else text


OPTIONS: dict[str, Callable[[str], Any]] = {
    "images": lambda text: [part for part in text.split(",") if part],
    "architecture": str,
    "weights": _weights,
    "top": int,
    "size": int,
    "interpolation": str,
    "preprocessing": str,
}


def parse(arguments: list[str]) -> dict[str, Any]:
    """key=value arguments, each converted by its parser; anything else is a clear error."""
    values: dict[str, Any] = {}
    for argument in arguments:
        if argument in ("-h", "--help"):
            raise SystemExit(print(USAGE) or 0)
        key, separator, text = argument.partition("=")
        if not separator or key not in OPTIONS:
            raise ConfigError(f"unexpected argument {argument!r}. {USAGE}")
        try:
            values[key] = OPTIONS[key](text)
        except ValueError:
            raise ConfigError(f"{key}={text!r} is not valid. {USAGE}") from None
    if not values.get("images"):
        raise ConfigError(f"which images? {USAGE}")
    return values


def run_predict(arguments: list[str]) -> int:
    values = parse(arguments)
    from ldl import tf_setup

    tf_setup.import_tensorflow()
    from ldl.predict import classify, format_predictions

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
