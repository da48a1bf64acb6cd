"""The end of `ldl train -m hparams_search=book`: the reproduction report of the sweep's jobs, written to
reproduction.md in the sweep folder (ldl.runs.book_table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

REPORT_FILE = "reproduction.md"


class WriteBookReport(Callback):
    """After the sweep's last job: every experiment the sweep ran next to the book's numbers."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from ldl.config.experiments import without_running_hydra
        from ldl.runs.book_table import render_page
        from ldl.runs.files import atomic_write_text

        folder = Path(str(config.hydra.sweep.dir))
        swept = OmegaConf.select(config, "hydra.sweeper.params.experiment", default="") or ""
        only = {name.strip() for name in str(swept).split(",") if name.strip()}
        command = f"ldl report {folder} book=table"
        with without_running_hydra():  # the report composes the experiments' configs
            page = render_page([folder], command, only or None)
        atomic_write_text(folder / REPORT_FILE, page)
        print(f"Reproduction report written to {folder / REPORT_FILE}.", flush=True)
