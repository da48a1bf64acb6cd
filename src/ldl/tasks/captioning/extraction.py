"""`ldl train experiment=c16e1`: extract and cache the features of every captioned image, no training.

Resumable: a rerun skips the feature files that exist, so an interrupted extraction continues where it
stopped. Memory stays bounded (one batch of images at a time).
"""

from __future__ import annotations

import resource
from typing import Any

from omegaconf import DictConfig

from ldl.runs.reporter import Say
from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import RunMode
from ldl.tasks.captioning.data import cache_folder, dataset_folder, prepare_features


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_feature_extraction(
    cfg: DictConfig, run: RunFolder, mode: RunMode, say: Say
) -> dict[str, Any]:
    """The `feature_extraction` runner: (cfg, run folder, mode, say) -> the run's metrics. A rerun
    continues where an interrupted one stopped, whatever the run folder's mode."""
    data = cfg.data
    if data.name == "shapes_captions":
        from ldl.tasks.captioning.shapes import ensure_shapes_dataset

        ensure_shapes_dataset(
            dataset_folder(data, cfg.data_dir), int(data.images), int(data.generator_seed)
        )
    cache_dir = cache_folder(data, cfg.data_dir)
    say(f"images: {dataset_folder(data, cfg.data_dir)} | feature cache: {cache_dir}")
    _, statistics = prepare_features(data, cfg.data_dir, progress=cfg.trainer.verbose != 0)
    say(
        f"{statistics['images']} images: {statistics['extracted']} extracted, "
        f"{statistics['skipped']} already cached"
    )
    from ldl import tf_setup

    return {
        **{f"extraction/{key}": value for key, value in statistics.items()},
        "train_seconds": float(statistics.get("extraction_seconds", 0.0)),
        "peak_rss_mb": peak_rss_mb(),
        "device": tf_setup.device_description(),
        "cache_dir": str(cache_dir),
    }
