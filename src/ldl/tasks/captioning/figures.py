"""The book's attention visualization (chapter 16): per generated word, the photo with the top-k of the
196 regions highlighted (the others dimmed), the regions being the 14 x 14 grid of the features."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def top_regions(weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest weights, largest first (ties to the lower index)."""
    return np.argsort(-np.asarray(weights), kind="stable")[:k]


def highlight(image: np.ndarray, weights: np.ndarray, grid: tuple[int, int], k: int) -> np.ndarray:
    """The image (H, W, 3) in 0..255 with all but the top-k regions dimmed to a quarter."""
    rows, columns = grid
    height, width = image.shape[:2]
    keep = np.zeros(rows * columns, dtype=bool)
    keep[top_regions(weights, k)] = True
    mask = np.kron(keep.reshape(rows, columns), np.ones((height // rows, width // columns)))
    mask = mask[..., None].astype(np.float32)
    return (image * (0.25 + 0.75 * mask)).clip(0, 255).astype(np.uint8)


def attention_figure(
    image: np.ndarray,
    words: Sequence[str],
    attention: np.ndarray,
    path: Path | str,
    top_k: int = 9,
    grid: tuple[int, int] = (14, 14),
    title: str | None = None,
) -> Path:
    """Write a PNG: the cropped photo with the caption, then one panel per word."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = len(words) + 1
    columns = min(5, panels)
    rows = math.ceil(panels / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.6 * rows), squeeze=False)
    for axis in axes.flat:
        axis.axis("off")
    axes.flat[0].imshow(np.asarray(image).clip(0, 255).astype(np.uint8))
    axes.flat[0].set_title(title or "image", fontsize=8)
    for index, word in enumerate(words, start=1):
        axes.flat[index].imshow(highlight(np.asarray(image), attention[index - 1], grid, top_k))
        axes.flat[index].set_title(word, fontsize=10)
    figure.suptitle(" ".join(words), fontsize=10)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path
