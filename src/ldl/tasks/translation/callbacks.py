"""Translate the dataset's fixed sample sentences after every epoch, as the book does (chapter 14).

Added by the c14e1 / c15_transformer configs through the `callbacks` group. The samples (source and
reference text) come from the run's data.json, which the trainer writes before training starts; the
translations go to stdout, translations.txt and TensorBoard (text, one step per epoch).
"""

from __future__ import annotations

from pathlib import Path

from ldl.runs.files import read_json
from ldl.tasks.translation.translate import TranslationVocabulary, translate, write_examples
from ldl.training.periodic_writer import PeriodicWriter


class SampleTranslations(PeriodicWriter):
    """Every `every_epochs` epochs (and after the last one): translate the sample sentences."""

    def __init__(
        self, run_dir: str, decoding: str = "greedy", beam_width: int = 4, every_epochs: int = 1
    ) -> None:
        super().__init__(every_epochs)
        self.run_dir = Path(run_dir)
        self.decoding = decoding
        self.beam_width = int(beam_width)

    def write(self, epoch: int) -> None:
        metadata = read_json(self.run_dir / "data.json")
        samples = metadata.get("samples") or []
        if not samples:
            return
        vocabulary = TranslationVocabulary.from_metadata(metadata)
        predictions = translate(
            self.model,
            vocabulary,
            [[word for word in sample["source"].split(" ") if word] for sample in samples],
            self.decoding,
            self.beam_width,
        )
        examples = [
            {**sample, "prediction": prediction}
            for sample, prediction in zip(samples, predictions, strict=True)
        ]
        write_examples(
            self.run_dir,
            f"Sample translations after epoch {epoch} ({self.decoding}):",
            examples,
            epoch,
        )
