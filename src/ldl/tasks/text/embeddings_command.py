"""`ldl embeddings run=<run folder> nearest=<word>`: the nearest words in a learned or GloVe embedding."""

from __future__ import annotations

import sys
from typing import Any

from ldl.cli.arguments import Converter, boolean, parse_arguments, positive_int
from ldl.errors import ConfigError
from ldl.runs.saved_model import load_run_model
from ldl.tasks.text.generation import NEEDS_VOCABULARY

USAGE = (
    "usage: ldl embeddings (run=<run folder> | glove=<GloVe text file>) nearest=<word or analogy> "
    "[nearest=...] [k=5] [distance=cosine|euclidean] [exclude_inputs=false] [max_words=N]"
)
OPTIONS: dict[str, Converter] = {
    "run": str,
    "glove": str,
    "nearest": str,
    "k": positive_int,
    "distance": str,
    "exclude_inputs": boolean,
    "max_words": positive_int,
}


def _parse(arguments: list[str]) -> tuple[dict[str, Any], list[str]]:
    parsed = parse_arguments(arguments, OPTIONS, USAGE, repeatable=["nearest"])
    values, queries = parsed.values, parsed.repeated["nearest"]
    if ("run" in values) == ("glove" in values):
        raise ConfigError(f"give either run=<run folder> or glove=<file>. {USAGE}")
    if not queries:
        raise ConfigError(f"which word? e.g. nearest=monster or nearest=king-man+woman. {USAGE}")
    return values, queries


def run_embeddings(arguments: list[str]) -> int:
    values, queries = _parse(arguments)
    from ldl.tasks.text.embeddings import model_word_vectors, nearest, read_glove

    if "glove" in values:
        vectors = read_glove(values["glove"], values.get("max_words"))
        source, k = f"{values['glove']} ({len(vectors.words):,} vectors)", values.get("k", 3)
    else:
        loaded = load_run_model(values["run"], needs_metadata=NEEDS_VOCABULARY)
        vectors = model_word_vectors(loaded.model, loaded.metadata.get("vocabulary", []))
        source = f"{loaded.run.path.name} (embedding {vectors.vectors.shape})"
        k = values.get("k", 5)
    distance = values.get("distance", "cosine")
    print(f"{source}, {distance} distance:")
    for query in queries:
        found = nearest(vectors, query, k, distance, values.get("exclude_inputs", False))
        print(f"{query}: " + ", ".join(f"{word}: {value:.3f}" for word, value in found))
    sys.stdout.flush()
    return 0
