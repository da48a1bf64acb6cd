"""`ldl report <folder>`: every run below a folder next to what the book reports, as a Markdown table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ldl.cli.arguments import Converter, comma_list, parse_arguments
from ldl.errors import ConfigError
from ldl.runs.files import DamagedFileError, read_json
from ldl.runs.run_folder import effective_status


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def book_rows(root: Path) -> list[list[str]]:
    """One row per (run, metric the book reports), read from the runs' metrics.json files; a run the
    book reports nothing for (a k-fold job, a custom composition) shows its validation and test
    metrics, and a run whose metrics.json is damaged says so (the other runs are still listed). A run
    shortened below its experiment's epochs or data says so next to its verdict ("2 of 20 epochs"):
    its numbers are not the book's setup."""
    from ldl.runs.labels import shortened_run

    rows = []
    for metrics_path in sorted(root.glob("**/metrics.json")):
        run = str(metrics_path.parent.relative_to(root)) or "."
        try:
            metrics = read_json(metrics_path)
        except DamagedFileError as damaged:
            rows.append(["?", run, "damaged", "", "", "", damaged.problem])
            continue
        experiment = str(metrics.get("experiment", "?"))
        status = effective_status(metrics_path.parent, metrics)
        reported = [key.removeprefix("book/") for key in metrics if key.startswith("book/")]
        note = shortened_run(metrics_path.parent)
        note = f"shortened: {note}" if note else ""
        if not reported:
            own = [
                key
                for key, value in metrics.items()
                if key.startswith(("val/", "test/")) and _number(value)
            ]
            rows += [
                [experiment, run, status, key, f"{metrics[key]:.4g}", "-", note] for key in own
            ] or [[experiment, run, status, "", "", "", note]]
        for metric in reported:
            ours = metrics.get(metric)
            book = metrics[f"book/{metric}"]
            rows.append(
                [
                    experiment,
                    run,
                    status,
                    metric,
                    f"{ours:.4g}" if _number(ours) else "-",
                    f"{book:.4g}" if _number(book) else str(book),
                    _with_note(str(metrics.get(f"book_verdict/{metric}", "")), note),
                ]
            )
    return rows


def _with_note(verdict: str, note: str) -> str:
    return f"{verdict} ({note})" if verdict and note else verdict or note


USAGE = (
    "usage: ldl report <folder with run folders, e.g. outputs> [more folders] [plot=<file.png>] "
    "[metric=val/error] [book=table [out=<file.md> [update=<page.md>,...]]] "
    "[keep=<records folder>]"
)


def _book_mode(text: str) -> str:
    if text != "table":
        raise ValueError(text)
    return text


_book_mode.__name__ = "choice: table"
OPTIONS: dict[str, Converter] = {
    # book=table: the reproduction report, every book experiment next to the book (docs/report.md).
    "book": _book_mode,
    # Write the book table to this file instead of printing it.
    "out": str,
    # Regenerate the book-table extracts marked in these Markdown files (needs out=: they link to it).
    "update": comma_list,
    # Copy each run's record (metrics.json, config.yaml, overrides; no model) into this folder.
    "keep": str,
    # Also draw every run's per-epoch metric (default the test error) in one chart at this file.
    "plot": str,
    # The history.csv column the chart shows (default val/error, or val/mae for regressions).
    "metric": str,
}


def _check_plot_path(path: Path) -> None:
    """plot=<file>: a format matplotlib writes, in a folder that can be created, before drawing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from ldl.runs.location import check_output_location

    formats = sorted(FigureCanvasAgg.get_supported_filetypes())
    extension = path.suffix.lstrip(".").lower()
    if extension not in formats:
        what = f"the extension .{extension}" if extension else "no extension"
        raise ConfigError(
            f"plot={path} has {what}, which names no image format matplotlib writes; use one of "
            f".{', .'.join(formats)}, e.g. plot={path.with_suffix('.png').name}."
        )
    if path.is_dir():
        raise ConfigError(
            f"plot={path} is a folder; name the image file, e.g. plot={path}/runs.png."
        )
    check_output_location(
        path.parent, "plot's folder", "Choose another place with plot=<file.png>."
    )


def run_report(arguments: list[str]) -> int:
    if not arguments or arguments[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if arguments else 2
    parsed = parse_arguments(arguments, OPTIONS, USAGE, positional=True)
    options, roots = parsed.values, [Path(folder) for folder in parsed.positional]
    if not roots:
        raise ConfigError(f"which folder? {USAGE}")
    for folder in roots:
        if not folder.is_dir():
            raise ConfigError(
                f"{folder} is not a folder. Give the folder that holds run folders, e.g. outputs."
            )
    if ("out" in options or "update" in options) and "book" not in options:
        raise ConfigError(f"out= and update= write the book table: add book=table. {USAGE}")
    if "update" in options and "out" not in options:
        raise ConfigError(f"update= extracts link to the page: add out=<file.md>. {USAGE}")
    if "keep" in options or "book" in options:
        from ldl.cli.book_report import run_book_report

        return run_book_report(roots, options, arguments)
    if len(roots) > 1:
        raise ConfigError(f"one folder at a time without book=table or keep=. {USAGE}")
    root = roots[0]
    if "plot" in options:
        from ldl.runs.comparison import default_metric, plot_run_comparison

        _check_plot_path(Path(options["plot"]).expanduser())
        metric = options.get("metric") or default_metric(root)
        count = plot_run_comparison(root, Path(options["plot"]).expanduser(), metric)
        print(f"{metric} of {count} run(s) drawn in {options['plot']}.")
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
