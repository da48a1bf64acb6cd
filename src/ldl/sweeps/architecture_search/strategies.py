"""The three searches of chapter 17, written against one `evaluate(definitions) -> scores` call.

They draw every candidate from one seeded RandomState and learn scores only through `evaluate`, which
trains each candidate as a job of the sweep. So the same seed and the same scores give the same
sequence of candidates, and a search re-run after a kill replays its draws, reading the scores of the
candidates that already finished from their run folders.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ldl.sweeps.architecture_search.space import (
    BOOK_SPACE,
    Definition,
    SearchSpace,
    crossover,
    estimate_weights,
    random_definition,
    tweak,
)


class Evaluate(Protocol):
    """Train each definition (one batch of jobs) and return its score, 0.0 for a failed job."""

    def __call__(self, definitions: Sequence[Definition], phase: str) -> list[float]: ...


@dataclass
class Scored:
    score: float
    definition: Definition


@dataclass(frozen=True)
class Variation:
    """How evolution makes a child (the book's 0.5 / 0.25 / 0.25) and which of parents and children
    survive (keep the best 20 %, drop the worst 30 %, sample the rest from the middle)."""

    tweak: float = 0.5
    crossover: float = 0.25
    crossover_and_tweak: float = 0.25
    keep_best: float = 0.2
    discard_worst: float = 0.3


BOOK_VARIATION = Variation()


def valid_random_definition(
    rng: np.random.RandomState, max_size: int, space: SearchSpace = BOOK_SPACE
) -> Definition:
    """Draw until the weight estimate is at most max_size (the book's 'valid')."""
    while True:
        definition = random_definition(rng, space)
        if estimate_weights(definition) <= max_size:
            return definition


def random_search(
    rng: np.random.RandomState,
    evaluate: Evaluate,
    candidates: int,
    max_size: int,
    space: SearchSpace = BOOK_SPACE,
) -> Scored:
    """`candidates` valid random definitions, evaluated as one batch; the first best wins."""
    definitions = [valid_random_definition(rng, max_size, space) for _ in range(candidates)]
    scores = evaluate(definitions, "random")
    best = Scored(-math.inf, definitions[0])
    for score, definition in zip(scores, definitions, strict=True):
        if score > best.score:  # only a strictly higher score replaces the best
            best = Scored(score, definition)
    return best


def valid_neighbour(
    rng: np.random.RandomState,
    definition: Definition,
    max_size: int,
    space: SearchSpace = BOOK_SPACE,
) -> Definition:
    """A tweaked copy of `definition` whose estimate is at most max_size (retry from the original)."""
    while True:
        candidate = copy.deepcopy(definition)
        tweak(rng, candidate, space)
        if estimate_weights(candidate) <= max_size:
            return candidate


def hill_climb(
    rng: np.random.RandomState,
    evaluate: Evaluate,
    start: Scored,
    steps: int,
    max_size: int,
    neighbours_per_step: int = 1,
    reproduce_aliasing_quirk: bool = False,
    space: SearchSpace = BOOK_SPACE,
) -> Scored:
    """Move to a neighbour only when it scores strictly higher than the best so far.

    One neighbour per step is the book's loop: save a copy, tweak, restore and retry while the
    estimate is too large, evaluate, keep it as the new best or restore the saved copy.
    `neighbours_per_step` > 1 evaluates that many neighbours as one batch and keeps the best of them
    (stochastic steepest ascent). `reproduce_aliasing_quirk` copies a slip in the book's example
    code: the current definition starts as the stored best itself, not a copy, so the first tweak also
    changes the reported best definition.
    """
    best = Scored(start.score, copy.deepcopy(start.definition))
    if neighbours_per_step > 1:
        return _steepest_ascent(rng, evaluate, best, steps, max_size, neighbours_per_step, space)
    current = best.definition if reproduce_aliasing_quirk else copy.deepcopy(best.definition)
    for _ in range(steps):
        while True:
            saved = copy.deepcopy(current)
            tweak(rng, current, space)
            if estimate_weights(current) <= max_size:
                break
            current = saved
        score = evaluate([copy.deepcopy(current)], "hill_climb")[0]
        if score > best.score:
            best = Scored(score, copy.deepcopy(current))
        else:
            current = saved
    return best


def _steepest_ascent(
    rng: np.random.RandomState,
    evaluate: Evaluate,
    best: Scored,
    steps: int,
    max_size: int,
    neighbours_per_step: int,
    space: SearchSpace,
) -> Scored:
    current = copy.deepcopy(best.definition)
    done = 0
    while done < steps:
        count = min(neighbours_per_step, steps - done)
        neighbours = [valid_neighbour(rng, current, max_size, space) for _ in range(count)]
        scores = evaluate(neighbours, "hill_climb")
        done += count
        top = int(np.argmax(scores))
        if scores[top] > best.score:
            best = Scored(scores[top], copy.deepcopy(neighbours[top]))
            current = copy.deepcopy(neighbours[top])
    return best


def survivors(
    rng: np.random.RandomState,
    population: list[Scored],
    keep_best: float = 0.2,
    discard_worst: float = 0.3,
) -> list[Scored]:
    """The book's selection with elitism, for parents and children together (N = 100 for the book):
    sort by score (stable), keep the best ceil(0.2 N), drop the worst ceil(0.3 N), and sample
    N / 2 - best from the middle without replacement; the new population is the sampled ones in
    random order followed by the best in ascending order."""
    count = len(population)
    ranked = sorted(population, key=lambda member: member.score)
    best_count = math.ceil(keep_best * count)
    worst_count = math.ceil(discard_worst * count)
    best = ranked[count - best_count :]
    middle = ranked[worst_count : count - best_count]
    sampled = int(count / 2) - best_count
    picks = rng.choice(len(middle), size=sampled, replace=False)
    return [middle[i] for i in picks] + best


def child(
    rng: np.random.RandomState,
    parents: list[Scored],
    max_size: int,
    size: int,
    space: SearchSpace = BOOK_SPACE,
    variation: Variation = BOOK_VARIATION,
) -> Definition:
    """One valid child of two distinct parents drawn from the previous generation: a tweaked copy
    (r < 0.5, the book's), a crossover (r < 0.75) or a tweaked crossover."""
    while True:
        r = rng.random_sample()
        first, second = rng.choice(size, size=2, replace=False)
        parent0, parent1 = parents[first].definition, parents[second].definition
        if r < variation.tweak:
            candidate = copy.deepcopy(parent0)
            tweak(rng, candidate, space)
        elif r < variation.tweak + variation.crossover:
            candidate = crossover(rng, parent0, parent1, max_size)
        else:
            candidate = crossover(rng, parent0, parent1, max_size)
            tweak(rng, candidate, space)
        if estimate_weights(candidate) <= max_size:
            return candidate


def evolution(
    rng: np.random.RandomState,
    evaluate: Evaluate,
    population_size: int,
    generations: int,
    max_size: int,
    space: SearchSpace = BOOK_SPACE,
    variation: Variation = BOOK_VARIATION,
) -> list[Scored]:
    """An initial population of valid random definitions, then `generations - 1` generations of
    `population_size` children each, every generation one batch; returns the final population,
    best last."""
    initial = [valid_random_definition(rng, max_size, space) for _ in range(population_size)]
    scores = evaluate(initial, "evolution_0")
    population = [Scored(s, d) for s, d in zip(scores, initial, strict=True)]
    for generation in range(1, generations):
        children = [
            child(rng, population, max_size, population_size, space, variation)
            for _ in range(population_size)
        ]
        scores = evaluate(children, f"evolution_{generation}")
        population += [Scored(s, d) for s, d in zip(scores, children, strict=True)]
        population = survivors(rng, population, variation.keep_best, variation.discard_worst)
    return population
