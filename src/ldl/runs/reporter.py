"""What a run says: printed and kept in the run folder's output.txt, the run's own record."""

from __future__ import annotations

from typing import Any, Protocol

from ldl.runs.run_folder import RunFolder


class Say(Protocol):
    """Report one line of a run (printed and appended to output.txt)."""

    def __call__(self, message: str = "") -> None: ...


def make_reporter(run: RunFolder) -> Say:
    """Print a line and keep it in the run folder's output.txt."""

    def say(message: str = "") -> None:
        print(message, flush=True)
        with run.log_path.open("a") as log:
            log.write(message + "\n")

    return say


def print_summary(metrics: dict[str, Any], say: Say) -> None:
    """One `Result:` line: the test metrics, or the other final numbers when there are none."""
    shown = [
        key
        for key in metrics
        if key.startswith(("test/", "val/", "train/", "output/", "weights/w"))
        and isinstance(metrics[key], int | float)
        and not isinstance(metrics[key], bool)
    ]
    finals = [key for key in shown if key.startswith("test/")] or shown
    parts = [
        f"{key} = {metrics[key]}"
        if isinstance(metrics[key], int)
        else f"{key} = {metrics[key]:.4f}"
        for key in finals
    ]
    if parts:
        say("Result: " + ", ".join(parts))
