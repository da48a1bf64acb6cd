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

from ldl.config_checks import did_you_mean
from ldl.errors import ConfigError
from ldl.sweeps.architecture_search.space import PARAMETERS, estimate_weights, random_definition

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

    def settings(self) -> dict[str, Any]:
        """The options a resumed search must share with the search in its folder."""
        values = asdict(self)
        return {key: values[key] for key in SCORE_SETTINGS}


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


def smallest_estimate() -> int:
    """The fewest weights any candidate can have: pooling layers down to 1x1x3, then the smallest
    dense layer and the output layer."""
    pooling = {"type": "MAXPOOL2D", "kernel": 4, "stride": 4, "dropout": 0.0}
    dense = {"type": "DENSE", "size": min(PARAMETERS["DENSE"]["size"]), "activation": "relu",
             "dropout": 0.0}  # fmt: skip
    return estimate_weights([pooling, pooling, pooling, dense])


def _check_model_size(max_model_size: int, seed: int) -> None:
    """Refuse a bound no candidate fits, or so tight that drawing one could take for ever."""
    smallest = smallest_estimate()
    if max_model_size < smallest:
        raise ConfigError(
            f"{_key('max_model_size')}={max_model_size} is below the smallest possible candidate "
            f"({smallest} estimated weights), so the search would redraw for ever. Raise it (the "
            f"book's {_key('max_model_size')}=500000)."
        )
    rng = np.random.RandomState(seed)
    for _ in range(SIZE_PROBE_DRAWS):
        if estimate_weights(random_definition(rng)) <= max_model_size:
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
        **{name: _whole_number(name, values[name]) for name in _WHOLE_NUMBERS},
    )
    _check_model_size(parsed.max_model_size, parsed.seed)
    return parsed


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"{_key('reproduce_aliasing_quirk')} must be true or false, got {value!r}."
        )
    return value
