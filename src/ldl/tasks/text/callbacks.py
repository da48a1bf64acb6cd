"""Keras callbacks for text models: sample completions and the embedding projector in TensorBoard.

They are added by experiment configs through the `callbacks` group (a `_target_` spec each), so the
generic trainer knows nothing about text: both read the run's vocabulary from `data.json`, which the
trainer writes before training starts, and write into the run folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ldl import tf_setup
from ldl.training.periodic_writer import PeriodicWriter

tf = tf_setup.import_tensorflow()


from ldl.runs.files import SAMPLES_FILE, SAMPLES_HEADER, read_json  # noqa: E402
from ldl.tasks.text.embeddings import embedding_matrix  # noqa: E402
from ldl.tasks.text.generation import Vocabulary, describe, format_completions, generate  # noqa: E402

PROJECTOR_METADATA = "metadata.tsv"


class SampleCompletions(PeriodicWriter):
    """Complete prompts with the model being trained; write them to TensorBoard (text), samples.txt
    and stdout, at the end of training and optionally every `every_epochs` epochs.

    The decoding options are those of `ldl generate` (decoding, length, beam_width, temperature,
    samples, mode, seed).
    """

    def __init__(
        self,
        run_dir: str,
        prompts: Sequence[str],
        decoding: str = "beam",
        length: int = 11,
        beam_width: int = 8,
        temperature: float = 1.0,
        samples: int = 1,
        mode: str = "auto",
        seed: int = 0,
        every_epochs: int = 0,
    ) -> None:
        super().__init__(every_epochs)
        self.run_dir = Path(run_dir)
        self.prompts = list(prompts)
        self.options: dict[str, Any] = {
            "decoding": decoding,
            "length": int(length),
            "beam_width": int(beam_width),
            "temperature": float(temperature),
            "samples": int(samples),
            "mode": mode,
            "seed": seed,
        }

    def write(self, epoch: int) -> None:
        vocabulary = Vocabulary.from_metadata(read_json(self.run_dir / "data.json"))
        options = self.options
        lines = [
            f"{SAMPLES_HEADER} epoch {epoch} ("
            + describe(
                options["decoding"],
                options["length"],
                options["beam_width"],
                options["temperature"],
            )
            + "):"
        ]
        for prompt in self.prompts:
            completions = generate(self.model, vocabulary, prompt, **options)
            lines += format_completions(vocabulary, prompt, completions)
        print("\n".join(lines), flush=True)
        with (self.run_dir / SAMPLES_FILE).open("a") as stream:
            stream.write("\n".join(lines) + "\n")
        writer = tf.summary.create_file_writer(str(self.run_dir / "tensorboard"))
        with writer.as_default():
            tf.summary.text("samples/completions", "\n\n".join(f"`{x}`" for x in lines), step=epoch)
        writer.close()


class EmbeddingProjector(PeriodicWriter):
    """Export the model's Embedding weights, labelled with the vocabulary, for TensorBoard's projector.

    Writes a TensorFlow checkpoint of the matrix, metadata.tsv (one label per row) and
    projector_config.pbtxt into the run's tensorboard/ folder every `every_epochs` epochs and at the end
    (the latest export replaces the previous one).
    """

    def __init__(self, run_dir: str, every_epochs: int = 1) -> None:
        super().__init__(every_epochs)
        self.log_dir = Path(run_dir) / "tensorboard"
        self.metadata_path = Path(run_dir) / "data.json"

    def write(self, epoch: int) -> None:
        from tensorboard.plugins import projector

        matrix = embedding_matrix(self.model)
        labels = list(read_json(self.metadata_path).get("vocabulary", []))
        labels += [f"<row {row}>" for row in range(len(labels), len(matrix))]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.log_dir / PROJECTOR_METADATA).write_text(
            "".join(f"{label or '<empty>'}\n" for label in labels[: len(matrix)])
        )
        checkpoint = tf.train.Checkpoint(embedding=tf.Variable(matrix))
        manager = tf.train.CheckpointManager(
            checkpoint, str(self.log_dir), max_to_keep=1, checkpoint_name="embedding.ckpt"
        )
        manager.save(checkpoint_number=epoch)
        config = projector.ProjectorConfig()
        embedding = config.embeddings.add()
        embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
        embedding.metadata_path = PROJECTOR_METADATA
        projector.visualize_embeddings(str(self.log_dir), config)
