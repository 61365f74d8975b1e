"""Turn a chapter notebook into a presentable deck: every slide fits a 1280×720 screen.

A chapter notebook is a page for reading; ``nbconvert --to slides`` shows it as is, so a
section with a long explanation, a 30-line function and its plot becomes one slide three
screens tall. ``presentable(nb)`` rewrites a *copy* of the notebook before nbconvert sees
it; the notebook itself keeps every word. Nothing here depends on a particular chapter:
a new chapter written in the course's usual shape comes out presentable with no extra
work. What it does, cell by cell:

* **Prose** — a markdown cell with more than ``PROSE_WORDS`` words of plain paragraphs
  keeps its heading, its first sentences, its lists, equations, tables and pictures on
  the slide; the whole cell goes to the speaker notes (reveal.js: press ``S``).
* **Too tall** — every cell is cut into blocks (paragraphs, list items, code chunks
  split at top-level statements, outputs); the blocks are packed into sub-slides by an
  estimate of their height at the deck's fonts. A block that does not fit starts a new
  sub-slide; a fragment stays a fragment when it fits.
* **Check your understanding** — one question per sub-slide, answers in ``<details>``.
* **Long outputs** — the first lines show, the rest folds into ``<details>``.
* **Widgets** — the widget's last state (controls' values and its figure, from the
  widget state the executed notebook embeds) as a static picture, never an empty box.

The deck's template (tools/templates/reveal_offline) sets the fonts these estimates assume,
wraps code instead of cutting it off, and shrinks the rare slide the estimate got wrong.
"""

from __future__ import annotations

import base64
import copy
import html
import math
import re
import struct
from dataclasses import dataclass, field

import nbformat

__all__ = ["presentable", "SLIDE_W", "SLIDE_H"]

SLIDE_W, SLIDE_H = 1280, 720          # the deck's logical slide size (reveal width/height)
BUDGET = 640                          # usable height: slide minus padding and a safety margin
TEXT_CHARS = 88                       # characters per line of prose at 24 px
CODE_CHARS = 110                      # characters per line of code at 17 px
LINE_TEXT, LINE_CODE, LINE_OUT = 34, 22, 20
CODE_LINES = 24                       # longest code chunk on one sub-slide
OUT_LINES = 10                        # text output lines shown before folding the rest
IMG_MAX_H = 540                       # CSS max-height of output images (template)
WIDGET_IMG_MAX_H = 420                # ... of a widget's figure (its controls sit above)
PROSE_WORDS = 70                      # more plain-paragraph words than this -> notes
KEEP_WORDS = 40                       # visible words kept from a trimmed paragraph
UNDERSTANDING = re.compile(r"check your understanding", re.I)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@dataclass
class Block:
    """One indivisible piece of a slide: markdown text, code lines, or outputs."""
    kind: str                       # "md", "code", "out"
    height: float
    text: str = ""                  # markdown source or code
    outputs: list = field(default_factory=list)
    cell: object = None             # the source cell (metadata, execution count)
    heading: str = ""               # the heading line to repeat on a continuation
    new_slide: bool = False         # always starts a sub-slide (one question per slide)


# ---------------------------------------------------------------- height estimates

def _text_height(text: str, chars: int = TEXT_CHARS, line: float = LINE_TEXT) -> float:
    plain = re.sub(r"<[^>]+>|\$[^$]*\$|`|\*\*|\*|\[|\]\([^)]*\)", lambda m: (
        m.group(0)[1:-1] if m.group(0).startswith("$") else ""), text)
    lines = sum(max(1, math.ceil(len(ln) / chars)) for ln in plain.splitlines() if ln.strip())
    return lines * line


