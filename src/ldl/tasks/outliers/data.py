"""c17e1's data: MNIST as pixels / 255, every image its own target, plus the outlier set for the report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ldl.data.datasets import TEST_AS_VALIDATION, PreparedData, ValidationSplit, prepare_arrays
from ldl.data.mnist import load_mnist
from ldl.errors import ConfigError
from ldl.tasks.outliers.outlier_sets import OUTLIER_SETS, load_outlier_images
from ldl.tasks.outliers.report import ReconstructionReport


def prepare_mnist_autoencoder(
    data_config: Mapping[str, Any],
    data_dir: str | Path,
    split: ValidationSplit = TEST_AS_VALIDATION,
) -> PreparedData:
    """MNIST with input = target in [0, 1] (labels unused), and the reconstruction report.

    The outlier set is read before training starts, so a missing file is reported before any time is
    spent; it is cut to as many images as the MNIST test set when max_test_examples is set.
    """
    outlier_set = data_config["outliers"]
    if outlier_set not in OUTLIER_SETS:
        raise ConfigError(
            f"data.outliers={outlier_set!r} is not known; use one of {', '.join(OUTLIER_SETS)}."
        )
    threshold, top_k = data_config["threshold"], data_config["top_k_outliers"]
    if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold <= 0:
        raise ConfigError(f"data.threshold must be a positive number, got {threshold!r}.")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise ConfigError(f"data.top_k_outliers must be an integer >= 0, got {top_k!r}.")
    data = prepare_arrays(
        load_mnist(data_dir, download=bool(data_config["download"])), data_config, split
    )
    outliers = load_outlier_images(outlier_set, data_dir, download=bool(data_config["download"]))
    if data_config["max_test_examples"]:
        outliers = outliers[: data_config["max_test_examples"]]
    report = ReconstructionReport(
        mnist_images=data.x_test,
        outlier_images=(outliers / 255.0).astype("float32"),
        outlier_set=outlier_set,
        threshold=float(threshold),
        top_k_outliers=top_k,
        bins=int(data_config["histogram_bins"]),
    )
    return replace(data, test_report=report)
