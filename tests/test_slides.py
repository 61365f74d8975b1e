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