def _md_height(block: str) -> float:
    first = block.lstrip()
    if first.startswith("#"):
        level = len(first) - len(first.lstrip("#"))
        size = {1: 44, 2: 36, 3: 30}.get(level, 26)
        lines = max(1, math.ceil(len(first) * size * 0.55 / (SLIDE_W - 100)))
        return lines * size * 1.25 + 24
    if first.startswith("$$") or first.startswith("\\begin"):
        return 30 + 46 * max(1, first.count("\\\\") + 1) + 30 * first.count("\\frac")
    if first.startswith("|"):
        return 40 * len([ln for ln in block.splitlines() if ln.strip()]) + 20
    if first.startswith("```"):
        return LINE_CODE * (len(block.splitlines()) - 1) + 24
    if first.startswith("<img") or "![" in first:
        return 320
    height = _text_height(block) + 18
    if "<details" in block:  # a closed answer shows its summary line only
        height = _text_height(re.sub(r"<details>.*?</details>", "Answer", block, flags=re.S)) + 40
    height += 20 * len(re.findall(r"\$\\(frac|sum|sqrt|hat|tilde)", block))
    return height


def _code_height(code: str) -> float:
    lines = sum(max(1, math.ceil(len(ln) / CODE_CHARS)) for ln in code.splitlines() or [""])
    return lines * LINE_CODE + 28


def _png_size(data: str) -> tuple[int, int] | None:
    try:
        raw = base64.b64decode(data[:100])
        if raw[:8] == b"\x89PNG\r\n\x1a\n":
            return struct.unpack(">II", raw[16:24])
    except Exception:  # noqa: BLE001 - a size we cannot read is only an estimate lost
        return None
    return None


def _image_height(output: dict, max_h: float = IMG_MAX_H) -> float:
    meta = output.get("metadata", {}).get("image/png", {}) or {}
    size = _png_size(output["data"]["image/png"]) or (640, 480)
    width = meta.get("width") or size[0]
    height = meta.get("height") or size[1] * width / size[0]
    scale = min(1.0, (SLIDE_W - 120) / width, max_h / height)
    return height * scale + 16


def _output_height(output: dict) -> float:
    kind = output.get("output_type")
    if kind == "stream":
        return LINE_OUT * min(len(output.get("text", "").splitlines()), OUT_LINES + 1) + 20
    if kind == "error":
        return LINE_OUT * 12
    data = output.get("data", {})
    if "image/png" in data:
        return _image_height(output)
    if "image/svg+xml" in data:
        return IMG_MAX_H
    if "text/html" in data:
        text = "".join(data["text/html"])
        images = re.findall(r"<img[^>]*src=['\"]data:image/png;base64,([^'\"]+)['\"]", text)
        height = sum(_image_height({"data": {"image/png": d}}, WIDGET_IMG_MAX_H)
                     for d in images)
        text = re.sub(r"<img[^>]*>", "", text)
        rows = text.count("<tr")
        if rows:
            return height + 36 * min(rows, OUT_LINES + 2) + 40
        blocks = len(re.findall(r"<(p|div|br|li|h\d)\b", text))
        return height + _text_height(re.sub(r"<[^>]+>", " ", text), 100, 26) + 10 * blocks + 20
    if "text/markdown" in data:
        return sum(_md_height(b) for b in _md_blocks("".join(data["text/markdown"])))
    if "text/latex" in data:
        return 80
    if "text/plain" in data:
        return LINE_OUT * min(len("".join(data["text/plain"]).splitlines()), OUT_LINES + 1) + 20
    return 40


# ---------------------------------------------------------------- markdown

_LIST_ITEM = re.compile(r"^(\d+[.)]|[-*+])\s")


def _md_blocks(source: str) -> list[str]:
    """Split markdown into blocks: headings, paragraphs, list items, fences, maths, tables."""
    blocks: list[str] = []
    lines = source.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.lstrip().startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].lstrip().startswith("```"):
                j += 1
            blocks.append("\n".join(lines[i:j + 1]))
            i = j + 1
            continue
        if line.strip().startswith("$$") and not (line.strip().endswith("$$")
                                                   and len(line.strip()) > 2):
            j = i + 1
            while j < len(lines) and "$$" not in lines[j]:
                j += 1
            blocks.append("\n".join(lines[i:j + 1]))
            i = j + 1
            continue
        if line.startswith("#"):
            blocks.append(line)
            i += 1
            continue
        opened = re.match(r"\s*<(details|div|table|figure|blockquote)\b", line)
        if opened and f"</{opened.group(1)}>" not in line:  # an HTML block, blank lines and all
            j = i + 1
            while j < len(lines) and f"</{opened.group(1)}>" not in lines[j]:
                j += 1
            blocks.append("\n".join(lines[i:j + 1]))
            i = j + 1
            continue
        if _LIST_ITEM.match(line):  # one block per top-level item (with its continuation)
            j = i + 1
            while j < len(lines) and lines[j].strip() != "" and not _LIST_ITEM.match(lines[j]) \
                    or (j < len(lines) and lines[j].strip() == "" and j + 1 < len(lines)
                        and lines[j + 1].startswith((" ", "\t"))):
                j += 1
            blocks.append("\n".join(lines[i:j]))
            i = j
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() and not lines[j].startswith("#") \
                and not _LIST_ITEM.match(lines[j]) and not lines[j].lstrip().startswith("```"):
            j += 1
        blocks.append("\n".join(lines[i:j]))
        i = j
    return blocks


