"""Caption metrics and examples: corpus BLEU, exact match, attention on the named object, figures.

The same functions write the per-epoch sample captions (callbacks) and the end-of-training report:
captions go to `captions.txt` in the run folder, to stdout and to TensorBoard (text), attention
figures to `captions/` and TensorBoard (images).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ldl.tasks.captioning.cache import load_features
from ldl.tasks.captioning.decoding import Caption, caption_ids, greedy_captions
from ldl.tasks.captioning.extractors import ExtractorSpec
from ldl.tasks.captioning.figures import attention_figure, top_regions
from ldl.tasks.captioning.vocabulary import CaptionVocabulary

CAPTIONS_FILE = "captions.txt"
FIGURES_FOLDER = "captions"


def load_feature_batch(files: Sequence[str]) -> np.ndarray:
    return np.stack([load_features(path) for path in files])


def attention_on_target(
    captions: Sequence[Caption],
    vocabulary: CaptionVocabulary,
    objects: Sequence[Sequence[Mapping[str, Any]]],
    shape_words: set[str],
    top_k: int = 9,
) -> dict[str, float]:
    """For every generated shape word whose object exists (the colour word before it and the shape
    match an object of the scene): is the most attended region one of the object's regions, what
    share of the top-k regions is, and what share of the attention weight falls on them; chance
    (attention spread evenly, or a region drawn at random) is the object's share of all regions."""
    hits, top_share, mass, chance, count = 0, 0.0, 0.0, 0.0, 0
    for caption, scene in zip(captions, objects, strict=True):
        words = vocabulary.words(caption.ids)
        regions_total = caption.attention.shape[1] if len(caption.ids) else 196
        for position, word in enumerate(words):
            if word not in shape_words or position == 0:
                continue
            named = [o for o in scene if o["shape"] == word and o["colour"] == words[position - 1]]
            if not named:
                continue
            regions = set(named[0]["regions"])
            weights = caption.attention[position]
            count += 1
            hits += int(int(np.argmax(weights)) in regions)
            top_share += len(regions & set(top_regions(weights, top_k).tolist())) / top_k
            mass += float(np.sum(weights[sorted(regions)]))
            chance += len(regions) / regions_total
    if count == 0:
        return {"test/attention_words": 0}
    return {
        "test/attention_words": count,
        "test/attention_on_target": hits / count,
        f"test/attention_top{top_k}_on_target": top_share / count,
        "test/attention_mass_on_target": mass / count,
        "test/attention_chance": chance / count,
    }


def write_captions(
    run_dir: Path,
    title: str,
    examples: Sequence[Mapping[str, str]],
    figures: Sequence[Path],
    step: int,
    tag: str,
) -> None:
    """Append examples to captions.txt, print them, and log them (and figures) to TensorBoard."""
    lines = [title]
    for example in examples:
        lines.append(f"image:      {example['image']}")
        if example.get("reference"):
            lines.append(f"reference:  {example['reference']}")
        lines += [f"prediction: {example['prediction']}", ""]
    print("\n".join(lines), flush=True)
    with (Path(run_dir) / CAPTIONS_FILE).open("a") as stream:
        stream.write("\n".join(lines) + "\n")
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    writer = tf.summary.create_file_writer(str(Path(run_dir) / "tensorboard"))
    with writer.as_default():
        text = "\n\n".join(
            f"`{e['image']}` → `{e['prediction']}`"
            + (f" (reference: `{e['reference']}`)" if e.get("reference") else "")
            for e in examples
        )
        tf.summary.text(tag, f"**{title}**\n\n{text}", step=step)
        for index, figure in enumerate(figures):
            png = tf.io.decode_png(tf.io.read_file(str(figure)), channels=3)
            tf.summary.image(f"{tag}/attention_{index}", png[None], step=step)
    writer.close()


