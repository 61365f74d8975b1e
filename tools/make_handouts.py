"""Print every chapter's deck to a PDF handout: build/handouts/NN_stem.pdf.

Builds the decks as ``make slides`` does (tools/make_slides.py: executed copies where they
exist, else the notebook is executed), serves them on 127.0.0.1 and prints each with
headless Chromium through reveal.js's ``?print-pdf`` mode: one page per sub-slide, all
fragments shown, answers and long outputs folded as on screen. ``--notes`` adds a page
of speaker notes after each slide that has them. Needs npm (offline decks), Chromium and
the ``playwright`` Python package; without them it says what is missing and stops.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_slides  # noqa: E402

from course_utils._maintain.notebooks import chapter_notebooks  # noqa: E402
from course_utils._maintain.slides import SLIDE_H, SLIDE_W  # noqa: E402
from course_utils.paths import repo_root  # noqa: E402


def find_chromium() -> str | None:
    """The Chromium the tests use: $COURSE_CHROMIUM, else chromium on PATH."""
    return (os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))


def missing_tools() -> list[str]:
    """What is needed to print handouts and is not installed, with how to get it."""
    missing = []
    if shutil.which("npm") is None and not (repo_root() / "build" / "slides" / "vendor").exists():
        missing.append("npm (offline reveal.js/MathJax for the decks): apt-get install npm")
    if find_chromium() is None:
        missing.append("Chromium: apt-get install chromium (or set COURSE_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright Python package: make setup (it is a dev dependency)")
    return missing


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    """A quiet static server for ``folder`` on 127.0.0.1 (a free port), in a thread."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def print_decks(decks: list[Path], out: Path, notes: bool) -> list[Path]:
    """Print each deck (all in one folder) to out/<stem>.pdf with headless Chromium."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    server = serve(decks[0].parent)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=find_chromium(), args=[
                "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"])
            for deck in decks:
                page = browser.new_page(viewport={"width": SLIDE_W, "height": SLIDE_H})
                page.route("**/*", lambda r: r.continue_()
                           if r.request.url.startswith(("http://127.0.0.1", "data:"))
                           else r.abort())
                page.goto(f"{base}/{deck.name}?print-pdf" + ("&notes" if notes else ""))
                page.wait_for_function("window.slidesFitted === true", timeout=120_000)
                page.wait_for_selector(".pdf-page", state="attached", timeout=60_000)
                page.wait_for_timeout(500)
                target = out / deck.name.replace(".slides.html", ".pdf")
                page.pdf(path=str(target), print_background=True, prefer_css_page_size=True)
                page.close()
                written.append(target)
                print(target)
            browser.close()
    finally:
        server.shutdown()
    return written


def main(argv: list[str] | None = None) -> int:
    """Build and print the handouts of the given chapters (default: all)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("chapters", nargs="*", help="chapter numbers, e.g. 00 04 (default all)")
    parser.add_argument("--out", type=Path, default=repo_root() / "build" / "handouts")
    parser.add_argument("--notes", action="store_true", help="add the speaker-notes pages")
    parser.add_argument("--no-execute", action="store_true",
                        help="use the notebooks as they are when no executed copy exists")
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print("Cannot print handouts; missing:\n  - " + "\n  - ".join(missing))
        return 2
    slides = repo_root() / "build" / "slides"
    slides.mkdir(parents=True, exist_ok=True)
    if not make_slides.install_vendor(slides):
        print("Cannot print handouts: the decks need reveal.js/MathJax from npm (see above).")
        return 2
    decks = []
    for path in chapter_notebooks():
        if args.chapters and path.name[:2] not in args.chapters:
            continue
        source, executed = make_slides.deck_source(path)
        decks.append(make_slides.build_deck(source, slides, offline=True,
                                            execute=not (executed or args.no_execute)))
    if not decks:
        print("No chapter matched.")
        return 1
    print_decks(decks, args.out, args.notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