def _questions(blocks: list[str], heading: str) -> list[list[str]]:
    """The questions of a "check your understanding" cell, each with its answer.

    Usually a numbered list (one item per question, the answer in ``<details>``); else
    sub-headings, or paragraphs opening in bold, start the questions.
    """
    rest = [b for b in blocks if b != heading]
    starts = [i for i, b in enumerate(rest) if _LIST_ITEM.match(b)]
    if not starts:
        starts = [i for i, b in enumerate(rest) if b.startswith("#")] or \
                 [i for i, b in enumerate(rest) if b.startswith("**")]
    if not starts:
        return []
    bounds = [*starts, len(rest)]
    return [rest[a:b] for a, b in zip(bounds, bounds[1:])]


def _is_prose(block: str) -> bool:
    first = block.lstrip()
    return not (first.startswith(("#", "$$", "|", "```", "<", "!", "\\begin"))
                or _LIST_ITEM.match(first))


_PROTECT = re.compile(r"\$\$.*?\$\$|\$[^$]+\$|`[^`]+`|\[[^\]]*\]\([^)]*\)", re.S)


def _first_sentences(text: str, words: int = KEEP_WORDS) -> str:
    """The leading sentences of a paragraph, about ``words`` words, maths and code intact."""
    spans: list[str] = []

    def keep(m: re.Match) -> str:
        spans.append(m.group(0))
        return f"\x00{len(spans) - 1}\x00"

    masked = _PROTECT.sub(keep, text)
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z(*_\"“\x00])", masked)
    out, count = [], 0
    for sentence in sentences:
        if out and count + len(sentence.split()) > words:
            break
        out.append(sentence)
        count += len(sentence.split())
    short = " ".join(out)
    if len(out) < len(sentences):
        short = short.rstrip() + " …"
    short = re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], short)
    if short.count("**") % 2:
        short += "**"
    return short


def _trim_prose(blocks: list[str]) -> tuple[list[str], bool]:
    """Keep the slide-like blocks and a short version of the prose; True if anything went."""
    prose = [b for b in blocks if _is_prose(b)]
    if sum(len(b.split()) for b in prose) <= PROSE_WORDS:
        return blocks, False
    kept, first = [], True
    for block in blocks:
        if not _is_prose(block):
            kept.append(block)
        elif first:
            kept.append(_first_sentences(block))
            first = False
        elif len(block.split()) <= 18:  # a short lead-in line ("Let us measure both.")
            kept.append(block)
    return kept, True


# ---------------------------------------------------------------- outputs and widgets

def _fold_text(text: str) -> dict | None:
    lines = text.splitlines()
    if len(lines) <= OUT_LINES + 1:
        return None
    head, rest = "\n".join(lines[:OUT_LINES]), "\n".join(lines[OUT_LINES:])
    body = (f"<pre class='slide-output'>{html.escape(head)}</pre><details class='slide-more'>"
            f"<summary>{len(lines) - OUT_LINES} more lines</summary>"
            f"<pre class='slide-output'>{html.escape(rest)}</pre></details>")
    return nbformat.v4.new_output("display_data", data={"text/html": body})


