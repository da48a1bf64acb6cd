"""Checksum-verified downloads into the data directory, and the "files are missing" message.

Downloading goes through `keras.utils.get_file` (progress bar, hash check, partial-file cleanup)
rather than hand-written HTTP. This module adds what the runner needs on top: the file lands in the
configured data directory and nowhere else, offline machines fail within seconds, and every failure
is a `DataError` that tells the user which file to put where.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Callable
from pathlib import Path

from ldl.errors import DataError

# Seconds a connection attempt or a stalled read may take before the download is abandoned.
# urllib has no timeout of its own, so without this a half-open network can hang for minutes.
DOWNLOAD_TIMEOUT_S = 30.0


def missing_files_error(
    dataset: str,
    data_dir: Path,
    expected: list[str],
    url: str | None,
    *,
    reason: str | None = None,
) -> DataError:
    """Build the one-paragraph error for a dataset whose files are not in `data_dir`.

    `expected` names the accepted files (alternatives included); `reason` says what was tried
    (download turned off, download failed). The caller raises the returned error.
    """
    message = (
        f"Cannot load the {dataset} dataset: expected {', '.join(expected)} in the data "
        f"directory '{data_dir}'."
    )
    folders = [name for name in _file_names(expected) if (Path(data_dir) / name).is_dir()]
    if folders:
        return DataError(
            f"{message} {', '.join(repr(str(Path(data_dir) / f)) for f in folders)} "
            f"{'is a folder' if len(folders) == 1 else 'are folders'}, not the file the dataset "
            "needs: put the file itself there (not a folder of that name), or pass "
            "data_dir=<path> to use a folder that holds it."
        )
    if reason:
        message += f" {reason.rstrip('.')}."
    if url:
        message += f" Download it from {url} and put it there"
    else:
        message += " Put the file(s) there"
    return DataError(message + ", or pass data_dir=<path> to use a folder that already holds them.")


def _file_names(expected: list[str]) -> list[str]:
    """The file names in `expected`'s descriptions ("a.npz or b.npz (x_train, ...)", "dir/ (...)")."""
    names = []
    for description in expected:
        for name in description.split(" (", 1)[0].split(" or "):
            name = name.strip()
            if name and not name.endswith("/"):
                names.append(name)
    return names


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks so large datasets do not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download_with_keras(
    filename: str,
    url: str,
    sha256: str,
    data_dir: Path,
    subdir: str,
    timeout_s: float,
    failure: Callable[[str], DataError],
) -> str:
    """Keras's get_file (checksum-verified, resumable cache) with a bounded socket timeout; a download
    with the wrong hash is deleted."""
    target = (data_dir / subdir if subdir else data_dir) / filename
    from keras.utils import get_file  # lazy: importing keras loads TensorFlow (seconds)

    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout_s)
    try:
        return get_file(
            fname=filename,
            origin=url,
            file_hash=sha256,
            hash_algorithm="sha256",
            cache_dir=str(data_dir),
            cache_subdir=subdir,
        )
    except Exception as error:
        if target.exists() and sha256_of(target) != sha256:
            target.unlink()  # get_file leaves a download with the wrong hash in place
            raise failure(
                "the downloaded file's sha256 does not match the official one (corrupted or "
                "changed download; it was deleted)"
            ) from error
        raise failure(f"the download failed ({error})") from error
    finally:
        socket.setdefaulttimeout(previous_timeout)


def fetch(
    filename: str,
    url: str,
    sha256: str,
    data_dir: Path,
    subdir: str = "",
    *,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Download `url` to `data_dir/subdir/filename` unless a file with the right sha256 is there.

    Returns the file's path. Raises `DataError` when the folder cannot be written, the download
    fails (no network, missing URL) or the checksum does not match; a corrupt download is deleted
    so it cannot be mistaken for the dataset later.
    """
    if not filename or Path(filename).name != filename:
        raise ValueError(f"filename must be a bare file name, got {filename!r}.")
    if Path(subdir).is_absolute() or ".." in Path(subdir).parts:
        raise ValueError(f"subdir must be a relative folder inside data_dir, got {subdir!r}.")
    data_dir = Path(data_dir).expanduser()
    target_dir = data_dir / subdir if subdir else data_dir
    target = target_dir / filename

    def failure(what: str) -> DataError:
        return DataError(
            f"Could not download {filename} into '{target_dir}': {what}. Download {url} yourself "
            f"(expected sha256 {sha256}) and save it as '{target}', or pass data_dir=<path> to "
            f"use a folder that already holds the dataset's files."
        )

    if target.exists():
        if sha256_of(target) == sha256:
            return target
        raise failure(
            "a file of that name is already there but its sha256 differs from the official one "
            "(the file was kept; delete it to download again)"
        )
    if data_dir.exists() and not data_dir.is_dir():
        raise failure(f"data_dir '{data_dir}' is a regular file, not a folder")
    if not data_dir.is_dir():
        # Downloads go only into a data_dir that exists: a mistyped one is never created.
        raise failure(f"data_dir '{data_dir}' does not exist (create it first to download into it)")
    created = _missing_folders(target_dir)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _remove_empty(created)
        raise failure(f"the folder cannot be created ({error})") from error
    try:
        # get_file silently switches to /tmp/.keras when its cache dir is not writable.
        if not os.access(target_dir, os.W_OK):
            raise failure("the folder is not writable")
        path = _download_with_keras(filename, url, sha256, data_dir, subdir, timeout_s, failure)
        if Path(path).resolve() != target.resolve():
            raise failure(f"Keras saved the file at '{path}' instead")
    except BaseException:
        # A mistyped data_dir must not stay behind as an empty folder after a failed download.
        _remove_empty(created)
        raise
    return target


def _missing_folders(folder: Path) -> list[Path]:
    """The folders `mkdir(parents=True)` would create for `folder`, deepest first."""
    missing = []
    current = Path(os.path.abspath(folder))
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders this download created if they are still empty, deepest first."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
