"""`ldl generate run=<run folder> prompt="the body " beam_width=8 length=11`: complete text with a run's model."""

from __future__ import annotations

from typing import Any

from ldl.cli.arguments import Converter, parse_arguments, positive_int
from ldl.errors import ConfigError
from ldl.runs.run_folder import RunFolder
from ldl.runs.saved_model import load_run_model
from ldl.tasks.text.generation import NEEDS_VOCABULARY

# Bounds of the options that decide how much is decoded and printed.
MAX_LENGTH = 1000
MAX_SAMPLES = 100

USAGE = (
    'usage: ldl generate run=<run folder> [prompt="the body "] [decoding=beam|greedy|sample] '
    "[beam_width=8] [length=11] [temperature=1.0] [samples=1] [mode=auto|refeed|stateful] [seed=N]"
)
# Option -> parser of its command-line text.
OPTIONS: dict[str, Converter] = {
    "run": str,
    "prompt": str,
    "decoding": str,
    "beam_width": positive_int,
    "length": positive_int,
    "temperature": float,
    "samples": positive_int,
    "mode": str,
    "seed": int,
}


def _configured_sampling(run: RunFolder) -> dict[str, Any]:
    """The run's own sample_completions settings (e.g. c11e1's prompt and beam width), if any."""
    callbacks = run.read_config().get("callbacks") or {}
    spec = callbacks.get("sample_completions") or {}
    settings = {
        key: spec[key] for key in ("decoding", "beam_width", "length", "mode") if key in spec
    }
    if spec.get("prompts"):
        settings["prompt"] = spec["prompts"][0]
    return settings


def _check_bounds(values: dict[str, Any]) -> None:
    """Refuse settings that would decode or print without bound, before the model is loaded."""
    import math

    if values.get("length", 1) > MAX_LENGTH:
        raise ConfigError(f"length must be from 1 to {MAX_LENGTH} tokens, got {values['length']}.")
    if values.get("samples", 1) > MAX_SAMPLES:
        raise ConfigError(f"samples must be from 1 to {MAX_SAMPLES}, got {values['samples']}.")
    temperature = values.get("temperature", 1.0)
    if not math.isfinite(temperature) or temperature <= 0:
        raise ConfigError(f"temperature must be a finite number > 0, got {temperature}.")
    if "beam_width" in values:
        from ldl.decoding import check_beam_width

        check_beam_width(values["beam_width"])
    if "prompt" in values and not values["prompt"].strip():
        raise ConfigError(f'The prompt is empty; give some text, e.g. prompt="the body ". {USAGE}')


def _window(run: RunFolder) -> int | None:
    """How many tokens the model was trained to read (data.window_length), if the run says."""
    window = (run.read_config().get("data") or {}).get("window_length")
    return int(window) if isinstance(window, int) and window > 0 else None


def _cut_to_window(prompt: str, level: str, window: int | None) -> str:
    """The prompt's last `window` characters or words, with a note when it was longer: the model
    never saw longer contexts, and re-reading a long prompt at every step costs minutes."""
    if window is None:
        return prompt
    if level == "characters":
        if len(prompt) <= window:
            return prompt
        cut = prompt[-window:]
    else:
        words = prompt.split()
        if len(words) <= window:
            return prompt
        cut = " ".join(words[-window:]) + (" " if prompt.endswith(" ") else "")
    print(
        f"note: the prompt has {len(prompt) if level == 'characters' else len(prompt.split())} "
        f"{level}; the model was trained on windows of {window}, so only its last {window} are "
        f"used: {cut!r}."
    )
    return cut


def run_generate(arguments: list[str]) -> int:
    values = parse_arguments(arguments, OPTIONS, USAGE, required=["run"]).values
    _check_bounds(values)
    loaded = load_run_model(values.pop("run"), needs_metadata=NEEDS_VOCABULARY)
    run, model, metadata = loaded.run, loaded.model, loaded.metadata
    from ldl.tasks.text.generation import Vocabulary, describe, format_completions, generate

    vocabulary = Vocabulary.from_metadata(metadata)
    settings = {"decoding": "beam", "length": 11, "beam_width": 8, **_configured_sampling(run)}
    settings.update(values)
    if "prompt" not in settings:
        raise ConfigError(f'which prompt? e.g. prompt="the body ". {USAGE}')
    if (
        settings.get("mode") == "stateful"
        and settings["decoding"] == "beam"
        and "mode" not in values
    ):
        settings["mode"] = "auto"
    from ldl.decoding import check_beam_width

    if settings["decoding"] == "beam":
        check_beam_width(settings["beam_width"], len(vocabulary))
    prompt = _cut_to_window(settings.pop("prompt"), vocabulary.level, _window(run))
    completions = generate(model, vocabulary, prompt, **settings)
    print(
        f"{run.path.name}: {len(vocabulary)} {vocabulary.level}; "
        + describe(
            settings["decoding"],
            settings["length"],
            settings["beam_width"],
            settings.get("temperature", 1.0),
        )
        + f", prompt {prompt!r}"
    )
    for line in format_completions(vocabulary, prompt, completions):
        print(line)
    return 0
