"""A Hydra callback that summarizes a sweep as soon as its last job has finished."""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class SummarizeSweep(Callback):
    """Writes summary.csv, summary.md and the sweep's HParams config, and prints the table."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from pathlib import Path

        from ldl.sweeps.architecture_search.state import STATE_FILE

        if (Path(config.hydra.sweep.dir) / STATE_FILE).exists():
            # An architecture search wrote its own summary (search.md); a table of its hundreds of
            # one-job configurations would say nothing more.
            print(f"Search results written to {config.hydra.sweep.dir}/search.md.", flush=True)
            return
        from ldl.sweeps.hparams import write_sweep_hparams
        from ldl.sweeps.optuna_study.table import write_study_text
        from ldl.sweeps.summary import summarize_sweep
        from ldl.sweeps.summary_page import format_summary, write_summary

        summary = summarize_sweep(config.hydra.sweep.dir)
        if not summary.jobs:
            return
        write_summary(summary)
        write_sweep_hparams(summary)
        write_study_text(summary.folder)  # an Optuna study's summary in TensorBoard's text tab
        print(format_summary(summary), flush=True)
        print(f"Summary written to {summary.folder}/summary.md and summary.csv.", flush=True)
