"""TensorBoard HParams data for a whole sweep: which hyperparameters vary and which metrics to show.

Each job's run folder already logs its own HParams session (all hyperparameters, final val/ and test/
scalars). This experiment-level config, written at the top of the sweep folder, tells TensorBoard which
columns matter, so `tensorboard --logdir <sweep folder>` opens on a readable table, parallel coordinates and
scatter plots.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from ldl.runs.files import DamagedFileError, read_yaml
from ldl.sweeps.summary import SweepSummary


def varying_hyperparameters(summary: SweepSummary) -> dict[str, list[Any]]:
    """Hyperparameter keys (as the runs log them) whose values differ between jobs."""
    from ldl.config import hparams_of

    values: dict[str, set] = {}
    for job in summary.jobs:
        config_path = job.folder / "config.yaml"
        if not config_path.exists():
            continue
        try:
            config = OmegaConf.create(read_yaml(config_path))
        except DamagedFileError:  # listed as damaged in the summary; the others still count
            continue
        if not isinstance(config, DictConfig):
            continue
        for key, value in hparams_of(config).items():
            values.setdefault(key, set()).add(value)
    return {key: sorted(v, key=str) for key, v in values.items() if len(v) > 1}


def write_sweep_hparams(summary: SweepSummary) -> None:
    from ldl.tf_setup import import_tensorflow

    tf = import_tensorflow()
    from tensorboard.plugins.hparams import api as hp

    varying = varying_hyperparameters(summary)
    hparams = [
        hp.HParam(key, hp.Discrete(values))
        if len({type(v) for v in values}) == 1 and isinstance(values[0], int | float | str | bool)
        else hp.HParam(key)
        for key, values in varying.items()
    ]
    metric_keys = sorted(
        {
            key
            for job in summary.jobs
            for key, value in job.metrics.items()
            if key.startswith(("val/", "test/")) and isinstance(value, int | float)
        }
    )
    metrics = [hp.Metric(key, display_name=key) for key in metric_keys]
    with tf.summary.create_file_writer(str(summary.folder)).as_default():
        hp.hparams_config(hparams=hparams, metrics=metrics)
