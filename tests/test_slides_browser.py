"""A teacher's view: every chapter's deck presented slide by slide at 1280×720 in Chromium.

Builds each chapter's deck as ``make slides`` does (tools/make_slides.py) from the newest
executed copy of the solution notebook — ``make run-all``'s build/executed/<profile>/, or
the copy the nbval run of ``make test`` saves in build/executed/nbval-<profile>/ — and from
the notebook itself (prose and code, no outputs) when there is none; it never executes a
notebook. Serves the decks on 127.0.0.1, visits every slide and asserts: nothing taller
or wider than the screen, no code line cut off, maths rendered, every image loaded, no
request leaving the machine. One screenshot per chapter goes to build/slides-shots/.
Needs Chromium, the ``playwright`` package and npm (the vendored reveal.js/MathJax);
skips with a reason otherwise.
"""

from __future__ import annotations

import functools
import http.server
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chromium import launched_browser, require_chromium

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
SHOTS = ROOT / "build" / "slides-shots"
DECKS = ROOT / "build" / "slides-test"

require_chromium()  # skips this module without Chromium or playwright

import make_slides  # noqa: E402

from course_utils._maintain.notebooks import chapter_notebooks  # noqa: E402

CHAPTERS = [p.name[:2] for p in chapter_notebooks()]

# Visits every slide (Reveal.slide) and measures it as shown. Returns one record per slide.
PRESENT_JS = """async () => {
  const W = window.innerWidth, H = window.innerHeight;
  const raw = /\\$[^$\\s][^$]*\\$|\\\\\\(|\\\\\\[|\\$\\$/;
  // the deck re-renders a slide's math and re-fits it when it is shown (after MathJax's
  // queue); measure after that, as a presenter sees it
  const settled = () => new Promise(r => (window.MathJax && MathJax.Hub) ? MathJax.Hub.Queue(r) : r());
  const out = [];
  for (const s of Reveal.getSlides()) {
    const i = Reveal.getIndices(s);
    Reveal.slide(i.h, i.v);
    await settled();
    const r = s.getBoundingClientRect();
    let bottom = r.bottom, right = r.right;
    for (const el of s.querySelectorAll('*')) {
      if (el.closest('aside.notes, details:not([open]) > :not(summary), script')) continue;
      const e = el.getBoundingClientRect();
      if (e.width === 0 && e.height === 0) continue;
      bottom = Math.max(bottom, e.bottom); right = Math.max(right, e.right);
    }
    const cut = [...s.querySelectorAll('pre, code')].filter(
      el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1
            && !el.closest('details:not([open])'))
      .map(el => el.textContent.slice(0, 60));
    const walker = document.createTreeWalker(s, NodeFilter.SHOW_TEXT);
    const rawMath = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n.parentElement.closest('script, pre, code, aside.notes, .MathJax, .MathJax_Preview,'
                                  + ' .MathJax_CHTML, mjx-container')) continue;
      if (raw.test(n.textContent)) rawMath.push(n.textContent.slice(0, 60));
    }
    const badImages = [...s.querySelectorAll('img')].filter(
      im => !(im.complete && im.naturalWidth > 0)).map(im => im.src.slice(0, 60));
    out.push({h: i.h, v: i.v, top: r.top, bottom, right, W, H, cut, rawMath, badImages,
              zoom: parseFloat(s.getAttribute('data-fit-zoom') || '1'),
              notes: (Reveal.getSlideNotes(s) || '').length,
              images: s.querySelectorAll('.jp-OutputArea-output img, .slide-widget img').length,
              widget: s.querySelectorAll('.slide-widget img').length,
              title: (s.querySelector('h1, h2, h3') || {}).textContent || ''});
  }
  return out;
}"""


@pytest.fixture(scope="module")
def decks():
    """Build every chapter's deck (executed copies where they exist), serve them locally."""
    if not make_slides.install_vendor(ROOT / "build" / "slides"):
        pytest.skip("npm not available: the offline decks need reveal.js/MathJax from npm")
    DECKS.mkdir(parents=True, exist_ok=True)
    vendor = DECKS / "vendor"
    if not vendor.exists():
        vendor.symlink_to(ROOT / "build" / "slides" / "vendor", target_is_directory=True)
    sources = {}

    def build(path: Path) -> Path:
        source, executed = make_slides.deck_source(path)
        sources[path.name[:2]] = "executed" if executed else "not executed"
        return make_slides.build_deck(source, DECKS, offline=True, execute=False)

    with ThreadPoolExecutor(max_workers=2) as pool:
        built = dict(zip(CHAPTERS, pool.map(build, chapter_notebooks())))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(DECKS))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{server.server_address[1]}", "built": built,
           "sources": sources}
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with launched_browser() as b:
        yield b


def present(browser, url: str, shot: Path | None = None) -> tuple[list[dict], list[str]]:
    """Open a deck at 1280×720, visit every slide; return per-slide records, external URLs."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    external: list[str] = []

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_function("window.slidesFitted === true", timeout=60_000)
    slides = page.evaluate(PRESENT_JS)
    if shot is not None:  # a widget's last state, else the first figure, else slide 1
        target = next((s for s in slides if s["widget"]),
                      next((s for s in slides if s["images"]), slides[0]))
        page.evaluate(f"Reveal.slide({target['h']}, {target['v']})")
        page.wait_for_timeout(200)
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
    page.close()
    assert not errors, f"page errors: {errors[:3]}"
    return slides, external


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_deck_presents_at_1280x720(decks, browser, chapter):
    deck = decks["built"][chapter]
    slides, external = present(browser, f"{decks['base']}/{deck.name}",
                               SHOTS / f"{deck.name.replace('.slides.html', '')}.png")
    summary = {"chapter": chapter, "source": decks["sources"][chapter], "slides": len(slides),
               "shrunk": sum(s["zoom"] < 1 for s in slides),
               "min_zoom": min(s["zoom"] for s in slides),
               "with_notes": sum(s["notes"] > 0 for s in slides)}
    print(json.dumps(summary))
    where = lambda s: f"slide {s['h']}/{s['v']} {s['title'][:40]!r}"  # noqa: E731
    assert external == [], f"requests left the machine: {external[:5]}"
    tall = [where(s) for s in slides if s["bottom"] > s["H"] + 1 or s["top"] < -1]
    wide = [where(s) for s in slides if s["right"] > s["W"] + 1]
    cut = [(where(s), s["cut"][0]) for s in slides if s["cut"]]
    raw = [(where(s), s["rawMath"][0]) for s in slides if s["rawMath"]]
    images = [(where(s), s["badImages"][0]) for s in slides if s["badImages"]]
    assert not tall, f"{len(tall)} slides taller than the screen: {tall[:5]}"
    assert not wide, f"{len(wide)} slides wider than the screen: {wide[:5]}"
    assert not cut, f"{len(cut)} slides with code cut off: {cut[:5]}"
    assert not raw, f"{len(raw)} slides with raw maths: {raw[:5]}"
    assert not images, f"{len(images)} slides with images not loaded: {images[:5]}"
    # the safety net (fitSlides) may shrink a slide a little, never into unreadable type
    assert summary["min_zoom"] >= 0.7, summary
    # long prose was moved to the speaker notes (press S), so some slides carry notes
    assert summary["with_notes"] > 0, summary
