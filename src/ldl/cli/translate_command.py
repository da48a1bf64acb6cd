"""`ldl translate run=<run folder> "je suis fatigué ."`: translate sentences with a c14e1 or
c15_transformer run (greedy by default; decoding=beam beam_width=4 for beam search)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ldl.cli.generate_command import load_run_model, parse_options
from ldl.errors import ConfigError

USAGE = (
    'usage: ldl translate run=<run folder> "<sentence>" ["<sentence>" ...] '
    "[decoding=greedy|beam] [beam_width=4]"
)
OPTIONS: dict[str, Callable[[str], Any]] = {"run": str, "decoding": str, "beam_width": int}


def run_translate(arguments: list[str]) -> int:
    options = [a for a in arguments if a.partition("=")[0] in OPTIONS or a in ("-h", "--help")]
    sentences = [a for a in arguments if a not in options]
    values = parse_options(options, OPTIONS, USAGE)
    if not sentences:
        raise ConfigError(f'what should be translated? e.g. "je suis fatigué ." {USAGE}')
    run, model, metadata = load_run_model(values["run"])
    from ldl.translation import TranslationVocabulary, translate

    vocabulary = TranslationVocabulary.from_metadata(metadata)
    decoding = values.get("decoding", "greedy")
    beam_width = values.get("beam_width", 4)
    translations = translate(model, vocabulary, sentences, decoding, beam_width)
    how = f"beam search, width {beam_width}" if decoding == "beam" else "greedy"
    print(f"{run.path.name}: {len(sentences)} sentence(s), {how}")
    for sentence, translation in zip(sentences, translations, strict=True):
        print(f"{sentence} -> {translation}")
    return 0
