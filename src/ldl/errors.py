"""Errors that reach the user as one readable paragraph instead of a traceback.

Anything the user can fix (a config value, a missing file, a diverged run) raises a subclass of
`LdlError`; the command-line layer prints its message and exits with `exit_code`, 2 for every ldl error
(the code Hydra's and argparse's usage errors use too), 130 for an interruption.
"""

from __future__ import annotations


class LdlError(Exception):
    """A problem the user can fix; the message says what happened and how to fix it."""

    exit_code = 2
    # How the command line introduces the message: `ldl train: error: ...`.
    label = "error"


class ConfigError(LdlError):
    """A config value is missing, of the wrong type or out of range."""


class DataError(LdlError):
    """A dataset file is missing, truncated or not in the expected format."""


class TrainingDivergedError(LdlError):
    """The loss became NaN or infinite."""


class RunFolderError(LdlError):
    """A run folder cannot be used (wrong config for a resume, nothing to evaluate, disk full)."""


class StoppedError(LdlError):
    """A stop signal (Ctrl-C, SIGTERM, ...) ended a run or a sweep; the same command continues it."""

    exit_code = 130
    label = ""  # the message says it: "Stopped by Ctrl-C (SIGINT): ..."
