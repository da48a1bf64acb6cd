"""A config field: its type, allowed values or bounds, and a one-line description, in one place.

Each config group's fields are declared once (ldl/config/groups.py, ldl/config/models.py) with the
helpers below; `Field.problem` checks a value against its declaration and says, in one paragraph, what
is wrong, what is allowed and how to set it. Nothing here imports TensorFlow, so every bad value is
refused before it loads.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from omegaconf import ListConfig

Kind = Literal["integer", "number", "boolean", "choice", "text", "integers", "numbers", "any"]


def closest(name: str, options: Iterable[str], count: int = 3) -> list[str]:
    """The options most similar to a mistyped `name` (difflib's ratio), best first."""
    return difflib.get_close_matches(name, list(options), n=count, cutoff=0.6)


def did_you_mean(name: str, options: Iterable[str]) -> str:
    matches = closest(name, options)
    return f" Did you mean {' or '.join(matches)}?" if matches else ""


def yaml_form(value: Any) -> str:
    """A value as it is written on the command line: true, null, 0.5, relu."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_number(value: Any) -> TypeGuard[int | float]:
    """An int or float; True and False are ints in Python but never numbers in a config."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_whole(value: Any) -> TypeGuard[int]:
    return is_number(value) and isinstance(value, int)


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


@dataclass(frozen=True)
class Field:
    """One config key: what it holds and what it may hold."""

    kind: Kind
    description: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    # Strict bounds: a learning rate > 0, a fraction < 1.
    above_minimum: bool = False
    below_maximum: bool = False
    nullable: bool = False
    # Words a number field also takes, e.g. eval_batch_size=auto, cv.fold=all.
    also: tuple[str, ...] = ()
    example: str = ""
    # What the value is called in messages when "a number" says too little: a fraction, a rate.
    noun: str = ""

    def allowed(self) -> str:
        """What the field accepts, e.g. 'an integer >= 1 or null', 'one of: fit, graph, auto'."""
        if self.kind == "choice":
            listed = ", ".join(yaml_form(choice) for choice in self.choices)
            return f"one of: {listed}{' or null' if self.nullable else ''}"
        noun = {
            "integer": "an integer",
            "number": "a number",
            "boolean": "true or false",
            "text": "a text",
            "integers": "a list of integers",
            "numbers": "a number or a list of numbers",
            "any": "any value",
        }[self.kind]
        noun = self.noun or noun
        text = f"{noun}{self._bounds()}"
        extra = [*self.also, *(["null"] if self.nullable and self.kind != "any" else [])]
        return f"{text} or {' or '.join(extra)}" if extra else text

    def _bounds(self) -> str:
        low, high = self.minimum, self.maximum
        if low is None and high is None:
            return ""
        if self.kind == "integers":
            return f" >= {low:g}" if low is not None else ""
        if low is not None and high is not None:
            if self.kind == "integer" and not self.above_minimum and not self.below_maximum:
                return f" from {low:g} to {high:g}"
            left = "(" if self.above_minimum else "["
            right = ")" if self.below_maximum else "]"
            return f" in {left}{low:g}, {high:g}{right}"
        if low is not None:
            return f" {'>' if self.above_minimum else '>='} {low:g}"
        return f" {'<' if self.below_maximum else '<='} {high:g}"

    def _in_bounds(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.minimum is not None and (
            value <= self.minimum if self.above_minimum else value < self.minimum
        ):
            return False
        return self.maximum is None or (
            value < self.maximum if self.below_maximum else value <= self.maximum
        )

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if isinstance(value, str) and value in self.also:
            return True
        if self.kind == "any":
            return True
        if self.kind == "choice":
            # bool is an int in Python: true must not pass for 1, nor 1 for true.
            return any(type(value) is type(c) and value == c for c in self.choices)
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.kind == "text":
            return isinstance(value, str)
        if self.kind == "integer":
            return is_whole(value) and self._in_bounds(value)
        if self.kind == "number":
            return is_number(value) and self._in_bounds(value)
        items = list(value) if isinstance(value, ListConfig | list | tuple) else None
        if self.kind == "integers":
            return items is not None and all(
                is_whole(item) and self._in_bounds(item) for item in items
            )
        # numbers: one number, or one per layer
        return all(
            is_number(i) and self._in_bounds(i) for i in (items if items is not None else [value])
        )

    def problem(self, key: str, value: Any) -> str | None:
        """None if `value` is allowed, else one paragraph naming the key, the value and the fix."""
        if self.accepts(value):
            return None
        if self.kind in ("choice", "boolean"):
            choices = self.choices or (True, False)
            hint = did_you_mean(str(value), [yaml_form(c) for c in choices])
            return (
                f"{key}={_describe(value)} is not allowed.{hint} {key} takes one of: "
                f"{', '.join(yaml_form(c) for c in choices)}"
                f"{' or null' if self.nullable else ''} ({self.description.rstrip('.')})."
            )
        if is_number(value) and not math.isfinite(value):
            head = f"{key} must be a finite number ({self.allowed()}), got {value}."
        else:
            head = f"{key} must be {self.allowed()}, got {_describe(value)}."
        example = f" Set it e.g. {key}={self.example}." if self.example else ""
        return f"{head} {key}: {self.description.rstrip('.')}.{example}"


# --- declaring fields -------------------------------------------------------------------------------


def integer(
    description: str,
    minimum: int | None = None,
    maximum: int | None = None,
    nullable: bool = False,
    also: tuple[str, ...] = (),
    example: str = "",
) -> Field:
    fallback = str(max(minimum or 0, 1)) if minimum is None or minimum <= 1 else str(minimum)
    return Field(
        "integer", description, minimum=minimum, maximum=maximum, nullable=nullable, also=also,
        example=example or fallback,
    )  # fmt: skip


def number(
    description: str,
    minimum: float | None = None,
    maximum: float | None = None,
    above_minimum: bool = False,
    below_maximum: bool = False,
    nullable: bool = False,
    example: str = "",
    per_layer: bool = False,
    noun: str = "",
) -> Field:
    return Field(
        "numbers" if per_layer else "number", description, minimum=minimum, maximum=maximum,
        above_minimum=above_minimum, below_maximum=below_maximum, nullable=nullable, example=example,
        noun=noun,
    )  # fmt: skip


def positive(description: str, nullable: bool = False, example: str = "") -> Field:
    """A number > 0 (a learning rate, a clipping norm)."""
    return number(description, 0, above_minimum=True, nullable=nullable, example=example)


def fraction(
    description: str, whole: bool = False, zero: bool = False, nullable: bool = False
) -> Field:
    """A share of something: in (0, 1) by default; `whole` allows 1, `zero` allows 0."""
    return number(
        description, 0, 1, above_minimum=not zero, below_maximum=not whole, nullable=nullable,
        example="0.5", noun="a fraction",
    )  # fmt: skip


def rate(description: str, per_layer: bool = False) -> Field:
    """A dropout rate in [0, 1)."""
    return number(
        description, 0, 1, below_maximum=True, example="0.2", per_layer=per_layer,
        noun="a dropout rate",
    )  # fmt: skip


def choice(description: str, *choices: Any, nullable: bool = False) -> Field:
    return Field("choice", description, choices=tuple(choices), nullable=nullable)


def flag(description: str) -> Field:
    return Field("boolean", description)


def text(description: str, nullable: bool = False) -> Field:
    return Field("text", description, nullable=nullable)


def integers(description: str, minimum: int | None = 1, example: str = "[64,64]") -> Field:
    return Field("integers", description, minimum=minimum, example=example)


def anything(description: str) -> Field:
    """A key whose value its reader checks (a mapping, a list of layer specs)."""
    return Field("any", description, nullable=True)
