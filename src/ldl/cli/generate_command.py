"""`ldl generate run=<run folder> prompt="the body " beam_width=8 length=11`: complete text with a run's model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ldl.errors import ConfigError
from ldl.runs.run_folder import RunFolder

USAGE = (
    'usage: ldl generate run=<run folder> [prompt="the body "] [decoding=beam|greedy|sample] '
    "[beam_width=8] [length=11] [temperature=1.0] [samples=1] [mode=auto|refeed|stateful] [seed=N]"
)
# Option -> parser of its command-line text.
OPTIONS: dict[str, Callable[[str], Any]] = {
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


def parse_options(
    arguments: list[str], options: dict[str, Callable[[str], Any]], usage: str
) -> dict[str, Any]:
    """key=value arguments, each converted by its parser; anything else is a clear error."""
    values: dict[str, Any] = {}
    for argument in arguments:
        if argument in ("-h", "--help"):
            raise SystemExit(print(usage) or 0)
        key, separator, text = argument.partition("=")
        if not separator or key not in options:
            raise ConfigError(f"unexpected argument {argument!r}. {usage}")
        try:
            values[key] = options[key](text)
        except ValueError:
            raise ConfigError(
                f"{key}={text!r} is not a valid {options[key].__name__}. {usage}"
            ) from None
    if "run" not in values:
        raise ConfigError(f"which run? {usage}")
    return values


def load_run_model(run_dir: str) -> tuple[RunFolder, Any, dict[str, Any]]:
    """The run folder, its trained Keras model and its data.json, or a clear error."""
    run = RunFolder(run_dir)
    if not run.exists():
        raise ConfigError(
            f"{run.path} is not an ldl run folder (no config.yaml). Pass the folder a training run "
            "printed as 'run folder: ...'."
        )
    model_path = run.model_path
    if not model_path.exists():
        from ldl.training.checkpoint import Checkpointer

        state = Checkpointer(run.checkpoint_dir).load_state()
        if state is None:
            raise ConfigError(
                f"{run.path} has no model.keras and no checkpoint: the run did not complete an "
                f"epoch (status: {run.status()})."
            )
        model_path = run.checkpoint_dir / state.model_file
        print(
            f"note: {run.path.name} is unfinished (status: {run.status()}); using its checkpoint "
            f"after epoch {state.epochs_completed}."
        )
    data_json = run.path / "data.json"
    if not data_json.exists():
        raise ConfigError(
            f"{run.path} has no data.json, so its dataset has no vocabulary: only text models "
            "(e.g. c11e1, c12e1) can generate or show word neighbours."
        )
    from ldl import tf_setup
    from ldl.runs.files import read_json

    tf_setup.import_tensorflow()
    import keras

    import ldl.models  # noqa: F401  registers the custom layers saved models may use

    return run, keras.saving.load_model(model_path), read_json(data_json)


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
    values = parse_options(arguments, OPTIONS, USAGE)
    run, model, metadata = load_run_model(values.pop("run"))
    from ldl.generation import Vocabulary, describe, format_completions, generate

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
