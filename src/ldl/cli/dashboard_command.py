"""`ldl dashboard <sweep folder> [port=8080] [storage=URL]`: optuna-dashboard on a sweep's study.

Serves the study of an Optuna search (`hydra/sweeper=optuna_study`) on 127.0.0.1 only (the dashboard
can edit the study: it is not for other machines' eyes), prints the address and runs until Ctrl-C.
The study's storage is found in the sweep folder (optuna.db or optuna.journal) or in the sweep's
multirun.yaml (a database URL); storage=URL names it outright. port=0 picks a free port. Each trial's
job folder is its user attribute `ldl_run_folder`.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from ldl.cli.arguments import Converter, parse_arguments
from ldl.errors import ConfigError

USAGE = "usage: ldl dashboard <sweep folder> [port=8080] [storage=<study storage URL>]"
HOST = "127.0.0.1"


def port_number(text: str) -> int:
    number = int(text)
    if not 0 <= number <= 65535:
        raise ValueError(text)
    return number


OPTIONS: dict[str, Converter] = {"port": port_number, "storage": str}


def study_storage_url(folder: Path) -> str:
    """The storage URL of the Optuna study a sweep folder holds."""
    from ldl.runs.files import DamagedFileError, read_yaml
    from ldl.sweeps.optuna_study.storage import STUDY_DATABASE, STUDY_JOURNAL, storage_url

    if (folder / STUDY_DATABASE).is_file():
        return storage_url(None, folder.resolve())
    if (folder / STUDY_JOURNAL).is_file():
        return storage_url("journal", folder.resolve())
    try:
        config = read_yaml(folder / "multirun.yaml") if (folder / "multirun.yaml").exists() else {}
    except DamagedFileError:
        config = {}
    sweeper = (config.get("hydra") or {}).get("sweeper") or {}
    if sweeper.get("storage") not in (None, "sqlite", "journal"):
        return str(sweeper["storage"])
    raise ConfigError(
        f"{folder} holds no Optuna study (no optuna.db or optuna.journal, and its multirun.yaml "
        "names no study database). Give the folder of a search run with hydra/sweeper=optuna_study "
        f"(e.g. ldl train -m hparams_search=c5_optuna), or name its storage with storage=URL. {USAGE}"
    )


def make_server(storage_url: str, port: int) -> Any:
    """optuna-dashboard's WSGI application on HOST:port, not yet serving (port 0: a free one)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    import optuna
    from optuna_dashboard import wsgi

    from ldl.sweeps.optuna_study.storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage_url)

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # one line per request is noise
            pass

    try:
        return make_server(HOST, port, wsgi(storage), handler_class=QuietHandler)
    except OSError as error:
        raise ConfigError(
            f"The dashboard cannot listen on {HOST}:{port}: {error.strerror or error}. Choose "
            f"another port (port=8081, or port=0 for any free one). {USAGE}"
        ) from None


def run_dashboard(arguments: list[str]) -> int:
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if arguments else 2
    options = parse_arguments(arguments[1:], OPTIONS, USAGE).values
    folder = Path(arguments[0])
    if not folder.is_dir():
        what = "a regular file" if folder.exists() else "not there"
        raise ConfigError(f"{folder} is {what}, not a sweep folder. {USAGE}")
    url = options.get("storage") or study_storage_url(folder)
    server = make_server(url, options.get("port", 8080))
    address = f"http://{HOST}:{server.server_port}/"
    print(f"optuna-dashboard for {folder} at {address} (Ctrl-C stops it)", flush=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(timeout=0.5)
    except KeyboardInterrupt:
        print("ldl dashboard: stopped.", file=sys.stderr)
    finally:
        server.shutdown()
        server.server_close()
    return 0
