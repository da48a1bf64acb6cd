"""`ldl caption run=<run folder> images=a.jpg,b.jpg`: caption photos with a c16e2 (or
captioning_shapes) run, writing one attention figure per photo (the top-9 regions per word)."""

from __future__ import annotations

from pathlib import Path

from ldl.cli.arguments import Converter, comma_list, parse_arguments, positive_int
from ldl.errors import ConfigError
from ldl.runs.saved_model import load_run_model

USAGE = (
    "usage: ldl caption run=<run folder> images=<photo>[,<photo>...] [decoding=greedy|beam] "
    "[beam_width=3] [top_k=9] [figures=<folder>]"
)
OPTIONS: dict[str, Converter] = {
    "run": str,
    "images": comma_list,
    "decoding": str,
    "beam_width": positive_int,
    "top_k": positive_int,
    "figures": str,
}


def run_caption(arguments: list[str]) -> int:
    values = parse_arguments(arguments, OPTIONS, USAGE, required=["run"]).values
    images = values.get("images") or []
    if not images:
        raise ConfigError(f"which photos? {USAGE}")
    decoding = values.get("decoding", "greedy")
    if decoding not in ("greedy", "beam"):
        raise ConfigError(f"decoding={decoding!r} is not known; use greedy or beam. {USAGE}")
    from ldl.decoding import check_beam_width

    check_beam_width(values.get("beam_width", 3))
    if values.get("figures"):
        from ldl.runs.location import check_output_location

        check_output_location(
            Path(values["figures"]), "figures folder", "Choose another place with figures=<folder>."
        )
    loaded = load_run_model(values["run"], needs_metadata="it holds no caption vocabulary")
    run, model, metadata = loaded.run, loaded.model, loaded.metadata
    if "vocabulary" not in metadata or "extractor" not in metadata:
        raise ConfigError(
            f"{run.path} is no captioning run (its data.json has no caption vocabulary and "
            "extractor); use a run of c16e2 or captioning_shapes."
        )
    shape = metadata["feature_shape"]
    regions = int(shape[0]) * int(shape[1])
    if values.get("top_k", 9) > regions:
        raise ConfigError(
            f"top_k={values['top_k']} is more than the {regions} regions of this run's attention "
            f"grid ({int(shape[0])} x {int(shape[1])}); use top_k=1..{regions} (9 by default)."
        )
    from ldl.tasks.captioning.decoding import caption_ids, greedy_captions
    from ldl.tasks.captioning.extractors import ExtractorSpec
    from ldl.tasks.captioning.photos import photo_features
    from ldl.tasks.captioning.report import caption_figures
    from ldl.tasks.captioning.vocabulary import CaptionVocabulary

    vocabulary = CaptionVocabulary(list(metadata["vocabulary"]), int(metadata["max_length"]))
    features = photo_features(images, metadata["extractor"])
    greedy = greedy_captions(
        model, features, vocabulary.start, vocabulary.stop, vocabulary.max_length
    )
    ids = (
        [caption.ids for caption in greedy]
        if decoding == "greedy"
        else caption_ids(
            model,
            features,
            vocabulary.start,
            vocabulary.stop,
            vocabulary.max_length,
            decoding,
            values.get("beam_width", 3),
        )
    )
    folder = Path(values.get("figures") or run.path / "captions")
    spec = metadata["extractor"]
    paths = caption_figures(
        greedy,
        vocabulary,
        images,
        folder,
        "caption_",
        ExtractorSpec.from_mapping(spec),
        (int(shape[0]), int(shape[1])),
        values.get("top_k", 9),
    )
    how = f"beam search, width {values.get('beam_width', 3)}" if decoding == "beam" else "greedy"
    print(f"{run.path.name}: {len(images)} photo(s), {how}")
    for image, row, path in zip(images, ids, paths, strict=True):
        print(f"{image} -> {' '.join(vocabulary.words(row))}  (attention: {path})")
    return 0
