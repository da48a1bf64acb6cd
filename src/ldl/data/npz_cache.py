"""Decompressed copies of big compressed `.npz` archives, so that only the first run decompresses them.

CIFAR-10 rebuilt from JPEGs comes as an LZMA-compressed `.npz`: np.load spends about 7 s decompressing
its 184 MB on a 2-core machine, at the start of every run and of every sweep job. After the first read
the arrays are kept as plain `.npy` files in ldl's cache folder (`LDL_CACHE_DIR`, else
`$XDG_CACHE_HOME/ldl`, else `~/.cache/ldl`; `npz/` in it), under a name made from the archive's
absolute path, size and modification time, so a changed archive is read afresh. The archive stays the
source of truth: a cache that cannot be written (read-only or full disk) or a damaged cached file is
passed over without an error, and deleting the folder only costs the next run its decompression.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

# Archives below this size decompress in well under a second; caching them would only fill the disk.
MIN_CACHED_BYTES = 32 * 2**20


def cache_root() -> Path:
    """ldl's cache folder: LDL_CACHE_DIR, else $XDG_CACHE_HOME/ldl, else ~/.cache/ldl."""
    if os.environ.get("LDL_CACHE_DIR"):
        return Path(os.environ["LDL_CACHE_DIR"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ldl"


def _entry(path: Path) -> Path:
    status = path.stat()
    identity = f"{path.resolve()}\0{status.st_size}\0{status.st_mtime_ns}"
    return cache_root() / "npz" / hashlib.sha256(identity.encode()).hexdigest()[:32]


def worth_caching(path: Path, archive: zipfile.ZipFile) -> bool:
    """A big archive (`archive`, open, read from `path`) with compressed members: np.savez_compressed,
    or LZMA as above."""
    return path.stat().st_size >= MIN_CACHED_BYTES and any(
        info.compress_type != zipfile.ZIP_STORED for info in archive.infolist()
    )


def read_cached(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The cached arrays `keys` of the archive at `path`; None when any is missing or damaged."""
    try:
        entry = _entry(path)
        return {key: np.load(entry / f"{key}.npy", allow_pickle=False) for key in keys}
    except (OSError, ValueError, EOFError):
        return None


def write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Keep `arrays`, read from the archive at `path`, for the next run; no error if that fails."""
    try:
        entry = _entry(path)
        entry.mkdir(parents=True, exist_ok=True)
        for key, array in arrays.items():
            _write_atomically(entry / f"{key}.npy", array)
    except OSError:
        pass  # the archive is still there to be read next time


def _write_atomically(target: Path, array: np.ndarray) -> None:
    """Write under a temporary name, then rename: a concurrent job never reads half a file."""
    descriptor, name = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as file:
            np.save(file, array, allow_pickle=False)
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
