"""The architecture search's options (`hydra.sweeper.*`), declared once with their types and bounds.

`ldl train` checks them before Hydra starts (ldl.cli.train_check calls the sweeper class's
`check_options`), so a bad value is refused in one paragraph naming `hydra.sweeper.<key>` before the
sweep folder exists or any candidate trains. The sweeper parses the same options again when Hydra
builds it, so a search started some other way gets the same refusals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

import numpy as np
from omegaconf import ListConfig

from ldl.config_checks import did_you_mean
from ldl.errors import ConfigError
from ldl.sweeps.architecture_search.space import (
    BOOK_SPACE,
    CNN_ACTIVATIONS,
    SearchSpace,
    estimate_weights,
    random_definition,
)
from ldl.sweeps.architecture_search.strategies import Variation

Strategy = Literal["random_then_hill_climb", "random", "evolution"]
STRATEGIES: tuple[str, ...] = ("random_then_hill_climb", "random", "evolution")
SELECTION_SPLITS: tuple[str, ...] = ("test", "holdout")
# Random definitions drawn, up front, to see whether max_model_size leaves room to draw candidates:
# the book's 500,000 admits about 70 % of them; a bound that admits none of these would redraw for
# ever during the search.
SIZE_PROBE_DRAWS = 2_000

# The options that decide what a candidate's score means: a search resumed with any of them changed
# would mix old scores with new ones (ldl.sweeps.architecture_search.sweeper refuses it).
SCORE_SETTINGS = (
    "strategy",
    "seed",
    "candidate_evaluations",
    "hill_climb_steps",
    "neighbours_per_step",
    "population_size",
    "eval_epochs",
    "final_epochs",
    "max_model_size",
    "train_fraction",
    "selection_split",
    "reproduce_aliasing_quirk",
    "layer_sizes",
    "activations",
    "kernel_sizes",
    "strides",
    "dropout_rates",
    "tweak_probability",
    "crossover_probability",
    "crossover_and_tweak_probability",
    "keep_best_fraction",
    "discard_worst_fraction",
)


@dataclass(frozen=True)
class SearchOptions:
    """`hydra.sweeper.*` of `hydra/sweeper=architecture_search` (configs/hydra/sweeper/)."""

    strategy: Strategy = "random_then_hill_climb"
    seed: int = 7
    candidate_evaluations: int = 500
    hill_climb_steps: int = 500
    neighbours_per_step: int = 1
    population_size: int = 50
    eval_epochs: int = 3
    final_epochs: int = 20
    max_model_size: int = 500_000
    train_fraction: float | None = None
    selection_split: Literal["test", "holdout"] = "test"
    reproduce_aliasing_quirk: bool = False
    # The search space (the book's lists) and evolution's variation and selection (the book's).
    layer_sizes: tuple[int, ...] = BOOK_SPACE.sizes
    activations: tuple[str, ...] = BOOK_SPACE.activations
    kernel_sizes: tuple[int, ...] = BOOK_SPACE.kernels
    strides: tuple[int, ...] = BOOK_SPACE.strides
    dropout_rates: tuple[float, ...] = BOOK_SPACE.dropouts
    tweak_probability: float = 0.5
    crossover_probability: float = 0.25
    crossover_and_tweak_probability: float = 0.25
    keep_best_fraction: float = 0.2
    discard_worst_fraction: float = 0.3

    def settings(self) -> dict[str, Any]:
        """The options a resumed search must share with the search in its folder (lists as JSON
        stores them)."""
        values = asdict(self)
        return {
            key: list(values[key]) if isinstance(values[key], tuple) else values[key]
            for key in SCORE_SETTINGS
        }

    @property
    def space(self) -> SearchSpace:
        return SearchSpace(
            self.layer_sizes, self.activations, self.kernel_sizes, self.strides, self.dropout_rates
        )

    @property
    def variation(self) -> Variation:
        return Variation(
            self.tweak_probability,
            self.crossover_probability,
            self.crossover_and_tweak_probability,
            self.keep_best_fraction,
            self.discard_worst_fraction,
        )


# Each whole-number option's lower bound and what it means (said in the refusal).
_WHOLE_NUMBERS: dict[str, tuple[int, str]] = {
    "seed": (0, "a NumPy seed"),
    "candidate_evaluations": (1, "at least one candidate"),
    "hill_climb_steps": (0, "0 stops after the random search"),
    "neighbours_per_step": (1, "1 is the book's climb"),
    "population_size": (
        4,
        "evolution draws two distinct parents and keeps a fifth of the population",
    ),
    "eval_epochs": (1, "a candidate trained for 0 epochs has no score worth comparing"),
    "final_epochs": (0, "0 skips retraining the best candidate"),
    "max_model_size": (1, "estimated weights; the book's 500000"),
}


def _key(name: str) -> str:
    return f"hydra.sweeper.{name}"


def _whole_number(name: str, value: Any) -> int:
    minimum, meaning = _WHOLE_NUMBERS[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{_key(name)} must be a whole number >= {minimum} ({meaning}), got {value!r}. "
            f"Set it on the command line, e.g. {_key(name)}={max(minimum, 1)}."
        )
    return value


def _choice(name: str, value: Any, choices: tuple[str, ...], meaning: str) -> str:
    if value not in choices:
        raise ConfigError(
            f"{_key(name)}={value!r} is not known; use one of {', '.join(choices)} ({meaning})."
        )
    return str(value)


def _fraction(value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= 1
    ):
        raise ConfigError(
            f"{_key('train_fraction')} must be a number in (0, 1] or null (all of the training "
            f"data), got {value!r}, e.g. {_key('train_fraction')}=0.2."
        )
    return float(value)


def smallest_estimate(space: SearchSpace = BOOK_SPACE) -> int:
    """The fewest weights any candidate can have: as many pooling layers of the largest stride as a
    candidate may have (7), then the smallest dense layer and the output layer; or the same after a
    convolution of the fewest filters, the smallest kernel and the largest stride first."""
    stride, size, kernel = max(space.strides), min(space.sizes), min(space.kernels)
    pooling = {"type": "MAXPOOL2D", "kernel": kernel, "stride": stride, "dropout": 0.0}
    convolution = {"type": "CONV2D", "size": size, "activation": "relu", "kernel": kernel,
                   "stride": stride, "dropout": 0.0}  # fmt: skip
    dense = {"type": "DENSE", "size": size, "activation": "relu", "dropout": 0.0}
    return min(
        estimate_weights([pooling] * 7 + [dense]),
        estimate_weights([convolution] + [pooling] * 6 + [dense]),
    )


def _check_model_size(max_model_size: int, seed: int, space: SearchSpace = BOOK_SPACE) -> None:
    """Refuse a bound no candidate fits, or so tight that drawing one could take for ever."""
    smallest = smallest_estimate(space)
    if max_model_size < smallest:
        raise ConfigError(
            f"{_key('max_model_size')}={max_model_size} is below the smallest possible candidate "
            f"({smallest} estimated weights), so the search would redraw for ever. Raise it (the "
            f"book's {_key('max_model_size')}=500000)."
        )
    rng = np.random.RandomState(seed)
    for _ in range(SIZE_PROBE_DRAWS):
        if estimate_weights(random_definition(rng, space)) <= max_model_size:
            return
    raise ConfigError(
        f"{_key('max_model_size')}={max_model_size}: none of {SIZE_PROBE_DRAWS} random candidates "
        f"has that few estimated weights (the smallest possible has {smallest}), so drawing the "
        f"search's candidates could take for ever. Raise it (the book's "
        f"{_key('max_model_size')}=500000)."
    )


def parse_options(options: Mapping[str, Any]) -> SearchOptions:
    """The options, checked: unknown keys, types and bounds, each refusal naming its key."""
    known = [field.name for field in fields(SearchOptions)]
    for name in options:
        if name not in known:
            raise ConfigError(
                f"{_key(str(name))} is not an option of the architecture search."
                f"{did_you_mean(_key(str(name)), [_key(k) for k in known])} Its options: "
                f"{', '.join(known)}."
            )
    values = {**asdict(SearchOptions()), **options}
    parsed = SearchOptions(
        strategy=_choice(  # type: ignore[arg-type]
            "strategy",
            values["strategy"],
            STRATEGIES,
            "c17e4's random search then hill climbing, random search alone, c17e5's evolution",
        ),
        selection_split=_choice(  # type: ignore[arg-type]
            "selection_split",
            values["selection_split"],
            SELECTION_SPLITS,
            "test scores the candidates on the test set, as the book does; holdout on a held-out "
            "part of the training data",
        ),
        train_fraction=_fraction(values["train_fraction"]),
        reproduce_aliasing_quirk=_boolean(values["reproduce_aliasing_quirk"]),
        **_checked_numbers_and_lists(values),
    )
    _check_probabilities_sum(parsed)
    _check_model_size(parsed.max_model_size, parsed.seed, parsed.space)
    return parsed


def _checked_numbers_and_lists(values: Mapping[str, Any]) -> dict[str, Any]:
    checked: dict[str, Any] = {name: _whole_number(name, values[name]) for name in _WHOLE_NUMBERS}
    checked |= {name: _space_list(name, values[name]) for name in _SPACE_LISTS}
    checked |= {name: _probability(name, values[name], 1.0) for name in _PROBABILITIES}
    checked |= {name: _probability(name, values[name], 0.5) for name in _SELECTION_FRACTIONS}
    return checked


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"{_key('reproduce_aliasing_quirk')} must be true or false, got {value!r}."
        )
    return value


# Each search-space list: what its values must be, as a check and as words for the refusal.
_SPACE_LISTS: dict[str, tuple[Any, str]] = {
    "layer_sizes": (lambda v: _whole(v) and v >= 1, "whole numbers >= 1 (filters or units)"),
    "activations": (lambda v: v in CNN_ACTIVATIONS, f"names from {', '.join(CNN_ACTIVATIONS)}"),
    "kernel_sizes": (lambda v: _whole(v) and v >= 1, "whole numbers >= 1"),
    "strides": (lambda v: _whole(v) and v >= 1, "whole numbers >= 1"),
    "dropout_rates": (
        lambda v: _real(v) and 0 <= v < 1,
        "dropout rates in [0, 1), 0 for none",
    ),
}
_PROBABILITIES = ("tweak_probability", "crossover_probability", "crossover_and_tweak_probability")
# Parents and children together are twice the population and half of them survive, so neither the
# kept best nor the dropped worst may exceed half (the halving itself keeps population_size fixed).
_SELECTION_FRACTIONS = ("keep_best_fraction", "discard_worst_fraction")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _real(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _space_list(name: str, value: Any) -> tuple[Any, ...]:
    allowed, meaning = _SPACE_LISTS[name]
    items = list(value) if isinstance(value, list | tuple | ListConfig) else None
    if not items or not all(allowed(item) for item in items) or len(set(items)) != len(items):
        raise ConfigError(
            f"{_key(name)} must be a non-empty list of distinct {meaning}, got {value!r}. "
            f"The book's: {_key(name)}=[{','.join(map(str, getattr(SearchOptions, name)))}]."
        )
    return tuple(float(item) if name == "dropout_rates" else item for item in items)


def _probability(name: str, value: Any, upper: float) -> float:
    if not _real(value) or not 0 <= value <= upper:
        raise ConfigError(
            f"{_key(name)} must be a number in [0, {upper:g}], got {value!r} (the book's "
            f"{getattr(SearchOptions, name)})."
        )
    return float(value)


def _check_probabilities_sum(options: SearchOptions) -> None:
    total = sum(getattr(options, name) for name in _PROBABILITIES)
    if not math.isclose(total, 1.0, abs_tol=1e-9):
        raise ConfigError(
            f"{', '.join(_key(name) for name in _PROBABILITIES)} are the chances that a child is a "
            f"tweaked copy, a crossover or a tweaked crossover; they must add up to 1, got {total:g} "
            "(the book's 0.5, 0.25, 0.25)."
        )
