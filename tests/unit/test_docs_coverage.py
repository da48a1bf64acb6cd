"""The docs name every experiment, every search and every config group option there is: a new config
file without its line in the docs fails here (as tests/unit/test_options_table.py does for the book's
options)."""

from __future__ import annotations

import re

import pytest
from helpers import REPO

from ldl.cli.experiments_command import search_ids
from ldl.config import config_dir, experiment_ids

RUNNING = REPO / "docs" / "running.md"
EXPERIMENTS = REPO / "docs" / "experiments.md"
# Groups a user chooses from; `hydra` holds ldl's help text and Hydra's own settings.
GROUPS = sorted(p.name for p in config_dir().iterdir() if p.is_dir() and p.name != "hydra")


def _backticked(text: str) -> set[str]:
    """Every `name` and the option of every `group=option` in backticks."""
    names = set()
    for snippet in re.findall(r"`([^`]+)`", text):
        names.add(snippet)
        names.update(part.split("=", 1)[-1] for part in snippet.split())
    return names


def _group_row(group: str) -> str:
    """The row of docs/running.md's config group table for `group`."""
    for line in RUNNING.read_text().splitlines():
        if line.startswith(f"| `{group}` |"):
            return line
    pytest.fail(f"docs/running.md's config group table has no row for `{group}`")


@pytest.mark.parametrize("group", GROUPS)
def test_running_md_names_every_option_of_every_config_group(group: str) -> None:
    options = sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))
    missing = [option for option in options if option not in _backticked(_group_row(group))]
    assert not missing, f"docs/running.md, row `{group}`, lacks: {', '.join(missing)}"


def test_experiments_md_names_every_experiment_and_search() -> None:
    named = _backticked(EXPERIMENTS.read_text())
    missing = [name for name in [*experiment_ids(), *search_ids()] if name not in named]
    assert not missing, f"docs/experiments.md lacks: {', '.join(missing)}"
