"""`ldl generate run=<run folder> prompt="the body " beam_width=8 length=11`: complete text with a run's model."""

from __future__ import annotations

from typing import Any

from ldl.cli.arguments import Converter, parse_arguments
from ldl.errors import ConfigError
from ldl.runs.run_folder import RunFolder
from ldl.runs.saved_model import load_run_model
from ldl.tasks.text.generation import NEEDS_VOCABULARY

USAGE = (
    'usage: ldl generate run=<run folder> [prompt="the body "] [decoding=beam|greedy|sample] '
    "[beam_width=8] [length=11] [temperature=1.0] [samples=1] [mode=auto|refeed|stateful] [seed=N]"
)
# Option -> parser of its command-line text.
OPTIONS: dict[str, Converter] = {
    "run": str,
    "prompt": str,
    "decoding": str,
    "beam_width": int,
    "length": int,
    "temperature": float,
    "samples": int,
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


def run_generate(arguments: list[str]) -> int:
    values = parse_arguments(arguments, OPTIONS, USAGE, required=["run"]).values
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
    prompt = settings.pop("prompt")
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
