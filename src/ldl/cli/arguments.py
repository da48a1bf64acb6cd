"""The one parser of the small commands' `key=value` arguments (`ldl train` hands its own to Hydra).

Each command declares its options as {name: converter}; a converter turns the command-line text into a
typed value or raises ValueError. Unknown keys, bad values and missing required options are one-line
errors that repeat the command's usage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ldl.errors import ConfigError

Converter = Callable[[str], Any]


def boolean(text: str) -> bool:
    """true/false, yes/no, 1/0 (any case)."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError(text)


def positive_int(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


def optional_text(text: str) -> str | None:
    """`null`, `none` or nothing is None (e.g. weights=null)."""
    return None if text.strip().lower() in ("null", "none", "") else text


def comma_list(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _described(converter: Converter) -> str:
    """What a converter accepts, for error messages (`int`, `whole number >= 1`, ...)."""
    descriptions: dict[Converter, str] = {
        positive_int: "whole number >= 1",
        boolean: "true/false value",
        optional_text: "value",
        comma_list: "comma-separated list",
    }
    return descriptions.get(converter, getattr(converter, "__name__", "value"))


@dataclass
class ParsedArguments:
    values: dict[str, Any] = field(default_factory=dict)
    # Words without `=` (a sweep folder, sentences to translate), in order.
    positional: list[str] = field(default_factory=list)
    # Options that may repeat (e.g. nearest=...), each value in order.
    repeated: dict[str, list[Any]] = field(default_factory=dict)


def parse_arguments(
    arguments: Sequence[str],
    options: dict[str, Converter],
    usage: str,
    *,
    required: Sequence[str] = (),
    repeatable: Sequence[str] = (),
    positional: bool = False,
) -> ParsedArguments:
    """Parse `key=value` arguments; `-h`/`--help` prints the usage and exits 0."""
    parsed = ParsedArguments(repeated={key: [] for key in repeatable})
    for argument in arguments:
        if argument in ("-h", "--help"):
            raise SystemExit(print(usage) or 0)
        key, separator, text = argument.partition("=")
        if not separator or key not in options:
            if positional and key not in options:
                parsed.positional.append(argument)
                continue
            raise ConfigError(f"unexpected argument {argument!r}. {usage}")
        try:
            value = options[key](text)
        except ValueError:
            raise ConfigError(
                f"{key}={text!r} is not a valid {_described(options[key])}. {usage}"
            ) from None
        if key in parsed.repeated:
            parsed.repeated[key].append(value)
        else:
            parsed.values[key] = value
    for key in required:
        if key not in parsed.values:
            raise ConfigError(f"which {key}? {usage}")
    return parsed
