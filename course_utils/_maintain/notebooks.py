"""Notebook machinery: derive student notebooks from solutions, and check chapter shape.

One source of truth: ``notebooks/solutions/NN_name.ipynb``. Exercise code between
``### BEGIN SOLUTION`` and ``### END SOLUTION`` is replaced by a ``NotImplementedError``
stub in the student notebook ``notebooks/NN_name.ipynb``; cells tagged ``solution`` are
dropped. ``python -m course_utils._maintain.notebooks derive`` writes the student notebooks,
``... check`` fails if they drifted or if a chapter breaks the shape of spec §6.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

from course_utils.paths import repo_root

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
KERNEL_NAME = "transformers-course"
KERNEL_DISPLAY = "Python (transformers-course)"
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
REQUIRED_H2 = ("Learning objectives", "Exercises", "Check your understanding", "Summary",
               "References")
CHAPTER_RE = re.compile(r"^(\d\d)_[a-z0-9_]+\.ipynb$")
_FORBIDDEN = [(re.compile(r"^\s*[!%]\s*pip\b", re.M), "installs packages with !pip/%pip"),
              (re.compile(r"^\s*from\s+\S+\s+import\s+\*", re.M), "uses `import *`"),
              (re.compile(r"trust_remote_code\s*=\s*True"), "uses trust_remote_code=True")]


def _stub_lines(lines: list[str], where: str) -> list[str]:
    out, inside, indent = [], False, ""
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError(f"{where}: nested {BEGIN} at line {number}")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# YOUR CODE HERE\n")
            out.append(f"{indent}raise NotImplementedError\n")
        elif stripped == END:
            if not inside:
                raise ValueError(f"{where}: {END} without {BEGIN} at line {number}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"{where}: {BEGIN} is never closed by {END}")
    return out


def derive_student(solution: nbformat.NotebookNode, name: str = "notebook"
                   ) -> nbformat.NotebookNode:
    """Student version of a solution notebook: stubs instead of solutions, no outputs."""
    student = copy.deepcopy(solution)
    cells = []
    for index, cell in enumerate(student.cells):
        if "solution" in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.cell_type == "code":
            lines = cell.source.splitlines(keepends=True)
            cell.source = "".join(_stub_lines(lines, f"{name} cell {index}")).rstrip("\n")
            cell.outputs, cell.execution_count = [], None
        cell.pop("id", None)
        cells.append(cell)
    student.cells = cells
    return _normalise(student)


def _normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Stable cell ids and cleared outputs, so derivation is byte-for-byte repeatable."""
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"c{index:03d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("jupytext", None)  # authoring metadata, if a notebook came from jupytext
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": KERNEL_DISPLAY,
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def dumps(nb: nbformat.NotebookNode) -> str:
    """Serialise exactly as committed (1-space indent, trailing newline)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def chapter_notebooks(folder: Path | None = None) -> list[Path]:
    """``NN_name.ipynb`` files in ``folder`` (default: notebooks/solutions)."""
    folder = folder or repo_root() / "notebooks" / "solutions"
    return sorted(p for p in folder.glob("*.ipynb") if CHAPTER_RE.match(p.name))


def derive_all(check_only: bool = False) -> list[str]:
    """Write (or, with ``check_only``, compare) every student notebook; returns drift."""
    drift = []
    for source in chapter_notebooks():
        text = source.read_text(encoding="utf-8")
        normalised = dumps(_normalise(nbformat.reads(text, as_version=4)))
        if normalised != text:  # the source itself: cleared outputs, stable ids, kernelspec
            drift.append(str(source.relative_to(repo_root())))
            if not check_only:
                source.write_text(normalised, encoding="utf-8")
        target = source.parent.parent / source.name
        expected = dumps(derive_student(nbformat.read(source, as_version=4), source.name))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != expected:
            drift.append(str(target.relative_to(repo_root())))
            if not check_only:
                target.write_text(expected, encoding="utf-8")
    students = {p.name for p in chapter_notebooks(repo_root() / "notebooks")}
    orphans = students - {p.name for p in chapter_notebooks()}
    drift += [f"notebooks/{name} (no solution notebook)" for name in sorted(orphans)]
    return drift


def _headings(cell: nbformat.NotebookNode, level: int) -> list[str]:
    prefix = "#" * level + " "
    return [line[len(prefix):].strip() for line in cell.source.splitlines()
            if line.startswith(prefix)]


def structure_problems(path: Path, student: bool) -> list[str]:
    """Every way the notebook at ``path`` breaks the chapter shape (empty = fine)."""
    nb = nbformat.read(path, as_version=4)
    match = CHAPTER_RE.match(path.name)
    problems: list[str] = []
    if not match:
        return [f"file name must look like NN_snake_case.ipynb, got {path.name}"]
    number = match.group(1)
    cells = nb.cells
    if not cells or cells[0].cell_type != "markdown" or not re.match(
            rf"^# {number} · \S", cells[0].source):
        problems.append(f"first cell must be a markdown title '# {number} · Title'")
    if nb.metadata.get("kernelspec", {}).get("name") != KERNEL_NAME:
        problems.append(f"kernelspec name must be {KERNEL_NAME!r}")
    h2 = [(i, h) for i, c in enumerate(cells) if c.cell_type == "markdown"
          for h in _headings(c, 2)]
    positions = []
    for required in REQUIRED_H2:
        found = [i for i, h in h2 if h.lower().startswith(required.lower())]
        if not found:
            problems.append(f"missing section '## {required}'")
        else:
            positions.append(found[0])
    if positions != sorted(positions):
        problems.append(f"sections must appear in the order {list(REQUIRED_H2)}")
    setup = [i for i, c in enumerate(cells)
             if c.cell_type == "code" and f'start_chapter("{number}"' in c.source]
    if len(setup) != 1:
        problems.append(f'exactly one setup cell must call start_chapter("{number}")')
    elif positions and setup[0] > positions[0] + 2:
        problems.append("the setup cell must come right after the learning objectives")
    code = [c for c in cells if c.cell_type == "code"]
    if not code or "ch.finish()" not in code[-1].source:
        problems.append("the last code cell must call ch.finish() (records the runtime)")
    for index, cell in enumerate(cells):
        slide = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if slide not in SLIDE_TYPES:
            problems.append(f"cell {index} has no valid slideshow.slide_type ({slide!r})")
        if cell.cell_type == "markdown" and _headings(cell, 2) and slide != "slide":
            problems.append(f"cell {index} starts a '## ' section but is not a 'slide'")
        if cell.cell_type == "code":
            if cell.get("outputs") or cell.get("execution_count") is not None:
                problems.append(f"cell {index} has outputs (commit notebooks cleared)")
            for pattern, why in _FORBIDDEN:
                if pattern.search(cell.source):
                    problems.append(f"cell {index} {why}")
    exercises = [c for c in code if "exercise" in c.get("metadata", {}).get("tags", [])]
    low, high = (2, 8) if number == "00" else (4, 8)
    if not low <= len(exercises) <= high:
        problems.append(f"expected {low}-{high} code cells tagged 'exercise', "
                        f"found {len(exercises)}")
    for cell in exercises:
        has_marker = BEGIN in cell.source
        if student and (has_marker or "raise NotImplementedError" not in cell.source):
            problems.append("student exercise cells must hold a NotImplementedError stub and "
                            "no solution markers")
            break
        if not student and not has_marker:
            problems.append(f"solution exercise cells must mark the answer with {BEGIN}")
            break
    return problems


def main(argv: list[str] | None = None) -> int:
    """CLI: ``derive`` writes student notebooks; ``check`` reports drift and shape."""
    parser = argparse.ArgumentParser(prog="python -m course_utils._maintain.notebooks")
    parser.add_argument("command", choices=["derive", "check"])
    args = parser.parse_args(argv)
    drift = derive_all(check_only=args.command == "check")
    if args.command == "derive":
        print(f"derived {len(chapter_notebooks())} student notebooks; "
              f"{len(drift)} changed: {drift}")
        return 0
    problems = [f"drift: {d} differs from its derivation (run make derive)" for d in drift]
    for path in chapter_notebooks():
        problems += [f"{path.name} (solution): {p}" for p in structure_problems(path, False)]
        student = path.parent.parent / path.name
        if student.exists():
            problems += [f"{path.name} (student): {p}" for p in structure_problems(student, True)]
    print("\n".join(problems) or "all notebooks derived and well-formed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
