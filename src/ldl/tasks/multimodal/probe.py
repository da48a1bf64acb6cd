"""The book's probe of the multimodal network (chapter 17): does the text change the answer?

Test example 0 (a 7) is classified twice, once with the text `upper half` (true for a 7) and once with
`lower half` (false): the book prints the digits sorted by probability for both, and in many of its runs
the misleading text turns the 7 into a 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

PROBE_TEXTS = ("upper half", "lower half")


@dataclass
class TextProbe:
    """Called with (model, run folder) after training; writes probe.txt, returns `probe/...` metrics."""

    image: np.ndarray  # test example 0, standardized like the training images
    label: int
    encoded_texts: dict[str, np.ndarray]  # text -> its two word ids

    def __call__(self, model: Any, run_dir: Path) -> dict[str, Any]:
        lines = [f"test example 0: label {self.label}"]
        metrics: dict[str, Any] = {}
        for text, ids in self.encoded_texts.items():
            inputs = {"image": self.image[None], "text": ids[None]}
            probabilities = np.asarray(model.predict(inputs, verbose=0))[0]
            order = np.argsort(probabilities, kind="stable")[::-1]
            ranked = ", ".join(f"{digit}: {probabilities[digit]:.3f}" for digit in order)
            lines.append(f"with '{text}': {ranked}")
            key = text.replace(" ", "_")
            metrics[f"probe/{key}/prediction"] = int(order[0])
            metrics[f"probe/{key}/probability"] = float(probabilities[order[0]])
        (run_dir / "probe.txt").write_text("\n".join(lines) + "\n")
        print("\n".join(lines), flush=True)
        return metrics
