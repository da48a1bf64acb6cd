"""New photos -> region features, with a run's recorded extractor (the same resize, crop and
preprocessing as the cached training images)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ldl.tasks.captioning.extractors import ExtractorSpec, build_extractor
from ldl.tasks.captioning.images import preprocess


def photo_features(paths: Sequence[str], extractor: Mapping[str, Any]) -> np.ndarray:
    spec = ExtractorSpec.from_mapping(dict(extractor))
    images = np.stack([spec.load_image(path) for path in paths])
    return build_extractor(spec)(preprocess(images, spec.preprocessing))
