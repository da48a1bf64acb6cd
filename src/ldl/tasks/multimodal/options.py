"""The multimodal network's choices, without Keras, so `ldl train` refuses a bad one before
TensorFlow loads (ldl.config) and the builder (model.py) uses the same list."""

from __future__ import annotations

from typing import Literal

from ldl.errors import ConfigError

# Where the two modalities meet (chapter 17): early is the book's network.
Fusion = Literal["early", "late"]
FUSIONS: tuple[Fusion, ...] = ("early", "late")


def check_fusion(fusion: object) -> None:
    """Refuse an unknown `model.fusion`."""
    if fusion not in FUSIONS:
        raise ConfigError(
            f"model.fusion={fusion!r} is not known; use early (the book: text and image features "
            "concatenated before the shared Dense layer) or late (each modality through its own "
            "Dense layer, concatenated just before the heads), e.g. model.fusion=late."
        )
