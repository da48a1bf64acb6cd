"""docs/options.md lists every option the book's chapters name; this keeps it true.

Each offered row's `ldl train` overrides are composed with the real config tree (an unknown key or config
group fails the composition), each command option must be one the command parses, and the totals line
must match the rows.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from helpers import REPO, compose_config
from omegaconf import OmegaConf

from ldl.config import validate_config

OPTIONS_PAGE = REPO / "docs" / "options.md"
STATUSES = ("offered", "not offered yet", "not offered:")


def table_rows(page: Path = OPTIONS_PAGE) -> list[tuple[str, str, str]]:
    """(option, how to set it, status) for every row of every table on the page."""
    rows = []
    for line in page.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 3 or cells[0] in ("option", "---"):
            continue
        rows.append((cells[0], cells[1], cells[2]))
    return rows


def settings(how: str) -> list[str]:
    """The backticked snippets of a 'how to set it' cell."""
    return re.findall(r"`([^`]+)`", how)


def _command_options(command: str) -> set[str]:
    from ldl.cli.main import HANDLERS

    module = importlib.import_module(HANDLERS[command].partition(":")[0])
    names: set[str] = set()
    for attribute in ("OPTIONS", "SUMMARY_OPTIONS"):
        names |= set(getattr(module, attribute, {}))
    return names


ROWS = table_rows()


def test_the_page_has_rows_and_every_status_is_known() -> None:
    assert len(ROWS) > 100
    for option, how, status in ROWS:
        assert status.startswith(STATUSES), (option, status)
        if status == "offered":
            assert settings(how), f"{option}: an offered option needs a way to set it"
        else:
            assert how == "—", f"{option}: a row that is not offered names no setting"
        if status.startswith("not offered:"):
            assert len(status) > len("not offered: ") + 20, f"{option}: say why it is not offered"


def test_the_totals_line_counts_the_rows() -> None:
    offered = sum(status == "offered" for _, _, status in ROWS)
    not_yet = sum(status == "not offered yet" for _, _, status in ROWS)
    by_design = sum(status.startswith("not offered:") for _, _, status in ROWS)
    expected = (
        f"**{len(ROWS)} options: {offered} offered, {not_yet} not offered yet, "
        f"{by_design} not offered by design.**"
    )
    assert expected in OPTIONS_PAGE.read_text(), expected


SNIPPETS = [
    pytest.param(option, snippet, id=f"{option[:40]}: {snippet[:60]}")
    for option, how, status in ROWS
    if status == "offered"
    for snippet in settings(how)
]


@pytest.mark.parametrize(("option", "snippet"), SNIPPETS)
def test_every_offered_setting_exists(option: str, snippet: str) -> None:
    words = snippet.split()
    if words[0] == "ldl" and words[1] != "train":  # a command option: the command must parse it
        known = _command_options(words[1])
        for word in words[2:]:
            key = word.partition("=")[0]
            assert key in known, f"{option}: ldl {words[1]} has no option {key}"
        return
    overrides = [word for word in words if word not in ("ldl", "train", "-m")]
    cfg = compose_config(
        *overrides,
        "run_dir=unused",
        return_hydra_config=any(word.startswith("hydra") for word in overrides),
    )
    absent = object()
    for word in overrides:  # every key is in the composed config (not only accepted by Hydra)
        key = word.partition("=")[0]
        if "/" in key or key.startswith("hydra") or key in ("experiment", "hparams_search"):
            continue
        assert OmegaConf.select(cfg, key, default=absent) is not absent, f"{option}: {key}"
    if not cfg.get("hydra"):
        validate_config(cfg)
