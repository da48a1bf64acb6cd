"""Hostile-input testing: run `ldl` as a careless user would and check it refuses cleanly.

Every case checks the same four things: the exit code, no Python traceback, a message naming the
problem, and that every run and sweep folder it was not asked to change is byte-identical afterwards
(`tree_digest` hashes a folder tree's files by content and lists its folders, so a new empty date
folder or a rewritten `.hydra/overrides.yaml` shows up as a difference).

The commands run in this process (`helpers.run_cli`, the harness's in-process form), exactly as the `ldl`
entry point runs them, so a case costs a fraction of a second instead of a fresh TensorFlow import; an
exception escaping `main` is what a user would see as a traceback, and fails the case.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import TINY, Outcome, run_cli

TRACEBACK_MARKERS = ("Traceback (most recent call last)", "HYDRA_FULL_ERROR")


def tree_digest(root: Path | str, exclude: tuple[Path, ...] = ()) -> dict[str, str]:
    """{relative path: sha256 of the file, or "<folder>"} for everything below `root`."""
    root = Path(root)
    excluded = tuple(Path(p).resolve() for p in exclude)
    digest: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        resolved = path.resolve()
        if any(resolved == e or e in resolved.parents for e in excluded):
            continue
        key = str(path.relative_to(root))
        if path.is_dir():
            digest[key] = "<folder>"
        elif path.is_file():
            digest[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            digest[key] = "<other>"
    return digest


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The paths added, removed or rewritten between two digests."""
    keys = set(before) | set(after)
    return sorted(k for k in keys if before.get(k) != after.get(k))


def assert_clean(outcome: Outcome, code: int, *fragments: str) -> None:
    """Exit `code`, no traceback, and every fragment in what the command printed."""
    if outcome.error is not None:
        raise AssertionError(f"traceback: {outcome.error!r}") from outcome.error
    for marker in TRACEBACK_MARKERS:
        assert marker not in outcome.err and marker not in outcome.out, outcome.err
    assert outcome.code == code, (outcome.code, outcome.err[-2000:], outcome.out[-2000:])
    printed = outcome.err + outcome.out
    for fragment in fragments:
        assert fragment in printed, (fragment, printed[-3000:])


def assert_refused(
    root: Path,
    arguments: tuple[str | Path, ...],
    *fragments: str,
    cwd: Path | None = None,
    exclude: tuple[Path, ...] = (),
) -> Outcome:
    """The command exits 2 with one paragraph naming the problem, and nothing below `root` changes."""
    before = tree_digest(root, exclude)
    outcome = run_cli(*arguments, cwd=cwd or root)
    assert_clean(outcome, 2, *fragments)
    assert outcome.err.strip().startswith("ldl "), outcome.err
    assert changed(before, tree_digest(root, exclude)) == []
    return outcome


