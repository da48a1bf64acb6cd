"""Hydra's sweep syntax as Optuna distributions: what `hydra.sweeper.params` and the command line say.

Hydra's public override parser reads the syntax; this module maps each swept value to an Optuna
distribution:

| Hydra                          | Optuna                                                   |
|--------------------------------|----------------------------------------------------------|
| `choice(a, b)`, `a,b`          | CategoricalDistribution of the values as Hydra writes them |
| `interval(0.0, 0.5)`           | FloatDistribution(0.0, 0.5)                              |
| `int(interval(1, 8))`          | IntDistribution(1, 8) (both ends included)               |
| `tag(log, interval(...))`      | the same with log=True                                   |
| `range(1, 10, 2)`              | IntDistribution(1, 9, step=2): Python's range, stop left out |
| `range(0.1, 0.5, 0.1)`         | FloatDistribution(0.1, 0.4, step=0.1)                    |
| `shuffle(...)`, `tag(other, ...)` | refused: an order or tag means nothing to a sampler   |

Choices are kept as Hydra writes them (`[25]`, `sgd`, `0.001`), so each trial's override is the
choice itself. Everything not swept is a fixed value passed to every trial.
"""

from __future__ import annotations

import math
from typing import Any

from ldl.errors import ConfigError

# Distributions by parameter name, fixed values (as override strings) by key.
SearchSpace = tuple[dict[str, Any], dict[str, str]]


def parse_search_space(overrides: list[str]) -> SearchSpace:
    """The Optuna distributions and the fixed values of `overrides` (Hydra's override strings)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except OverrideParseException as error:
        raise ConfigError(
            f"The search-space entry {error.override!r} cannot be read: {error.message}. Write "
            "choice(a, b), a,b, interval(low, high), int(interval(low, high)), range(start, stop, "
            "step) or tag(log, interval(low, high)) (docs/sweeps.md)."
        ) from None
    distributions: dict[str, Any] = {}
    fixed: dict[str, str] = {}
    for override in parsed:
        name = override.get_key_element()
        if override.is_sweep_override():
            distributions[name] = distribution_of(override)
        else:
            fixed[name] = override.get_value_element_as_str()
    for name in distributions:
        fixed.pop(name, None)
    return distributions, fixed


def distribution_of(override: Any) -> Any:
    """The Optuna distribution of one swept Hydra override."""
    from hydra.core.override_parser.types import (
        ChoiceSweep,
        IntervalSweep,
        RangeSweep,
        Transformer,
    )
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    value = override.value()
    name = override.get_key_element()
    tags = set(getattr(value, "tags", set()) or set())
    unknown = tags - {"log"}
    if unknown or (tags and not isinstance(value, IntervalSweep)):
        raise ConfigError(
            f"{name}: the tag {', '.join(sorted(tags))} cannot be used there; only tag(log, "
            "interval(low, high)) is understood (a log-uniform interval)."
        )
    if getattr(value, "shuffle", False):
        raise ConfigError(
            f"{name}: shuffle(...) orders a grid; a sampler draws its own order. Use choice(...)."
        )
    if isinstance(value, ChoiceSweep):
        choices = list(override.sweep_iterator(transformer=Transformer.encode))
        if not choices:
            raise ConfigError(f"{name}: choice() needs at least one value.")
        if len(set(choices)) != len(choices):
            raise ConfigError(f"{name}: the choices {choices} repeat a value; list each once.")
        return CategoricalDistribution(choices)
    if isinstance(value, IntervalSweep):
        low, high = value.start, value.end
        log = "log" in tags
        if low is None or high is None or not low < high:
            raise ConfigError(
                f"{name}: interval({low}, {high}) needs low < high, e.g. interval(0.0, 0.5)."
            )
        if log and low <= 0:
            raise ConfigError(
                f"{name}: tag(log, interval({low}, {high})) needs low > 0 (a logarithm of {low})."
            )
        if isinstance(low, int) and isinstance(high, int):
            return IntDistribution(low, high, log=log)
        return FloatDistribution(float(low), float(high), log=log)
    if isinstance(value, RangeSweep):
        return _range_distribution(name, value)
    raise ConfigError(f"{name}: {override.input_line} is not a search space ldl understands.")


def _range_distribution(name: str, value: Any) -> Any:
    from optuna.distributions import FloatDistribution, IntDistribution

    start, stop, step = value.start, value.stop, value.step
    if not step or step <= 0 or start is None or stop is None or not start < stop:
        raise ConfigError(
            f"{name}: range({start}, {stop}, {step}) holds no value; it needs start < stop and a "
            "positive step, e.g. range(1, 10, 2)."
        )
    count = math.ceil((stop - start) / step)  # Python's range: stop is left out
    if all(isinstance(v, int) for v in (start, stop, step)):
        return IntDistribution(start, start + (count - 1) * step, step=step)
    last = round(start + (count - 1) * step, 12)
    if count == 1:
        raise ConfigError(
            f"{name}: range({start}, {stop}, {step}) holds one value; fix it instead."
        )
    return FloatDistribution(float(start), float(last), step=float(step))


def space_to_json(distributions: dict[str, Any]) -> dict[str, str]:
    from optuna.distributions import distribution_to_json

    return {name: distribution_to_json(d) for name, d in sorted(distributions.items())}


def describe(distribution_json: str) -> str:
    """A distribution in the words of Hydra's syntax (for messages)."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
        json_to_distribution,
    )

    distribution = json_to_distribution(distribution_json)
    if isinstance(distribution, CategoricalDistribution):
        return f"choice({', '.join(str(c) for c in distribution.choices)})"
    if isinstance(distribution, FloatDistribution | IntDistribution):
        kind = "int(interval" if isinstance(distribution, IntDistribution) else "interval"
        text = f"{kind}({distribution.low}, {distribution.high})"
        text += ")" if isinstance(distribution, IntDistribution) else ""
        if distribution.step is not None and distribution.step != 1:
            text += f" step {distribution.step}"
        return f"tag(log, {text})" if distribution.log else text
    return distribution_json


def space_changes(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """What differs between two search spaces (as `space_to_json` writes them), in words."""
    changes = []
    for name in sorted(set(before) | set(now)):
        if name not in now:
            changes.append(f"{name} was searched ({describe(before[name])}) and is not now")
        elif name not in before:
            changes.append(f"{name} is searched now ({describe(now[name])}) and was not")
        elif before[name] != now[name]:
            changes.append(f"{name} was {describe(before[name])}, now {describe(now[name])}")
    return changes
