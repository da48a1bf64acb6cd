"""Hydra's record of a job (`.hydra/`: the config, Hydra's config, the overrides), written only when ldl
goes on to use the run folder.

Hydra writes these files before ldl's code runs. `train.yaml` points Hydra at `.hydra.pending`; once
`train` has chosen and locked the folder, `claim` moves them to `.hydra`. A command that ldl refuses
(another config into an existing run, a folder another process trains, a completed run) leaves the
folder's `.hydra/` as it was, so `ldl summarize` groups a sweep's jobs by what they really ran.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ldl.runs.run_folder import RunFolder
from ldl.runs.selection import HYDRA_DEBRIS, RunMode, remove_empty_parents

PENDING = ".hydra.pending"
FINAL = ".hydra"


class HydraFiles:
    """The pending `.hydra` files of one job's folder."""

    def __init__(self, folder: Path | str, output_root: Path | str | None = None) -> None:
        self.folder = Path(folder)
        self.pending = self.folder / PENDING
        self.output_root = Path(output_root) if output_root is not None else None
        # Created by this command: Hydra's pending files are all there is.
        self.fresh = self.folder.is_dir() and all(
            p.name in (PENDING, "train.log") for p in self.folder.iterdir()
        )
        self.claimed = False

    def claim(self, run: RunFolder, mode: RunMode) -> None:
        """`train` uses this folder: Hydra's files become its `.hydra/` (nothing to do for a completed
        run, which is only reported, or when the run lives in another folder)."""
        if mode is RunMode.COMPLETED or run.path.resolve() != self.folder.resolve():
            self.discard()
            return
        self.keep()

    def keep(self) -> None:
        """Move the pending files to `.hydra/` (a failed sweep job keeps them for its summary)."""
        self.claimed = True
        if not self.pending.is_dir():
            return
        final = self.folder / FINAL
        if final.exists():
            shutil.rmtree(final)
        os.replace(self.pending, final)

    def discard(self) -> None:
        """Remove the pending files, and the folder itself if this command created it for nothing."""
        shutil.rmtree(self.pending, ignore_errors=True)
        if (
            self.fresh
            and self.folder.is_dir()
            and all(p.name in HYDRA_DEBRIS for p in self.folder.iterdir())
        ):
            shutil.rmtree(self.folder, ignore_errors=True)
            remove_empty_parents(self.folder, self.output_root)
