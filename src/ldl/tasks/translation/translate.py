"""Translating with a trained c14e1 / c15_transformer model: greedy and beam decoding, BLEU, examples.

Both model families decode through one small interface (`Stepper`): `start` encodes a batch of source
rows once; `step` gives the next-token distribution after each row's prefix. The LSTM stepper feeds one
token per step and passes the decoder states explicitly (chapter 14); the Transformer stepper re-reads
the whole prefix over the cached encoder output (chapter 15, no key/value cache). Greedy decoding is
batched; beam search keeps `beam_width` hypotheses, moves those that produce STOP to the finished list
and stops when no live hypothesis can beat the best finished one (scores are sums of log
probabilities, no length normalization), so width 1 is exactly greedy.

The models are found in a (reloaded) training model by their layer names, so a run folder's
`model.keras` and `data.json` are all `ldl translate` needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ldl.data.text import pad_sequences, text_to_word_sequence
from ldl.decoding import beam_decode, corpus_bleu, greedy_decode
from ldl.errors import ConfigError
from ldl.tasks.translation.steppers import Seq2SeqStepper, stepper_for

DECODINGS = ("greedy", "beam")
TRANSLATIONS_FILE = "translations.txt"
RESERVED = ("PAD", "UNK", "START", "STOP")


@dataclass(frozen=True)
class TranslationVocabulary:
    """Both languages' id -> word lists and how the source was padded, from a run's data.json."""

    source_tokens: list[str]
    target_tokens: list[str]
    source_length: int
    src_padding: str = "pre"
    reverse_source: bool = False
    max_length: int = 60

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> TranslationVocabulary:
        if "source_vocabulary" not in metadata or "target_vocabulary" not in metadata:
            raise ConfigError(
                "This run's data.json holds no source and target vocabularies, so its model does "
                "not translate; use a c14e1 or c15_transformer run."
            )
        return cls(
            source_tokens=list(metadata["source_vocabulary"]),
            target_tokens=list(metadata["target_vocabulary"]),
            source_length=int(metadata["source_length"]),
            src_padding=metadata.get("src_padding", "pre"),
            reverse_source=bool(metadata.get("reverse_source", False)),
            max_length=int(metadata.get("max_length", 60)),
        )

    @property
    def start(self) -> int:
        return len(self.target_tokens) - 2

    @property
    def stop(self) -> int:
        return len(self.target_tokens) - 1

    def encode_sources(self, sentences: Sequence[str | Sequence[str]]) -> np.ndarray:
        """Sentences (text, or token lists) -> padded source ids, as in training (unknown -> UNK)."""
        index = {word: i for i, word in enumerate(self.source_tokens[:-2]) if i >= 2}
        sequences = []
        for sentence in sentences:
            words = text_to_word_sequence(sentence) if isinstance(sentence, str) else sentence
            ids = [index.get(word, 1) for word in words[: self.max_length]]
            sequences.append(ids[::-1] if self.reverse_source else ids)
        length = max([self.source_length, *(len(s) for s in sequences)])
        return pad_sequences(sequences, maxlen=length, padding=self.src_padding)

    def unknown_words(self, sentence: str) -> list[str] | None:
        """The sentence's words the model never saw (read as UNK); None for an empty sentence."""
        words = text_to_word_sequence(sentence)
        if not words:
            return None
        known = set(self.source_tokens[2:-2])
        return [word for word in words if word not in known]

    def target_words(self, ids: Sequence[int]) -> list[str]:
        return [self.target_tokens[int(i)] for i in ids]

    def source_words(self, ids: Sequence[int]) -> list[str]:
        return [self.source_tokens[int(i)] for i in ids]


# --- Steppers: one decoding step of each model family --------------------------------------------


def sentence_embeddings(
    model: Any, vocabulary: TranslationVocabulary, sentences: Sequence[str | Sequence[str]]
) -> np.ndarray:
    """The LSTM encoder's final state as a sentence embedding (chapter 14): the top layer's final h
    (both directions side by side for a bidirectional encoder), one row per sentence."""
    stepper = stepper_for(model)
    if not isinstance(stepper, Seq2SeqStepper):
        raise ConfigError(
            "Sentence embeddings are the LSTM encoder's final state; this run is a Transformer, "
            "whose encoder has no final state. Use a c14e1 run."
        )
    _, states, _ = stepper.encode(vocabulary.encode_sources(sentences))
    return np.asarray(states[-1][0])


def most_similar(embeddings: np.ndarray) -> list[tuple[int, float]]:
    """For every row, the other row with the highest cosine similarity, and that similarity."""
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    best = similarity.argmax(axis=1)
    return [(int(j), float(similarity[i, j])) for i, j in enumerate(best)]


# --- Decoding ---------------------------------------------------------------------------------------


