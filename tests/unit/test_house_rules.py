"""The house rules the code is held to (README, Layout): no module over 400 lines, no import cycle, no
code that can never run (a statement after a raise, return, continue or break in its block).

An import cycle counts only the imports that run when a module is imported: module-level statements
(also inside `try` and `if`, but not `if TYPE_CHECKING:`, which never runs). An import inside a function
runs when the function is called; that is how a module reaches a heavier one (TensorFlow, a task) only
when a run needs it.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted((SOURCE / "ldl").rglob("*.py")):
        parts = path.relative_to(SOURCE).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _imported_at_load(path: Path, name: str, known: set[str]) -> set[str]:
    """The ldl modules `path` imports when it is imported (its module-level statements)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    statements = list(tree.body)
    while statements:
        node = statements.pop()
        if isinstance(node, ast.If):
            test = ast.unparse(node.test)
            if "TYPE_CHECKING" not in test:
                statements += node.body + node.orelse
        elif isinstance(node, ast.Try):
            statements += node.body + node.orelse + node.finalbody
            for handler in node.handlers:
                statements += handler.body
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    # (A submodule's import also runs its package's __init__ first, but a package whose __init__
    # gathers its submodules is the usual layout, not a cycle: only the modules named count.)
    return {m for m in found if m in known and m != name}


def test_no_module_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(SOURCE)): lines
        for path in _modules().values()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle a depth-first walk of `graph` (module -> the modules it imports) runs into."""
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for imported in sorted(graph[name]):
            if state.get(imported) == "open":
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported not in state:
                visit(imported, [*trail, imported])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return cycles


def test_no_import_cycle_at_import_time() -> None:
    modules = _modules()
    graph = {name: _imported_at_load(path, name, set(modules)) for name, path in modules.items()}
    cycles = _cycles(graph)
    assert not cycles, "import cycles (module-level imports): " + "; ".join(
        " -> ".join(cycle) for cycle in cycles
    )


def test_the_cycle_check_sees_a_cycle(tmp_path: Path) -> None:
    """The check itself: a module-level import is read (a TYPE_CHECKING one is not), and modules
    importing each other, directly or around three, are a cycle."""
    first = tmp_path / "first.py"
    first.write_text(
        "from typing import TYPE_CHECKING\nfrom ldl.sweeps import summary\n"
        "if TYPE_CHECKING:\n    from ldl.sweeps import plan\n"
    )
    imported = _imported_at_load(first, "ldl.sweeps.summary_page", set(_modules()))
    assert imported == {"ldl.sweeps", "ldl.sweeps.summary"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


_ENDS_BLOCK = (ast.Raise, ast.Return, ast.Continue, ast.Break)


def _unreachable(tree: ast.AST) -> list[int]:
    """Line numbers of statements that follow a raise, return, continue or break in their block."""
    lines = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list):
                continue
            for before, after in itertools.pairwise(block):
                if isinstance(before, _ENDS_BLOCK):
                    lines.append(after.lineno)
    return lines


def test_no_statement_follows_a_raise_or_return_in_its_block() -> None:
    # A search once scored every candidate 0 because the lines that read the scores had slid below
    # a `raise` while the code around them was edited.
    found = [
        f"{path.relative_to(SOURCE)}:{line}"
        for path in _modules().values()
        for line in _unreachable(ast.parse(path.read_text()))
    ]
    assert not found, f"code that can never run: {found}"


def test_the_unreachable_check_sees_code_after_a_raise() -> None:
    source = "def f(x):\n    if x:\n        raise ValueError\n        x += 1\n    return x\n"
    assert _unreachable(ast.parse(source)) == [4]
