"""The chapter 1 perceptron (`c1e1`), reproducing the book's printout digit for digit.

The book seeds Python's global `random` module with 7 and shuffles a persistent index list with
`random.shuffle`. A private `random.Random(seed)` instance yields exactly the same shuffle sequence
for the same seed (both use the Mersenne Twister seeded the same way), so we use one instead of
touching global state. The arithmetic (accumulation order of the weighted sum, order of the factors
in the update) follows the book's code so that the floats, not just the rounded prints, match.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np


def format_weights(weights: Sequence[float]) -> str:
    """Format three weights exactly as the book's `show_learning` prints them."""
    return f"w0 = {weights[0]:5.2f} , w1 = {weights[1]:5.2f} , w2 = {weights[2]:5.2f}"


class Perceptron:
    """A single perceptron with a sign activation: -1 if z < 0, otherwise +1 (z = 0 gives +1)."""

    def __init__(self, weights: Sequence[float]) -> None:
        if len(weights) == 0:
            raise ValueError("a perceptron needs at least one weight (the bias weight w0)")
        self.weights: list[float] = [float(w) for w in weights]

    def weighted_sum(self, x: Sequence[float]) -> float:
        """Return z = sum_i w_i * x_i, accumulated left to right from 0.0 as in the book."""
        if len(x) != len(self.weights):
            raise ValueError(
                f"input has {len(x)} values but the perceptron has "
                f"{len(self.weights)} weights (x0 = 1.0 is the bias input)"
            )
        z = 0.0
        for w_i, x_i in zip(self.weights, x, strict=True):
            z += float(x_i) * w_i
        return z

    def output(self, x: Sequence[float]) -> int:
        """Return the perceptron's output for a bias-augmented input: -1 or +1."""
        return -1 if self.weighted_sum(x) < 0 else 1

    def update(self, x: Sequence[float], y: float, learning_rate: float) -> None:
        """Apply the perceptron learning rule w_j <- w_j + y * learning_rate * x_j."""
        if len(x) != len(self.weights):
            raise ValueError(
                f"input has {len(x)} values but the perceptron has {len(self.weights)} weights"
            )
        for j, x_j in enumerate(x):
            self.weights[j] += y * learning_rate * float(x_j)


@dataclass
class PerceptronResult:
    """Outcome of `train_perceptron`.

    `weight_history` holds the initial weights followed by the weights after every update, i.e.
    exactly what was printed; `passes` counts every pass, including the final error-free one.
    """

    weights: list[float]
    updates: int
    passes: int
    converged: bool
    weight_history: list[list[float]] = field(default_factory=list)


def _checked_examples(
    inputs: np.ndarray | Sequence[Sequence[float]],
    targets: np.ndarray | Sequence[float],
    initial_weights: Sequence[float],
    learning_rate: float,
    max_passes: int,
    max_updates: int | None,
) -> tuple[list[list[float]], list[float]]:
    """The examples as float lists, after checking they fit the weights and the perceptron rule."""
    rows = [[float(v) for v in row] for row in inputs]
    labels = [float(t) for t in targets]
    if len(rows) == 0:
        raise ValueError("inputs must contain at least one example")
    if len(rows) != len(labels):
        raise ValueError(f"got {len(rows)} input rows but {len(labels)} targets")
    if any(len(row) != len(initial_weights) for row in rows):
        raise ValueError(
            f"every input row must have {len(initial_weights)} values (one per weight, "
            "with x0 = 1.0 as the bias input)"
        )
    if any(t not in (-1.0, 1.0) for t in labels):
        raise ValueError("perceptron targets must be -1 or +1 (use target_encoding='sign')")
    check_training_loop(learning_rate, max_passes, max_updates)
    return rows, labels


def check_training_loop(learning_rate: float, max_passes: int, max_updates: int | None) -> None:
    """ValueError for settings the hand-written training loops (perceptron, XOR network) cannot run."""
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if max_passes < 1:
        raise ValueError(f"max_passes must be at least 1, got {max_passes}")
    if max_updates is not None and max_updates < 0:
        raise ValueError(f"max_updates must be at least 0, got {max_updates}")


InitialWeights = Literal["fixed", "zeros", "uniform"]
INITIAL_WEIGHTS: tuple[InitialWeights, ...] = ("fixed", "zeros", "uniform")


def initial_weights(
    policy: InitialWeights,
    fixed: Sequence[float],
    count: int,
    init_range: float = 1.0,
    seed: int | None = 0,
) -> list[float]:
    """The starting weights: the `fixed` list (the book's (0.2, -0.6, 0.25)), zeros, or
    U(-init_range, init_range) from `random.Random(seed)`, a generator of their own so the
    shuffles stay the book's."""
    if policy == "fixed":
        if isinstance(fixed, str) or len(fixed) != count:
            shown = repr(fixed) if isinstance(fixed, str) else f"{len(fixed)}"
            raise ValueError(
                f"initial_weights needs a list of {count} numbers (w0 first), got {shown}, e.g. "
                f"model.initial_weights=[{', '.join(['0.1'] * count)}]"
            )
        if not all(isinstance(w, int | float) and not isinstance(w, bool) for w in fixed):
            raise ValueError(f"initial_weights must be numbers, got {list(fixed)}")
        return [float(w) for w in fixed]
    if policy == "zeros":
        return [0.0] * count
    if policy == "uniform":
        if init_range <= 0:
            raise ValueError(f"init_range must be positive, got {init_range}")
        rng = random.Random(seed)
        return [rng.uniform(-init_range, init_range) for _ in range(count)]
    raise ValueError(f"unknown init {policy!r}; choose one of: {', '.join(INITIAL_WEIGHTS)}")


def train_perceptron(
    inputs: np.ndarray | Sequence[Sequence[float]],
    targets: np.ndarray | Sequence[float],
    initial_weights: Sequence[float],
    learning_rate: float = 0.1,
    seed: int | None = 7,
    max_passes: int = 1000,
    print_fn: Callable[..., object] = print,
    max_updates: int | None = None,
) -> PerceptronResult:
    """Train a perceptron with the book's loop (c1e1) and print the weights as the book does.

    Each pass shuffles a persistent index list in place (so each pass permutes the previous order)
    and updates the weights on every misclassified example. Training stops after the first pass
    without errors, or with `converged=False` after `max_passes` passes or `max_updates` updates,
    which is needed for XOR since no single perceptron can separate it (chapter 1 shows its lines
    after 6 and after 30 updates). `seed=None` leaves the shuffle unseeded.
    """
    rows, labels = _checked_examples(
        inputs, targets, initial_weights, learning_rate, max_passes, max_updates
    )
    rng = random.Random(seed)
    perceptron = Perceptron(initial_weights)
    history = [list(perceptron.weights)]
    print_fn(format_weights(perceptron.weights))

    index_list = list(range(len(rows)))
    updates = 0
    passes = 0
    all_correct = False
    while not all_correct and passes < max_passes and updates != max_updates:
        all_correct = True
        passes += 1
        rng.shuffle(index_list)
        for i in index_list:
            if updates == max_updates:
                all_correct = False  # stopped before the pass could show it is error-free
                break
            x, y = rows[i], labels[i]
            if perceptron.output(x) != y:
                perceptron.update(x, y, learning_rate)
                updates += 1
                all_correct = False
                history.append(list(perceptron.weights))
                print_fn(format_weights(perceptron.weights))

    return PerceptronResult(
        weights=list(perceptron.weights),
        updates=updates,
        passes=passes,
        converged=all_correct,
        weight_history=history,
    )
