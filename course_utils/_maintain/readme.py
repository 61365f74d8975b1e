"""Generated sections of Markdown files: the README's chapter and results tables.

A generated section sits between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->``;
``replace_section`` swaps its body. The data generators use it for their statistics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from course_utils.chapters import all_chapters
from course_utils.paths import repo_root
from course_utils.results import ResultsFileError, _read, load_results, results_dir

__all__ = ["markers", "replace_section", "render_results_table", "render_chapter_table",
           "update_readme"]


def markers(name: str) -> tuple[str, str]:
    """The begin/end comments of section ``name`` (e.g. ``"results-table"``)."""
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def replace_section(path: Path, name: str, body: str) -> bool:
    """Put ``body`` between the markers of section ``name`` in ``path``; True if it changed."""
    begin, end = markers(name)
    text = path.read_text(encoding="utf-8")
    if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
        raise ValueError(f"{path} must contain {begin} once, followed by {end} once")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    new = f"{head}{begin}\n{body.strip(chr(10))}\n{end}{tail}"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


def render_results_table(profile: str = "quick") -> str:
    """Markdown table of every recorded number of ``profile`` (chapter, metric, value)."""
    base = results_dir(profile)
    lines = ["| chapter | metric | value | note |", "|---|---|---|---|"]
    for path in sorted(base.glob("[0-9][0-9].json")):
        chapter = path.stem
        try:
            entries = _read(path)
        except ResultsFileError:
            lines.append(f"| {chapter} | (results/{path.parent.name}/{path.name} is unreadable: "
                         "re-run the chapter) | | |")
            continue
        for name, entry in sorted(entries.items()):
            unit = f" {entry['unit']}" if entry.get("unit") else ""
            lines.append(f"| {chapter} | {name} | {_fmt(entry['value'])}{unit} | "
                         f"{entry.get('note', '')} |")
    if len(lines) == 2:
        lines.append("| – | (nothing recorded yet: run `make run-all`) | | |")
    return "\n".join(lines)


def render_chapter_table() -> str:
    """Markdown chapter table: status and recorded runtimes per profile."""
    root = repo_root()
    lines = ["| # | chapter | notebook | status | quick runtime | full runtime |",
             "|---|---|---|---|---|---|"]
    for info in all_chapters():
        exists = info.notebook(root, solution=False).exists()
        cells = []
        for profile in ("quick", "full"):
            entry = load_results(info.number, profile).get("runtime_s")
            cells.append(f"{entry['value']:.0f} s" if entry else "–")
        link = f"[{info.stem}.ipynb](notebooks/{info.stem}.ipynb)" if exists else "–"
        status = "available" if exists else "planned"
        lines.append(f"| {info.number} | {info.title} | {link} | {status} | {cells[0]} | "
                     f"{cells[1]} |")
    return "\n".join(lines)


def update_readme(readme: Path | None = None, profile: str = "quick") -> bool:
    """Refresh the README's chapter and results tables; True if the file changed."""
    readme = readme or repo_root() / "README.md"
    changed = replace_section(readme, "chapter-table", render_chapter_table())
    return replace_section(readme, "results-table", render_results_table(profile)) or changed
