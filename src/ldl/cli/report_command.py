"""`ldl report <folder>`: every run below a folder next to what the book reports, as a Markdown table."""

from __future__ import annotations

from pathlib import Path

from ldl.errors import ConfigError
from ldl.runs.files import read_json


def book_rows(root: Path) -> list[list[str]]:
    """One row per (run, metric the book reports), read from the runs' metrics.json files."""
    rows = []
    for metrics_path in sorted(root.glob("**/metrics.json")):
        metrics = read_json(metrics_path)
        run = str(metrics_path.parent.relative_to(root)) or "."
        reported = [key.removeprefix("book/") for key in metrics if key.startswith("book/")]
        if not reported:
            rows.append(
                [
                    str(metrics.get("experiment", "?")),
                    run,
                    metrics.get("status", "?"),
                    "",
                    "",
                    "",
                    "",
                ]
            )
        for metric in reported:
            ours = metrics.get(metric)
            rows.append(
                [
                    str(metrics.get("experiment", "?")),
                    run,
                    str(metrics.get("status", "?")),
                    metric,
                    "-" if ours is None else f"{ours:.4g}",
                    f"{metrics[f'book/{metric}']:.4g}",
                    str(metrics.get(f"book_verdict/{metric}", "")),
                ]
            )
    return rows


def run_report(arguments: list[str]) -> int:
    if len(arguments) != 1 or arguments[0] in ("-h", "--help"):
        print("usage: ldl report <folder with run folders, e.g. outputs>")
        return 0 if arguments and arguments[0] in ("-h", "--help") else 2
    root = Path(arguments[0])
    if not root.is_dir():
        raise ConfigError(
            f"{root} is not a folder. Give the folder that holds run folders, e.g. outputs."
        )
    rows = book_rows(root)
    if not rows:
        print(f"No run folders (metrics.json) below {root}.")
        return 0
    header = ["experiment", "run", "status", "metric", "ldl", "book", "verdict"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0
