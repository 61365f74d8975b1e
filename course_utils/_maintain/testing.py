"""Test helpers: import the definitions a chapter notebook teaches (teach-then-import).

``import_definitions_from_notebook(path, names)`` collects the import statements and the
named top-level ``def``/``class`` blocks from the notebook's code cells (via ``ast``, so no
other cell runs), executes them in a fresh module and returns it. Tests then compare the
notebook's version of a component with the ``course_utils`` one; ``tests/conftest.py``
turns this into the module-scoped ``nb`` fixture. ``solution_notebook("04_vit.ipynb")`` is
the path of a solution notebook.
"""

from __future__ import annotations

import ast
import types
from collections.abc import Iterable
from pathlib import Path

import nbformat

from course_utils.paths import repo_root

__all__ = ["import_definitions_from_notebook", "solution_notebook"]


def solution_notebook(filename: str) -> Path:
    """The path of ``notebooks/solutions/<filename>`` in the course repository."""
    return repo_root() / "notebooks" / "solutions" / filename


def import_definitions_from_notebook(path: str | Path, names: Iterable[str]) -> types.ModuleType:
    """A module holding the notebook's imports and the named defs/classes (last one wins)."""
    path = Path(path)
    wanted = list(names)
    if not wanted:
        raise ValueError("names must list at least one function or class to import")
    nb = nbformat.read(path, as_version=4)
    imports: list[str] = []
    blocks: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(ast.get_source_segment(source, node))
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) \
                    and node.name in wanted:
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                lines = source.splitlines()[start - 1: node.end_lineno]
                blocks.pop(node.name, None)  # a redefinition moves to its new place
                blocks[node.name] = "\n".join(lines)
    missing = [n for n in wanted if n not in blocks]
    if missing:
        raise ValueError(f"{path.name} defines no top-level {missing} (found: {sorted(blocks)})")
    module = types.ModuleType(f"notebook_{path.stem}")
    module.__file__ = str(path)
    # blocks in notebook order (a subclass follows its base); imports deduplicated
    code = "\n".join(dict.fromkeys(imports)) + "\n\n" + "\n\n".join(blocks.values())
    exec(compile(code, str(path), "exec"), module.__dict__)
    return module
