"""Can a run or sweep folder be created here? Checked before anything is written.

A folder below a regular file, in a read-only folder or on a full disk would otherwise fail deep inside
Hydra or Keras with chained OS errors; here it is one paragraph naming the place and the fix.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from ldl.errors import RunFolderError

# Below this much free space a run cannot even write its config and first metrics reliably.
MIN_FREE_BYTES = 1 << 20


def nearest_existing(path: Path) -> Path:
    """The path itself or its closest ancestor that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_location(
    folder: Path | str, what: str = "run folder", fix: str | None = None
) -> None:
    """Raise RunFolderError if `folder` cannot be created and written; create nothing."""
    folder = Path(folder)
    check_name_lengths(folder, what)
    existing = nearest_existing(folder)
    fix = fix or "Choose another place with hydra.run.dir=<folder> or output_root=<folder>."
    if not existing.is_dir():
        raise RunFolderError(
            f"Cannot create the {what} {folder}: {existing} is a regular file, not a folder. {fix}"
        )
    if not os.access(existing, os.W_OK | os.X_OK) or read_only_mount(existing):
        raise RunFolderError(f"Cannot create the {what} {folder}: {existing} is read-only. {fix}")
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise RunFolderError(
            f"Cannot write the {what} {folder}: the disk holding {existing} is full ({free:,} bytes "
            f"free). Free some space, or {fix[0].lower()}{fix[1:]}"
        )


def check_name_lengths(path: Path | str, what: str = "folder", action: str = "created") -> None:
    """Refuse a path the file system cannot hold: a name longer than its limit (255 bytes on most),
    or a whole path longer than the system's (4096 bytes on Linux), naming the part that is too long."""
    path = Path(os.path.abspath(path))
    existing = nearest_existing_quietly(path)
    name_limit = _limit(existing, "PC_NAME_MAX", 255)
    path_limit = _limit(existing, "PC_PATH_MAX", 4096)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > name_limit:
            raise RunFolderError(
                f"The {what} {_shortened(str(path))} cannot be {action}: the name "
                f"{_shortened(part)} is {size} bytes long and the file system allows {name_limit} "
                "per name. Choose a shorter name."
            )
    size = len(os.fsencode(str(path)))
    if size >= path_limit:
        raise RunFolderError(
            f"The {what} {_shortened(str(path))} cannot be {action}: its path is {size} bytes long "
            f"and the system allows {path_limit - 1}. Choose a shorter path."
        )


def nearest_existing_quietly(path: Path) -> Path:
    """The closest ancestor of `path` whose existence can be checked and that exists."""
    for candidate in (path, *path.parents):
        try:
            if candidate.exists():
                return candidate
        except OSError:  # a name too long to look up
            continue
    return Path(path.anchor or "/")


def _limit(folder: Path, name: str, default: int) -> int:
    try:
        return int(os.pathconf(folder, name))
    except (OSError, ValueError):
        return default


def _shortened(text: str, keep: int = 60) -> str:
    """A long name as its start and end, so a message stays one readable paragraph."""
    if len(text) <= 2 * keep + 20:
        return text
    return f"{text[:keep]}...{text[-keep:]} ({len(text)} characters)"


def read_only_mount(path: Path) -> bool:
    """A read-only file system (os.access says writable to root even there)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def location_error(
    error: OSError, folder: Path | str, what: str = "run folder", fix: str | None = None
) -> RunFolderError:
    """An OSError raised while creating or writing `folder`, as one paragraph."""
    reasons = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exhausted",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.ENOTDIR: "a part of the path is a regular file, not a folder",
        errno.EEXIST: "a file of that name is in the way",
    }
    reason = reasons.get(error.errno or 0, error.strerror or str(error))
    where = error.filename or folder
    fix = fix or (
        "Choose another place with hydra.run.dir=<folder> or output_root=<folder>, or fix the file "
        "system."
    )
    return RunFolderError(f"Cannot write the {what} {folder}: {reason} ({where}). {fix}")