def copy_folder(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


# --- File-system faults that need a real file system ------------------------------------------------


def _mount(target: Path, options: str) -> bool:
    """Mount a small tmpfs at `target` (root only); False where that is not possible."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    target.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def _unmount(target: Path) -> None:
    subprocess.run(["umount", str(target)], capture_output=True)


@contextlib.contextmanager
def read_only_folder(parent: Path):
    """A folder nothing can be written into: a read-only tmpfs as root, chmod 555 otherwise."""
    folder = parent / "read_only"
    if _mount(folder, "ro,size=64k"):
        try:
            yield folder
        finally:
            _unmount(folder)
        return
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("cannot make a read-only folder here (root without mount)")
        yield folder
    finally:
        folder.chmod(0o755)


@contextlib.contextmanager
def full_disk(parent: Path):
    """A folder on a file system with no space left (a filled tmpfs; root only)."""
    folder = parent / "full_disk"
    if not _mount(folder, "size=64k"):
        pytest.skip("a full file system needs a tmpfs mount (root)")
    try:
        with contextlib.suppress(OSError), open(folder / "filler", "wb", buffering=0) as filler:
            while True:
                filler.write(b"\0" * 4096)
        yield folder
    finally:
        _unmount(folder)


def live_process() -> subprocess.Popen:
    """A process that stays alive while a test uses its id as a lock owner."""
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


# --- The world: a working directory with data and run folders of every kind ---------------------------


@dataclass
class World:
    """A user's working directory: `data/` (the default data_dir), finished and unfinished runs, a text
    and a translation run, and a finished k-fold sweep. Cases run from `root` and must leave it as it
    was (those that need to damage something damage a copy outside it)."""

    root: Path
    data: Path
    done: Path  # a completed c6e1 run
    unfinished: Path  # a c6e1 run that crashed after epoch 2 of 3 (checkpoints of epochs 1 and 2)
    text_run: Path  # a tiny completed c11e1 (characters) run, once ensure_inference_runs() ran
    translation_run: Path  # a tiny completed c14e1 run, likewise
    sweep: Path  # a finished 2 configurations x 2 folds sweep
    glove: Path

    def ensure_inference_runs(self) -> None:
        """Train the text and translation runs (20 s) the first time a case needs them, so the quick
        cases (bad values) do not wait for them."""
        if not self.text_run.is_dir():
            _ok(self.root, "train", "experiment=c11e1", "model.units=[8,8]",
                "model.recurrent_dropout=0.0", "trainer.epochs=1", "data.window_length=12",
                "data.max_train_examples=256", *QUICK, "hydra.run.dir=runs/text")  # fmt: skip
        if not self.translation_run.is_dir():
            _ok(self.root, "train", "experiment=c14e1", "model.embedding_dim=8",
                "model.layer_size=16", "trainer.epochs=1", "data.max_words=40",
                "data.sample_size=4", *QUICK, "hydra.run.dir=runs/translation")  # fmt: skip


def _ok(root: Path, *arguments: str) -> None:
    assert_clean(run_cli(*arguments, cwd=root), 0)


# Quick versions of the book's experiments (their configs are tested in full elsewhere): the debug=tiny
# preset (one epoch unless a case says otherwise, seed 0, no TensorBoard, quiet).
QUICK = (TINY,)
C6E1 = ("experiment=c6e1", *QUICK)
UNFINISHED = (
    *C6E1,
    "trainer.epochs=3",
    "trainer.checkpoint_seconds=0",  # checkpoints of epochs 1 and 2, not only by time
    "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 2, fresh_only: true}",
)
SWEEP = (
    "-m",
    "experiment=c6_conf1",
    "trainer.epochs=1",
    "trainer.seed=0",
    "logger=none",
    "trainer.verbose=0",
    "optimizer.learning_rate=0.001,0.002",
    "cv.k=2",
    "cv.fold=0,1",
)


def build_world(root: Path) -> World:
    from fixtures import write_boston_npz, write_mnist_idx
    from sequence_fixtures import write_frankenstein, write_glove
    from translation_fixtures import write_fra_txt

    data = root / "data"
    write_mnist_idx(data / "mnist", n_train=200, n_test=50)
    write_boston_npz(data, n=60)
    write_frankenstein(data, sentences=80)
    write_fra_txt(data, count=120)
    write_glove(data)

    _ok(root, "train", *C6E1, "trainer.epochs=2", "hydra.run.dir=runs/done")
    crashed = run_cli("train", *UNFINISHED, "hydra.run.dir=runs/unfinished", cwd=root)
    assert isinstance(crashed.error, RuntimeError), crashed
    _ok(root, "train", *SWEEP)
    (sweep,) = (root / "outputs" / "multirun").iterdir()
    return World(
        root=root,
        data=data,
        done=root / "runs" / "done",
        unfinished=root / "runs" / "unfinished",
        text_run=root / "runs" / "text",
        translation_run=root / "runs" / "translation",
        sweep=sweep,
        glove=data / "glove.6B.100d.txt",
    )