def caption_figures(
    captions: Sequence[Caption],
    vocabulary: CaptionVocabulary,
    image_files: Sequence[str],
    folder: Path,
    prefix: str,
    spec: ExtractorSpec,
    grid: tuple[int, int],
    top_k: int,
) -> list[Path]:
    paths = []
    for caption, image_file in zip(captions, image_files, strict=True):
        image = spec.load_image(image_file)
        paths.append(
            attention_figure(
                image,
                vocabulary.words(caption.ids),
                caption.attention,
                folder / f"{prefix}{Path(image_file).stem}.png",
                top_k=top_k,
                grid=grid,
                title=Path(image_file).name,
            )
        )
    return paths


def _decode_in_chunks(
    model: Any,
    vocabulary: CaptionVocabulary,
    feature_files: Sequence[str],
    decoding: str,
    beam_width: int,
    chunk: int,
) -> tuple[list[Caption], list[list[int]]]:
    """Greedy captions (with their attention) and the reported ids (greedy or beam) of every image,
    reading `chunk` feature files at a time so memory stays bounded."""
    captions: list[Caption] = []
    ids: list[list[int]] = []
    for first in range(0, len(feature_files), chunk):
        features = load_feature_batch(feature_files[first : first + chunk])
        greedy = greedy_captions(
            model, features, vocabulary.start, vocabulary.stop, vocabulary.max_length
        )
        captions += greedy
        if decoding == "greedy":
            ids += [caption.ids for caption in greedy]
        else:
            ids += caption_ids(
                model, features, vocabulary.start, vocabulary.stop, vocabulary.max_length,
                decoding, beam_width,
            )  # fmt: skip
    return captions, ids


def _examples(
    image_files: Sequence[str], references: list[str], hypotheses: list[str], count: int
) -> list[dict[str, str]]:
    return [
        {
            "image": Path(image_files[i]).name,
            "reference": references[i],
            "prediction": hypotheses[i],
        }
        for i in range(min(count, len(hypotheses)))
    ]


def caption_report(
    model: Any,
    vocabulary: CaptionVocabulary,
    feature_files: Sequence[str],
    image_files: Sequence[str],
    references: Sequence[Sequence[str]],
    run_dir: Path,
    objects: Sequence[Sequence[Mapping[str, Any]]] | None = None,
    shape_words: set[str] | None = None,
    decoding: str = "greedy",
    beam_width: int = 3,
    examples: int = 10,
    figures: int = 4,
    top_k: int = 9,
    spec: ExtractorSpec | None = None,
    grid: tuple[int, int] = (14, 14),
    chunk: int = 256,
) -> dict[str, Any]:
    """BLEU and exact match of the test captions; on the shapes task, attention on target."""
    from ldl.decoding import corpus_bleu

    captions, ids = _decode_in_chunks(model, vocabulary, feature_files, decoding, beam_width, chunk)
    hypotheses = [" ".join(vocabulary.words(row)) for row in ids]
    reference_text = [" ".join(words) for words in references]
    bleu, signature = corpus_bleu(hypotheses, reference_text)
    metrics: dict[str, Any] = {
        "test/bleu": bleu,
        "test/exact_match": float(
            np.mean([h == r for h, r in zip(hypotheses, reference_text, strict=True)])
        ),
        "test/captioned_images": len(hypotheses),
        "bleu_signature": f"{signature} ({decoding})",
    }
    if objects is not None and shape_words:
        metrics.update(attention_on_target(captions, vocabulary, objects, shape_words, top_k))
    paths = caption_figures(
        captions[:figures],
        vocabulary,
        image_files[:figures],
        Path(run_dir) / FIGURES_FOLDER,
        "test_",
        spec or ExtractorSpec(),
        grid,
        top_k,
    )
    shown = _examples(image_files, reference_text, hypotheses, examples)
    metrics["caption_examples"] = shown
    metrics["attention_figures"] = [str(path.relative_to(run_dir)) for path in paths]
    write_captions(
        run_dir,
        f"Test captions after training ({decoding}), BLEU {bleu:.2f}:",
        shown,
        paths,
        0,
        "captions/test",
    )
    return metrics