def _widget_snapshot(model_id: str, state: dict) -> dict:
    """HTML for a widget's last state: its controls' values and the outputs it shows."""
    controls: list[str] = []
    outputs: list[dict] = []

    def walk(mid: str, depth: int = 0) -> None:
        model = state.get(mid)
        if model is None or depth > 20:
            return
        name, values = model.get("model_name", ""), model.get("state", {})
        if name == "OutputModel":
            outputs.extend(values.get("outputs", []))
        for child in values.get("children", []):
            walk(str(child).replace("IPY_MODEL_", ""), depth + 1)
        if name in ("HTMLModel", "HTMLMathModel", "LabelModel"):  # a title or status line
            if 0 < len(values.get("value", "")) < 300:
                controls.append(f"<span class='slide-widget-text'>{values['value']}</span>")
        elif ("value" in values or "index" in values) and name != "OutputModel":
            value = values.get("value")
            labels, index = values.get("_options_labels"), values.get("index")
            if labels and isinstance(index, int) and 0 <= index < len(labels):
                value = labels[index]
            elif labels and isinstance(index, (list, tuple)):
                value = ", ".join(labels[i] for i in index if 0 <= i < len(labels))
            label = values.get("description") or name.replace("Model", "")
            controls.append(f"<span class='slide-control'>{html.escape(str(label))}: "
                            f"<b>{html.escape(str(value))}</b></span>")

    walk(model_id)
    parts = []
    if controls:
        parts.append("<div class='slide-controls'>" + " · ".join(controls) + "</div>")
    for out in outputs:
        data = out.get("data", {})
        if "image/png" in data:
            parts.append(f"<img src='data:image/png;base64,{data['image/png']}'>")
        elif "text/html" in data:
            parts.append("".join(data["text/html"]))
        elif out.get("output_type") == "stream" or "text/plain" in data:
            text = out.get("text") or "".join(data.get("text/plain", ""))
            parts.append(f"<pre class='slide-output'>{html.escape(text)}</pre>")
    if not outputs:
        parts.append("<p class='slide-widget-note'>Interactive widget: run the notebook to "
                     "use it.</p>")
    else:
        parts.append("<p class='slide-widget-note'>The widget's last state; run the notebook "
                     "to change it.</p>")
    return nbformat.v4.new_output("display_data", data={
        "text/html": "<div class='slide-widget'>" + "".join(parts) + "</div>"})


def _slide_outputs(outputs: list, widget_state: dict) -> list:
    """Outputs as they should show on a slide: long text folded, widgets as snapshots."""
    result = []
    for out in outputs:
        kind = out.get("output_type")
        data = out.get("data", {})
        if kind == "stream":
            result.append(_fold_text(out.get("text", "")) or out)
        elif WIDGET_VIEW in data:
            result.append(_widget_snapshot(data[WIDGET_VIEW].get("model_id", ""), widget_state))
        elif kind in ("display_data", "execute_result") and "text/plain" in data \
                and len(data) == 1:
            result.append(_fold_text("".join(data["text/plain"])) or out)
        else:
            result.append(out)
    return result


# ---------------------------------------------------------------- code

def _code_chunks(code: str) -> list[str]:
    """Code in pieces of at most CODE_LINES lines, cut before top-level statements."""
    lines = code.splitlines()
    if len(lines) <= CODE_LINES + 4:  # a few lines over is better shown whole (smaller font)
        return [code]
    chunks, current = [], []
    for i, line in enumerate(lines):
        top = line and not line[0].isspace() and not line.startswith((")", "]", "}", "#"))
        boundary = top and i > 0 and not lines[i - 1].rstrip().endswith(("(", ",", "\\"))
        if current and (len(current) >= CODE_LINES or (
                boundary and len(current) >= 8 and not lines[i - 1].startswith("@")
                and len(current) + _statement_len(lines, i) > CODE_LINES)):
            chunks.append("\n".join(current).rstrip())
            current = []
        current.append(line)
    if current:
        chunks.append("\n".join(current).rstrip())
    return [c for c in chunks if c.strip()]


def _statement_len(lines: list[str], start: int) -> int:
    """Lines of the top-level statement starting at ``start``."""
    j = start + 1
    while j < len(lines) and (not lines[j] or lines[j][0].isspace()
                              or lines[j].startswith((")", "]", "}"))):
        j += 1
    return j - start


