"""Caption the sample images after every epoch (the book captions its four photos each epoch).

The samples are the first held-out images (their cached features) named in the run's data.json, plus
any photos of your own (`images`: run through the run's extractor once, at the start). Captions go to
stdout, captions.txt and TensorBoard (text), attention figures to captions/epoch_<n>_<image>.png and
TensorBoard (images).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ldl.runs.files import read_json
from ldl.tasks.captioning.decoding import greedy_captions
from ldl.tasks.captioning.extractors import ExtractorSpec
from ldl.tasks.captioning.report import (
    FIGURES_FOLDER,
    caption_figures,
    load_feature_batch,
    write_captions,
)
from ldl.tasks.captioning.vocabulary import CaptionVocabulary
from ldl.training.periodic_writer import PeriodicWriter


class SampleCaptions(PeriodicWriter):
    def __init__(
        self,
        run_dir: str,
        images: list[str] | None = None,
        every_epochs: int = 1,
        figures: bool = True,
        top_k: int = 9,
    ) -> None:
        super().__init__(every_epochs)
        self.run_dir = Path(run_dir)
        self.extra_images = [str(Path(p).expanduser()) for p in (images or [])]
        self.figures = figures
        self.top_k = int(top_k)
        self._samples: tuple[list[str], np.ndarray, list[str]] | None = None

    def _load_samples(self) -> tuple[list[str], np.ndarray, list[str]]:
        if self._samples is None:
            metadata = read_json(self.run_dir / "data.json")
            samples = metadata.get("samples") or []
            images = [s["image"] for s in samples]
            references = [s["reference"] for s in samples]
            parts = [load_feature_batch([s["features"] for s in samples])] if samples else []
            if self.extra_images:
                from ldl.tasks.captioning.photos import photo_features

                parts.append(photo_features(self.extra_images, metadata["extractor"]))
                images += self.extra_images
                references += [""] * len(self.extra_images)
            features = np.concatenate(parts) if parts else np.zeros((0,))
            self._samples = (images, features, references)
        return self._samples

    def write(self, epoch: int) -> None:
        metadata = read_json(self.run_dir / "data.json")
        images, features, references = self._load_samples()
        if not images:
            return
        vocabulary = CaptionVocabulary(list(metadata["vocabulary"]), int(metadata["max_length"]))
        captions = greedy_captions(
            self.model, features, vocabulary.start, vocabulary.stop, vocabulary.max_length
        )
        paths = []
        if self.figures:
            side = int(metadata["feature_shape"][0])
            paths = caption_figures(
                captions,
                vocabulary,
                images,
                self.run_dir / FIGURES_FOLDER,
                f"epoch_{epoch:03d}_",
                ExtractorSpec.from_mapping(metadata["extractor"]),
                (side, int(metadata["feature_shape"][1])),
                self.top_k,
            )
        examples = [
            {
                "image": Path(image).name,
                "reference": reference,
                "prediction": " ".join(vocabulary.words(caption.ids)),
            }
            for image, reference, caption in zip(images, references, captions, strict=True)
        ]
        write_captions(
            self.run_dir,
            f"Sample captions after epoch {epoch} (greedy):",
            examples,
            paths,
            epoch,
            "captions/samples",
        )
