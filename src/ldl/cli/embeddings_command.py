"""`ldl embeddings run=<run folder> nearest=<word>`: the nearest words in a learned or GloVe embedding."""

from __future__ import annotations

import sys

from ldl.cli.generate_command import load_run_model
from ldl.errors import ConfigError

USAGE = (
    "usage: ldl embeddings (run=<run folder> | glove=<GloVe text file>) nearest=<word or analogy> "
    "[nearest=...] [k=5] [distance=cosine|euclidean] [exclude_inputs=false] [max_words=N]"
)
OPTIONS = ("run", "glove", "nearest", "k", "distance", "exclude_inputs", "max_words")


def _parse(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    queries: list[str] = []
    for argument in arguments:
        if argument in ("-h", "--help"):
            raise SystemExit(print(USAGE) or 0)
        key, separator, text = argument.partition("=")
        if not separator or key not in OPTIONS:
            raise ConfigError(f"unexpected argument {argument!r}. {USAGE}")
        if key == "nearest":
            queries.append(text)
        else:
            values[key] = text
    if ("run" in values) == ("glove" in values):
        raise ConfigError(f"give either run=<run folder> or glove=<file>. {USAGE}")
    if not queries:
        raise ConfigError(f"which word? e.g. nearest=monster or nearest=king-man+woman. {USAGE}")
    return values, queries


def _integer(values: dict[str, str], key: str, default: int | None) -> int | None:
    if key not in values:
        return default
    try:
        number = int(values[key])
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"{key}={values[key]!r} must be a whole number >= 1. {USAGE}")
    return number


def run_embeddings(arguments: list[str]) -> int:
    values, queries = _parse(arguments)
    from ldl.embeddings import model_word_vectors, nearest, read_glove

    if "glove" in values:
        vectors = read_glove(values["glove"], _integer(values, "max_words", None))
        source, k = f"{values['glove']} ({len(vectors.words):,} vectors)", _integer(values, "k", 3)
    else:
        run, model, metadata = load_run_model(values["run"])
        vectors = model_word_vectors(model, metadata.get("vocabulary", []))
        source, k = f"{run.path.name} (embedding {vectors.vectors.shape})", _integer(values, "k", 5)
    distance = values.get("distance", "cosine")
    exclude = values.get("exclude_inputs", "false").lower()
    if exclude not in ("true", "false"):
        raise ConfigError(f"exclude_inputs must be true or false, got {exclude!r}.")
    print(f"{source}, {distance} distance:")
    for query in queries:
        found = nearest(vectors, query, k, distance, exclude == "true")
        print(f"{query}: " + ", ".join(f"{word}: {value:.3f}" for word, value in found))
    sys.stdout.flush()
    return 0