# ---------------------------------------------------------------- the rewrite

def _slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def _blocks_of(cell, widget_state: dict) -> tuple[list[Block], str]:
    """A cell as blocks, and the speaker notes it contributes."""
    if cell.cell_type == "markdown":
        source = cell.source
        blocks = _md_blocks(source)
        heading = next((b for b in blocks if b.startswith("#")), "")
        notes = ""
        if heading and UNDERSTANDING.search(heading):
            items = _questions(blocks, heading)
            intro = blocks[1:blocks.index(items[0][0])] if items else blocks[1:]
            out = [Block("md", _md_height(heading), heading, cell=cell, heading=heading)]
            out += [Block("md", _md_height(b), b, cell=cell, heading=heading) for b in intro]
            for n, item in enumerate(items, 1):
                title = f"{heading} ({n}/{len(items)})"
                height = _md_height(title) + sum(_md_height(b) for b in item)
                out.append(Block("md", height, title + "\n\n" + "\n\n".join(item),
                                 cell=cell, heading=heading, new_slide=n > 1))
            return out, ""
        kept, trimmed = _trim_prose(blocks)
        if trimmed:
            notes = source
        return [Block("md", _md_height(b), b, cell=cell, heading=heading) for b in kept], notes
    if cell.cell_type == "code":
        chunks = _code_chunks(cell.source)
        blocks = [Block("code", _code_height(c), c, cell=cell) for c in chunks]
        for out in _slide_outputs(cell.get("outputs", []), widget_state):
            blocks.append(Block("out", _output_height(out), outputs=[out], cell=cell))
        return blocks, ""
    return [], ""


def _new_cell(block: Block, slide_type: str, continued: bool):
    cell = block.cell
    if block.kind == "md":
        text = block.text
        if continued and block.heading and not text.startswith("#"):
            text = f"{block.heading} (continued)\n\n{text}"
        new = nbformat.v4.new_markdown_cell(text)
    else:
        new = nbformat.v4.new_code_cell(block.text)
        new.execution_count = cell.get("execution_count")
        new.outputs = block.outputs
        if block.kind == "out":
            new.metadata["transient"] = {"remove_source": True}
        elif len(block.text.splitlines()) > CODE_LINES:
            new.metadata["tags"] = ["slide-small-code"]
    new.metadata["slideshow"] = {"slide_type": slide_type}
    return new


def presentable(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` rewritten so that every sub-slide fits a 1280×720 screen."""
    widget_state = nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    out = copy.deepcopy(nb)
    out.metadata.pop("widgets", None)  # widgets become static snapshots: no widget JS needed
    cells: list = []
    used = 0.0          # height used on the current sub-slide
    section_notes: list[str] = []
    notes_at = None     # index in ``cells`` after which the current section's notes go

    def flush_notes() -> None:
        nonlocal section_notes
        if section_notes and notes_at is not None:
            note = nbformat.v4.new_markdown_cell("\n\n---\n\n".join(section_notes))
            note.metadata["slideshow"] = {"slide_type": "notes"}
            cells.insert(notes_at + 1, note)
        section_notes = []

    for cell in nb.cells:
        kind = _slide_type(cell)
        if kind == "skip":
            continue
        if kind == "notes":
            section_notes.append(cell.source)
            continue
        blocks, notes = _blocks_of(cell, widget_state)
        if not blocks:
            continue
        for i, block in enumerate(blocks):
            own = kind if i == 0 else "-"
            starts = own in ("slide", "subslide") or not cells
            if not starts and (block.new_slide or used + block.height > BUDGET):
                starts, own = True, "subslide"
            if starts:
                flush_notes()
                used = 0.0
                notes_at = len(cells)
            continued = starts and i > 0
            cells.append(_new_cell(block, "slide" if not cells else own, continued))
            used += block.height
            if continued and block.kind == "md" and block.heading \
                    and not block.text.startswith("#"):
                used += _md_height(block.heading)  # the heading repeated "(continued)"
        if notes:
            section_notes.append(notes)
    flush_notes()
    out.cells = cells
    return out