def translate_ids(
    model: Any,
    vocabulary: TranslationVocabulary,
    sources: np.ndarray,
    decoding: str = "greedy",
    beam_width: int = 4,
    max_steps: int | None = None,
    batch_size: int = 512,
    length_normalization: float = 0.0,
) -> list[list[int]]:
    """Target ids (STOP excluded) for every source row."""
    if decoding not in DECODINGS:
        raise ConfigError(f"decoding={decoding!r} is not known; use greedy or beam.")
    stepper = stepper_for(model)
    steps = max_steps or vocabulary.max_length
    start, stop = vocabulary.start, vocabulary.stop
    results: list[list[int]] = []
    if decoding == "greedy":
        for first in range(0, len(sources), batch_size):
            chunk = sources[first : first + batch_size]
            results += greedy_decode(stepper, chunk, start, stop, steps)
        return results
    for row in sources:
        best = beam_decode(stepper, row, start, stop, steps, beam_width, length_normalization)[0]
        results.append(list(best.ids))
    return results


def translate(
    model: Any,
    vocabulary: TranslationVocabulary,
    sentences: Sequence[str | Sequence[str]],
    decoding: str = "greedy",
    beam_width: int = 4,
    length_normalization: float = 0.0,
) -> list[str]:
    """Sentences in the source language -> space-joined target words."""
    sources = vocabulary.encode_sources(sentences)
    translated = translate_ids(
        model, vocabulary, sources, decoding, beam_width, length_normalization=length_normalization
    )
    return [" ".join(vocabulary.target_words(ids)) for ids in translated]


# --- End-of-training report ----------------------------------------------------------------------


def masked_token_accuracy(
    model: Any,
    sources: np.ndarray,
    decoder_inputs: np.ndarray,
    targets: np.ndarray,
    batch: int = 512,
) -> float:
    """Teacher-forced next-token accuracy over the positions whose decoder input is not PAD (the
    c14e1 mask), whatever masks the model itself uses, so every model is scored alike."""
    correct = total = 0
    for first in range(0, len(sources), batch):
        part = slice(first, first + batch)
        predicted = np.argmax(np.asarray(model([sources[part], decoder_inputs[part]])), axis=-1)
        mask = decoder_inputs[part] != 0
        correct += int(((predicted == targets[part]) & mask).sum())
        total += int(mask.sum())
    return correct / max(total, 1)


def format_example(source: str, target: str, prediction: str) -> list[str]:
    return [f"source:     {source}", f"target:     {target}", f"prediction: {prediction}"]


def write_examples(
    run_dir: Path,
    title: str,
    examples: Sequence[dict[str, str]],
    step: int,
    tag: str = "translations/samples",
) -> None:
    """Append examples to translations.txt and to TensorBoard (text), and print them."""
    lines = [title]
    for example in examples:
        lines += format_example(example["source"], example["target"], example["prediction"])
        lines.append("")
    print("\n".join(lines), flush=True)
    with (Path(run_dir) / TRANSLATIONS_FILE).open("a") as stream:
        stream.write("\n".join(lines) + "\n")
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    writer = tf.summary.create_file_writer(str(Path(run_dir) / "tensorboard"))
    with writer.as_default():
        text = "\n\n".join(
            f"`{e['source']}` → `{e['prediction']}` (reference: `{e['target']}`)" for e in examples
        )
        tf.summary.text(tag, f"**{title}**\n\n{text}", step=step)
    writer.close()


def translation_report(
    model: Any,
    metadata: dict[str, Any],
    sources: np.ndarray,
    references: Sequence[Sequence[str]],
    run_dir: Path,
    decoding: str = "greedy",
    beam_width: int = 4,
    bleu_examples: int | None = None,
    examples: int = 20,
    decoder_inputs: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    length_normalization: float = 0.0,
) -> dict[str, Any]:
    """Corpus BLEU of the test translations, masked token accuracy and example translations."""
    vocabulary = TranslationVocabulary.from_metadata(metadata)
    count = len(sources) if bleu_examples is None else min(int(bleu_examples), len(sources))
    translated = translate_ids(
        model, vocabulary, sources[:count], decoding, beam_width,
        length_normalization=length_normalization,
    )  # fmt: skip
    hypotheses = [" ".join(vocabulary.target_words(ids)) for ids in translated]
    reference_text = [" ".join(words) for words in references[:count]]
    bleu, signature = corpus_bleu(hypotheses, reference_text)
    metrics: dict[str, Any] = {
        "test/bleu": bleu,
        "test/exact_match": float(
            np.mean([h == r for h, r in zip(hypotheses, reference_text, strict=True)])
        ),
        "test/bleu_sentences": count,
        "bleu_signature": f"{signature} ({decoding}"
        + (f", beam width {beam_width})" if decoding == "beam" else ")"),
    }
    if decoder_inputs is not None and targets is not None:
        metrics["test/token_accuracy"] = masked_token_accuracy(
            model, sources, decoder_inputs, targets
        )
    shown = [
        {
            "source": " ".join(w for w in vocabulary.source_words(row) if w != "PAD"),
            "target": reference_text[i],
            "prediction": hypotheses[i],
        }
        for i, row in enumerate(sources[: min(examples, count)])
    ]
    metrics["translation_examples"] = shown
    if shown:
        write_examples(
            run_dir,
            f"Test translations after training ({decoding}), BLEU {bleu:.2f}:",
            shown,
            0,
            tag="translations/test",
        )
    return metrics
