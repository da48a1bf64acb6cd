"""Where a study lives: SQLite or a journal file in the sweep folder, or a database URL.

- `storage: null` (or `sqlite`): `optuna.db` in the sweep folder, Optuna's RDBStorage on SQLite.
- `storage: journal`: `optuna.journal` in the sweep folder, Optuna's JournalStorage (an append-only
  file with its own lock file), for shared cluster file systems where SQLite's locking is unsafe.
- any SQLAlchemy URL (`postgresql://user@host/optuna`, `sqlite:///path.db`) or `journal:///path`.

A storage that cannot be opened (not a database, a journal that is not Optuna's, a URL no driver
serves, a database of an older Optuna) is refused in one paragraph before any trial starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ldl.errors import ConfigError, LdlError

STUDY_DATABASE = "optuna.db"
STUDY_JOURNAL = "optuna.journal"
JOURNAL_SCHEME = "journal://"


class StudyStorageError(LdlError):
    """The study's storage cannot be used as it is (damaged, of another Optuna, unreachable)."""


def storage_url(option: str | None, sweep_dir: Path) -> str:
    """The storage URL the `storage` option names, for a sweep in `sweep_dir`."""
    if option is None or option == "sqlite":
        return f"sqlite:///{sweep_dir / STUDY_DATABASE}"
    if option == "journal":
        return f"{JOURNAL_SCHEME}{sweep_dir / STUDY_JOURNAL}"
    return option


def check_storage_option(option: Any) -> None:
    """Refuse a `storage` value that names no storage at all (before any job)."""
    if option is None or option in ("sqlite", "journal"):
        return
    text = str(option)
    if text.startswith(JOURNAL_SCHEME) and len(text) > len(JOURNAL_SCHEME):
        return
    if "://" not in text:
        raise ConfigError(
            f"hydra.sweeper.storage={text} names no storage. Use null or sqlite (optuna.db in the "
            "sweep folder), journal (optuna.journal in the sweep folder), a database URL such as "
            "postgresql://user@host/optuna, or journal:///path/to/file.journal (docs/clusters.md)."
        )


def check_storage(url: str) -> None:
    """Refuse a storage that cannot be used, reading only (a refused storage is left as it was):
    a journal that is not Optuna's, a file that is not a SQLite database, a database of Optuna 2,
    a URL no installed driver serves."""
    if url.startswith(JOURNAL_SCHEME):
        path = Path(url[len(JOURNAL_SCHEME) :])
        if path.is_dir():
            raise StudyStorageError(f"The study journal {path} is a folder; it must be a file.")
        if path.is_file() and path.stat().st_size:
            _check_journal_lines(path)
        return
    import sqlalchemy.engine
    import sqlalchemy.exc

    try:
        sqlalchemy.engine.make_url(url).get_dialect()
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError, ImportError):
        raise _unknown_url(url) from None
    database = Path(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else None
    if database is not None and database.is_file():
        _check_sqlite_file(url, database)


def _check_sqlite_file(url: str, path: Path) -> None:
    import contextlib
    import re
    import sqlite3

    try:
        with contextlib.closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
            version = None
            if "alembic_version" in tables:
                version = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise _damaged(url, str(error)) from None
    if version and re.match(r"v[0-2]\.", str(version[0])):
        raise _old_schema(url)


def _unknown_url(url: str) -> ConfigError:
    return ConfigError(
        f"hydra.sweeper.storage={url} is not a storage URL ldl can open (no database driver "
        "for it). Use null (SQLite in the sweep folder), journal, sqlite:///path.db, "
        "postgresql://user@host/optuna (with its driver installed) or journal:///path."
    )


def _old_schema(url: str) -> StudyStorageError:
    return StudyStorageError(
        f"The study database {url} was written by an older Optuna (its tables are of an earlier "
        "schema), which this version of ldl cannot use as it is. Upgrade it in place (make a "
        "copy first if an older ldl still needs it) with: optuna storage upgrade --storage "
        f"{url} ; then run the same command again to continue the study."
    )


def _damaged(url: str, problem: str) -> StudyStorageError:
    return StudyStorageError(
        f"The study database {url} cannot be read: {problem}. If it is damaged, move it away (or "
        "choose another sweep folder with hydra.sweep.dir=...) to start a new study there."
    )


def open_storage(url: str) -> Any:
    """Optuna's storage for `url`; refused in one paragraph if it cannot be used."""
    check_storage(url)
    if url.startswith(JOURNAL_SCHEME):
        return _journal(Path(url[len(JOURNAL_SCHEME) :]))
    return _database(url)


def _journal(path: Path) -> Any:
    import optuna
    from optuna.storages.journal import JournalFileBackend

    try:
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    except (ValueError, KeyError, TypeError) as error:
        raise StudyStorageError(
            f"{path} is not a journal Optuna can read ({error}). Move it away (or choose another "
            "sweep folder with hydra.sweep.dir=...) to start a new study there."
        ) from None


def _check_journal_lines(path: Path) -> None:
    """Every complete line of an Optuna journal is a JSON object with an op_code."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                break  # a writer killed mid-line: Optuna skips the partial last line
            try:
                record = json.loads(line)
            except (UnicodeDecodeError, json.JSONDecodeError):
                record = None
            if not isinstance(record, dict) or "op_code" not in record:
                raise StudyStorageError(
                    f"{path} is not an Optuna journal (line {number} is not one of its records). "
                    "Move it away (or choose another sweep folder with hydra.sweep.dir=...) to "
                    "start a new study there."
                )


def _database(url: str) -> Any:
    import optuna
    import sqlalchemy.exc

    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else None
    try:
        return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError, ImportError):
        raise _unknown_url(url) from None
    except RuntimeError as error:
        if "optuna storage upgrade" not in str(error):
            raise
        raise _old_schema(url) from None
    except sqlalchemy.exc.OperationalError as error:
        raise StudyStorageError(
            f"The study database {url} cannot be opened: {_first_line(error)}. Check that it is "
            "reachable and writable."
        ) from None
    except sqlalchemy.exc.DatabaseError as error:
        raise _damaged(url, _first_line(error)) from None


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0].rstrip(".") if text else type(error).__name__
