"""`ldl report <folders> book=table [out=<file.md>]` and `keep=<records folder>`: the reproduction
report (ldl.runs.book_table) printed or written to a file, and run records copied for keeping."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ldl.errors import ConfigError
from ldl.runs.files import atomic_write_text
from ldl.runs.location import check_output_location


def _command(roots: list[Path], options: dict[str, Any]) -> str:
    """The command that regenerates the page, as the first line of the page says it."""
    words = ["ldl report", *(str(root) for root in roots), "book=table"]
    if "out" in options:
        words.append(f"out={options['out']}")
    if options.get("update"):
        words.append(f"update={','.join(options['update'])}")
    return " ".join(words)


def run_book_report(roots: list[Path], options: dict[str, Any], arguments: list[str]) -> int:
    out = Path(options["out"]).expanduser() if "out" in options else None
    documents = [Path(name).expanduser() for name in options.get("update", [])]
    _check_places(options, out, documents)  # before any work
    if "keep" in options:
        from ldl.runs.run_records import keep_records

        into = Path(options["keep"]).expanduser()
        written = keep_records(roots, into)
        print(f"{len(written)} run record(s) kept in {into}.")
    if "book" not in options:
        return 0
    from ldl.runs.book_table import render_page

    page = render_page(roots, _command(roots, options))
    if out is None:
        print(page, end="")
        return 0
    updated = _updated_documents(roots, out, documents)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, page)
    print(f"Book table written to {out}.")
    for document, text in updated.items():
        atomic_write_text(document, text)
        print(f"Extracts updated in {document}.")
    return 0


def _check_places(options: dict[str, Any], out: Path | None, documents: list[Path]) -> None:
    if "keep" in options:
        into = Path(options["keep"]).expanduser()
        if into.exists() and not into.is_dir():
            raise ConfigError(f"keep={into} is a file; name the folder that holds run records.")
        check_output_location(into, "records folder", "Choose another with keep=<folder>.")
    if out is not None:
        if out.is_dir():
            raise ConfigError(
                f"out={out} is a folder; name the Markdown file, e.g. out={out}/book.md."
            )
        check_output_location(
            out.parent, "out's folder", "Choose another place with out=<file.md>."
        )
    for document in documents:
        if not document.is_file():
            raise ConfigError(
                f"update={document} is not a Markdown file; name pages that hold "
                "<!-- book-table <ids> --> (or book-epochs, book-translations) extracts, e.g. update=README.md."
            )


def _updated_documents(roots: list[Path], out: Path, documents: list[Path]) -> dict[Path, str]:
    """Each page's text with its extracts regenerated (all checked before any file is written)."""
    from ldl.runs.book_extracts import page_link, update_extracts
    from ldl.runs.book_table import collect

    table = collect(roots)[0]
    updated = {}
    for document in documents:
        try:
            updated[document] = update_extracts(
                document.read_text(), table, page_link(document, out)
            )
        except ValueError as error:
            raise ConfigError(f"{document}: {error}.") from None
    return updated
