"""Slide decks: every cell has slide metadata, and the offline deck loads nothing from CDNs."""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import make_slides  # noqa: E402

CDN = re.compile(r"(unpkg\.com|cdnjs\.cloudflare\.com|cdn\.jsdelivr\.net|fonts\.googleapis)")


def test_offline_deck_points_at_vendored_assets(tmp_path):
    source = ROOT / "notebooks" / "00_setup_and_landscape.ipynb"
    deck = make_slides.build_deck(source, tmp_path, offline=True, execute=False)
    html = deck.read_text(encoding="utf-8")
    assert "vendor/node_modules/reveal.js" in html
    assert "vendor/node_modules/mathjax/MathJax.js" in html
    assert not CDN.findall(html), sorted(set(CDN.findall(html)))
    assert html.count("<section") >= 10  # one per slide/subslide


def test_cdn_deck_is_the_documented_fallback(tmp_path):
    source = ROOT / "notebooks" / "00_setup_and_landscape.ipynb"
    html = make_slides.build_deck(source, tmp_path, offline=False, execute=False).read_text()
    assert CDN.search(html)


# ---- course_utils._maintain.slides: the rewrite that makes a notebook presentable ----

import base64  # noqa: E402
import struct  # noqa: E402
import zlib  # noqa: E402

import nbformat  # noqa: E402
import pytest  # noqa: E402

from course_utils._maintain import slides as S  # noqa: E402
from course_utils._maintain.notebooks import chapter_notebooks  # noqa: E402


def _cell(kind, source, slide="-", outputs=None):
    cell = (nbformat.v4.new_markdown_cell(source) if kind == "md"
            else nbformat.v4.new_code_cell(source))
    if outputs is not None:
        cell.outputs = outputs
    cell.metadata["slideshow"] = {"slide_type": slide}
    return cell


def _png(width, height) -> str:
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))
    raw = b"".join(b"\0" + b"\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
           + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def _sections(nb):
    """The sub-slides of a rewritten notebook: lists of cells."""
    sections = []
    for cell in nb.cells:
        kind = cell.metadata["slideshow"]["slide_type"]
        if kind in ("slide", "subslide") or not sections:
            sections.append([])
        sections[-1].append(cell)
    return sections


PROSE = " ".join(f"Sentence number {i} explains one more idea about attention with $x_{i}$."
                 for i in range(30))


def test_long_prose_goes_to_the_notes_and_a_short_part_stays():
    nb = nbformat.v4.new_notebook(cells=[_cell("md", "# Title", "slide"),
                                         _cell("md", f"## Idea\n\n{PROSE}\n\n{PROSE}", "slide")])
    out = S.presentable(nb)
    notes = [c for c in out.cells if c.metadata["slideshow"]["slide_type"] == "notes"]
    assert len(notes) == 1 and PROSE in notes[0].source  # the whole text, for the teacher
    visible = " ".join(c.source for c in out.cells if c not in notes)
    assert "## Idea" in visible and len(visible.split()) < 80
    assert visible.count("$") % 2 == 0  # maths never cut in half


def test_tall_content_is_split_into_subslides_that_fit():
    code = "\n".join(f"x{i} = {i}" if i % 6 else f"\ndef f{i}():\n    return {i}"
                     for i in range(80))
    long_list = "\n".join(f"- item {i}: " + "word " * 30 for i in range(20))
    nb = nbformat.v4.new_notebook(cells=[
        _cell("md", f"## A list\n\n{long_list}", "slide"),
        _cell("code", code, "subslide", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": _png(900, 700), "text/plain": "<Figure>"})]),
    ])
    out = S.presentable(nb)
    for section in _sections(out):
        blocks = [b for c in section for b in S._blocks_of(c, {})[0]]
        assert sum(b.height for b in blocks) <= S.BUDGET or len(blocks) == 1
    code_cells = [c for c in out.cells if c.cell_type == "code" and c.source]
    assert len(code_cells) > 1 and all(len(c.source.splitlines()) <= S.CODE_LINES + 4
                                       for c in code_cells)
    assert "".join(c.source for c in code_cells).replace("\n", "") == code.replace("\n", "")
    assert any("(continued)" in c.source for c in out.cells if c.cell_type == "markdown")


def test_one_understanding_question_per_subslide_answers_hidden():
    items = "\n".join(f"{i}. Question {i}?\n   <details><summary>Answer</summary>Because {i}."
                      "</details>" for i in range(1, 6))
    nb = nbformat.v4.new_notebook(cells=[_cell("md", "# T", "slide"),
                                         _cell("md", f"## Check your understanding\n\n{items}",
                                               "slide")])
    sections = _sections(S.presentable(nb))[1:]
    assert len(sections) == 5
    for n, section in enumerate(sections, 1):
        text = "".join(c.source for c in section)
        assert f"Question {n}?" in text and "<details>" in text and f"({n}/5)" in text


def test_long_outputs_fold_and_widgets_show_their_last_state():
    state = {"box": {"model_name": "VBoxModel",
                     "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_o"]}},
             "s": {"model_name": "IntSliderModel", "state": {"value": 7, "description": "layer"}},
             "o": {"model_name": "OutputModel", "state": {"outputs": [
                 {"output_type": "display_data", "data": {"image/png": _png(40, 30)},
                  "metadata": {}}]}}}
    nb = nbformat.v4.new_notebook(cells=[
        _cell("code", "print(lots)", "slide", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="\n".join(f"line {i}" for i in range(50)))]),
        _cell("code", "w", "subslide", outputs=[nbformat.v4.new_output(
            "display_data", data={S.WIDGET_VIEW: {"model_id": "box"}, "text/plain": "VBox()"})]),
    ])
    nb.metadata["widgets"] = {S.WIDGET_STATE: {"state": state}}
    out = S.presentable(nb)
    assert "widgets" not in out.metadata
    shown = [o for c in out.cells if c.cell_type == "code" for o in c.outputs]
    folded = shown[0]["data"]["text/html"]
    assert "line 9" in folded and "<details" in folded and "40 more lines" in folded
    snapshot = shown[1]["data"]["text/html"]
    assert "layer: <b>7</b>" in snapshot and "data:image/png;base64," in snapshot


@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.name[:2])
def test_every_chapter_keeps_all_its_text(path):
    """Nothing is lost: each markdown cell is on the slides whole, or in the notes whole."""
    nb = nbformat.read(path, as_version=4)
    out = S.presentable(nb)
    notes = "\n".join(c.source for c in out.cells
                      if c.metadata["slideshow"]["slide_type"] == "notes")
    shown = "\n".join(c.source for c in out.cells if c.cell_type == "markdown")
    for cell in nb.cells:
        if cell.cell_type != "markdown" or cell.metadata["slideshow"]["slide_type"] == "skip":
            continue
        blocks = S._md_blocks(cell.source)
        assert cell.source in notes or all(b in shown for b in blocks), cell.source[:80]


def test_understanding_as_subheadings_and_html_blocks_stay_whole():
    qs = "\n\n".join(f"### Question {i}\n\nWhy {i}?\n\n<details>\n<summary>Answer</summary>\n\n"
                     f"Because {i}.\n\nMore.\n</details>" for i in range(1, 4))
    nb = nbformat.v4.new_notebook(cells=[_cell("md", "# T", "slide"),
                                         _cell("md", f"## Check your understanding\n\n{qs}",
                                               "slide")])
    sections = _sections(S.presentable(nb))[1:]
    assert len(sections) == 3
    for n, section in enumerate(sections, 1):
        text = "".join(c.source for c in section)
        assert f"Why {n}?" in text and text.count("<details>") == text.count("</details>") == 1
