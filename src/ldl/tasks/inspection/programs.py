"""c4e1 and c7e1: look at a dataset before training on it, as chapters 4 and 7 do.

c4e1 prints the shapes of the four MNIST arrays, the first training label and the first training
image as a pattern of `*` (any non-zero pixel); c7e1 prints the category of CIFAR-10 training image
100 and shows it. Both also save the image they looked at as `example.png` in the run folder and
return what they printed as metrics, so the run is compared with the book like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from omegaconf import DictConfig

from ldl.data.arrays import ArraySplits
from ldl.data.cifar10 import CLASS_NAMES, load_cifar10
from ldl.data.mnist import load_mnist
from ldl.errors import ConfigError
from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder


def pattern_lines(image: np.ndarray) -> list[str]:
    """The image as the book prints it: `* ` for a pixel above 0, two spaces otherwise, per row."""
    return ["".join("* " if value > 0 else "  " for value in row) for row in image]


def _save_image(path: Path, image: np.ndarray, title: str) -> None:
    figure, axes = plt.subplots(figsize=(3.0, 3.2))
    axes.imshow(image, cmap="gray" if image.ndim == 2 else None, interpolation="nearest")
    axes.set_title(title, fontsize="small")
    axes.axis("off")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _example(splits: ArraySplits, index: int) -> int:
    if not 0 <= index < len(splits.x_train):
        raise ConfigError(
            f"model.example_index={index} is outside the {len(splits.x_train)} training examples."
        )
    return index


def _shape_metrics(splits: ArraySplits) -> dict[str, Any]:
    return {
        "data/train_examples": len(splits.x_train),
        "data/test_examples": len(splits.x_test),
        "data/train_labels_rank": splits.y_train.ndim,
    }


def inspect_mnist(cfg: DictConfig, say: Say, run: RunFolder, index: int | None) -> dict[str, Any]:
    """c4e1: the book's printout of the MNIST arrays and the first training example."""
    splits = load_mnist(cfg.data_dir, download=bool(cfg.data.download))
    index = _example(splits, 0 if index is None else index)
    for name, array in (("train_images", splits.x_train), ("train_labels", splits.y_train),
                        ("test_images", splits.x_test), ("test_labels", splits.y_test)):  # fmt: skip
        say(f"dimensions of {name}:  {array.shape}")
    label = int(splits.y_train[index])
    which = "first" if index == 0 else f"#{index}"
    say(f"label for {which} training example:  {label}")
    say(f"---beginning of pattern for {which} training example---")
    for line in pattern_lines(splits.x_train[index]):
        say(line)
    say(f"---end of pattern for {which} training example---")
    _save_image(
        run.path / "example.png", splits.x_train[index], f"training example {index}: {label}"
    )
    return {**_shape_metrics(splits), "data/example_index": index, "data/label": label}


def inspect_cifar10(cfg: DictConfig, say: Say, run: RunFolder, index: int | None) -> dict[str, Any]:
    """c7e1: the category of CIFAR-10 training image 100 (a ship) and the image itself."""
    data = cfg.data
    splits = load_cifar10(cfg.data_dir, download=bool(data.download), npz_file=data.npz_file)
    index = _example(splits, 100 if index is None else index)
    for name, array in (("train_images", splits.x_train), ("train_labels", splits.y_train),
                        ("test_images", splits.x_test), ("test_labels", splits.y_test)):  # fmt: skip
        say(f"dimensions of {name}:  {array.shape}")
    label = int(np.ravel(splits.y_train[index])[0])
    say(f"Category:  {np.asarray(splits.y_train[index]).tolist()} ({CLASS_NAMES[label]})")
    red, green, blue = (int(v) for v in splits.x_train[index][0, 0])
    say(f"pixel at row 0, column 0 of training image {index}: ({red}, {green}, {blue})")
    _save_image(
        run.path / "example.png",
        splits.x_train[index],
        f"training image {index}: {CLASS_NAMES[label]}",
    )
    return {
        **_shape_metrics(splits),
        "data/example_index": index,
        "data/label": label,
        "data/pixel_0_0/red": red,
        "data/pixel_0_0/green": green,
        "data/pixel_0_0/blue": blue,
    }


_INSPECTIONS: dict[str, Callable[[DictConfig, Say, RunFolder, int | None], dict[str, Any]]] = {
    "mnist": inspect_mnist,
    "cifar10": inspect_cifar10,
}


def run_inspection(cfg: DictConfig, say: Say, run: RunFolder) -> dict[str, Any]:
    """The `model=data_inspection` program: inspect the dataset the `data` config names."""
    inspect = _INSPECTIONS.get(cfg.data.name)
    if inspect is None:
        raise ConfigError(
            f"model=data_inspection looks at data=mnist (c4e1) or data=cifar10 (c7e1), not "
            f"data={cfg.data.name}."
        )
    index = cfg.model.example_index
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
        raise ConfigError(f"model.example_index must be null or an integer, got {index!r}.")
    return {**inspect(cfg, say, run, index), "device": "CPU (plain NumPy)"}
