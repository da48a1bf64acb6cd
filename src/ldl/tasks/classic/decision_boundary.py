"""c1e2's figure: the perceptron's decision boundary after each printout (chapter 1).

The four truth-table points go on [-2, 2] x [-2, 2], a negative target as a blue minus and a positive
one as a red plus. After each printed set of weights the line w0 + w1 x1 + w2 x2 = 0, i.e.
x2 = -(w1/w2) x1 - w0/w2, is drawn for x1 from -2 to 2, with w2 replaced by 1e-5 when it is (nearly)
0. The colours follow the book's example code: red, magenta, yellow, cyan, blue, then green for every
later line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

LINE_COLOURS = ("r-", "m-", "y-", "c-", "b-", "g-")
_SMALLEST_W2 = 1e-5


def boundary_line(weights: Sequence[float], x1: Sequence[float] = (-2.0, 2.0)) -> list[float]:
    """x2 on the decision line at each x1, computed as the book's example code does."""
    w0, w1, w2 = (float(w) for w in weights[:3])
    if abs(w2) < _SMALLEST_W2:
        w2 = _SMALLEST_W2
    return [-w1 / w2 * x + (-w0 / w2) for x in x1]


def line_colour(index: int) -> str:
    """The format string of the index-th line: the book's list, its last colour repeated."""
    return LINE_COLOURS[min(index, len(LINE_COLOURS) - 1)]


def plot_decision_boundaries(
    path: Path,
    inputs: np.ndarray,
    targets: np.ndarray,
    weight_history: Sequence[Sequence[float]],
    title: str,
) -> None:
    """Save the points and one line per entry of `weight_history` (initial weights first)."""
    figure, axes = plt.subplots(figsize=(6.4, 5.0))
    for (_, x1, x2), target in zip(inputs, targets, strict=True):
        marker = "r+" if target > 0 else "b_"
        axes.plot([x1], [x2], marker, markersize=12)
    for index, weights in enumerate(weight_history):
        axes.plot([-2.0, 2.0], boundary_line(weights), line_colour(index), label=f"{index}")
    axes.axis((-2.0, 2.0, -2.0, 2.0))
    axes.set_xlabel("x1")
    axes.set_ylabel("x2")
    axes.set_title(title)
    if len(weight_history) <= 12:  # a legend of update numbers, while it stays readable
        axes.legend(
            title="after update", fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0)
        )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
