"""`ldl translate run=<run folder> "je suis fatigué ."`: translate sentences with a c14e1 or
c15_transformer run (greedy by default; decoding=beam beam_width=4 for beam search)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ldl.cli.arguments import Converter, parse_arguments, positive_int
from ldl.data.text import text_to_word_sequence
from ldl.decoding import MAX_BEAM_WIDTH
from ldl.errors import ConfigError
from ldl.runs.saved_model import load_run_model

USAGE = (
    'usage: ldl translate run=<run folder> "<sentence>" ["<sentence>" ...] '
    "[decoding=greedy|beam] [beam_width=4] [length_normalization=0.0] [embeddings=<file.npy>]"
)
OPTIONS: dict[str, Converter] = {
    "run": str,
    "decoding": str,
    "beam_width": positive_int,
    # Beam search: rank finished translations by score / ((5 + length) / 6) ** alpha (0 = off).
    "length_normalization": float,
    # Also write the encoder's final state of each sentence (an LSTM run) to this .npy file.
    "embeddings": str,
}


def run_translate(arguments: list[str]) -> int:
    parsed = parse_arguments(arguments, OPTIONS, USAGE, required=["run"], positional=True)
    values, sentences = parsed.values, parsed.positional
    if not sentences:
        raise ConfigError(f'what should be translated? e.g. "je suis fatigué ." {USAGE}')
    if values.get("beam_width", 1) > MAX_BEAM_WIDTH:
        raise ConfigError(
            f"beam_width must be a whole number from 1 to {MAX_BEAM_WIDTH}, got "
            f"{values['beam_width']}."
        )
    for sentence in sentences:
        if not text_to_word_sequence(sentence):
            raise ConfigError(f"The sentence {sentence!r} is empty; give French text to translate.")
    loaded = load_run_model(
        values["run"], needs_metadata="it holds no tokenizers to translate with"
    )
    run, model, metadata = loaded.run, loaded.model, loaded.metadata
    from ldl.tasks.translation.translate import TranslationVocabulary, translate

    vocabulary = TranslationVocabulary.from_metadata(metadata)
    decoding = values.get("decoding", "greedy")
    if decoding not in ("greedy", "beam"):
        raise ConfigError(f"decoding={decoding!r} is not known; use greedy or beam. {USAGE}")
    beam_width = values.get("beam_width", 4)
    if decoding == "beam":
        from ldl.decoding import check_beam_width

        check_beam_width(beam_width, len(vocabulary.target_tokens))
    for sentence in sentences:
        unknown = vocabulary.unknown_words(sentence)
        if unknown is None:
            raise ConfigError(f"The sentence {sentence!r} is empty; give French text to translate.")
        if unknown and len(unknown) == len(text_to_word_sequence(sentence)):
            raise ConfigError(
                f"None of the words of {sentence!r} is in the model's French vocabulary "
                f"({len(vocabulary.source_tokens)} words); give French text of the training data."
            )
        if unknown:
            print(f"note: unknown words in {sentence!r} are read as UNK: {', '.join(unknown)}")
    alpha = values.get("length_normalization", 0.0)
    translations = translate(model, vocabulary, sentences, decoding, beam_width, alpha)
    how = f"beam search, width {beam_width}" if decoding == "beam" else "greedy"
    if decoding == "beam" and alpha:
        how += f", length normalization {alpha}"
    print(f"{run.path.name}: {len(sentences)} sentence(s), {how}")
    for sentence, translation in zip(sentences, translations, strict=True):
        print(f"{sentence} -> {shown_translation(translation)}")
    if "embeddings" in values:
        _export_embeddings(model, vocabulary, sentences, values["embeddings"])
    return 0


def _export_embeddings(model: Any, vocabulary: Any, sentences: list[str], file: str) -> None:
    """Write the sentence embeddings and print each sentence's most similar one (cosine)."""
    import numpy as np

    from ldl.tasks.translation.translate import most_similar, sentence_embeddings

    embeddings = sentence_embeddings(model, vocabulary, sentences)
    path = Path(file).expanduser()
    if path.suffix != ".npy":
        raise ConfigError(f"embeddings={file!r} must name a .npy file.")
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, embeddings)
    print(f"sentence embeddings {embeddings.shape} written to {path}")
    if len(sentences) > 1:
        for sentence, (other, similarity) in zip(sentences, most_similar(embeddings), strict=True):
            print(f"{sentence} ~ {sentences[other]} (cosine {similarity:.3f})")


EMPTY_TRANSLATION = (
    "(empty: the model ended the translation at once, without a word; it has not learned to "
    "translate yet - train it longer)"
)


def shown_translation(translation: str) -> str:
    """A translation as printed: an empty one says so in words instead of printing nothing."""
    return translation if translation.strip() else EMPTY_TRANSLATION
