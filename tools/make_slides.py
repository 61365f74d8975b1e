"""Build reveal.js slide decks of every chapter into build/slides/, usable offline.

nbconvert's slides load reveal.js, jQuery, require.js and MathJax from CDNs by default,
so a deck shows as one long page without network. This script installs those four from
the npm registry into build/slides/vendor/ (once) and points the decks there, and drops
nbconvert's mermaid import with a template override (tools/templates/reveal_offline).
Without npm it falls back to the CDN defaults and says so.

Decks are made from executed notebooks (build/executed/<profile>/, written by
``make run-all``) when present, else the solution notebook is executed first.
Present: ``python -m http.server -d build/slides`` and open http://localhost:8000/.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils._maintain.notebooks import KERNEL_NAME, chapter_notebooks
from course_utils._maintain.slides import presentable
from course_utils.paths import repo_root
from course_utils.profile import current_profile

# Widgets are shown as static snapshots of their last state (course_utils/_maintain/slides.py),
# so the decks need no widget manager.
VENDOR_PACKAGES = ("reveal.js@4.0.2", "jquery@2.2.4", "requirejs@2.1.10", "mathjax@2.7.7")
VENDOR = "vendor/node_modules"


def install_vendor(out: Path) -> bool:
    """npm-install the reveal.js stack into out/vendor (skipped if present)."""
    prefix = out / "vendor"
    if all((prefix / "node_modules" / name.rsplit("@", 1)[0] / "package.json").exists()
           for name in VENDOR_PACKAGES):
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: decks will load reveal.js/MathJax from CDNs (needs network to "
              "present). Install Node.js/npm (e.g. apt-get install npm) for offline decks.")
        return False
    prefix.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error",
                             "--prefix", str(prefix), *VENDOR_PACKAGES],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"npm install failed ({result.stderr.strip()[-300:]}); using CDN defaults.")
        return False
    return True


def nbconvert_args(offline: bool) -> list[str]:
    """nbconvert options for an offline (vendored) or CDN deck."""
    args = ["--to", "slides", "--SlidesExporter.reveal_theme=white",
            f"--TemplateExporter.extra_template_basedirs={repo_root() / 'tools' / 'templates'}",
            "--template", "reveal_offline"]
    if offline:
        args += [f"--SlidesExporter.reveal_url_prefix={VENDOR}/reveal.js",
                 f"--SlidesExporter.jquery_url={VENDOR}/jquery/dist/jquery.min.js",
                 f"--SlidesExporter.require_js_url={VENDOR}/requirejs/require.js",
                 f"--SlidesExporter.mathjax_url={VENDOR}/mathjax/MathJax.js"
                 "?config=TeX-AMS_CHTML-full,Safe"]
    return args


def build_deck(source: Path, out: Path, offline: bool, execute: bool) -> Path:
    """Convert one notebook into out/<stem>.slides.html, rewritten to fit the screen.

    ``presentable`` (course_utils/_maintain/slides.py) packs the cells into sub-slides that
    fit 1280x720, moves long prose to the speaker notes, folds long outputs and turns
    widgets into snapshots; the notebook on disk is not changed.
    """
    nb = nbformat.read(source, as_version=4)
    if execute:
        NotebookClient(nb, timeout=1800, kernel_name=KERNEL_NAME,
                       resources={"metadata": {"path": str(source.parent)}}).execute()
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / source.name
        nbformat.write(presentable(nb), staged)
        cmd = [sys.executable, "-m", "jupyter", "nbconvert", str(staged), "--output-dir",
               str(out), *nbconvert_args(offline)]
        result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"nbconvert failed on {source.name}: {result.stderr.strip()[-800:]}")
    return out / f"{source.stem}.slides.html"


def deck_source(path: Path) -> tuple[Path, bool]:
    """The newest executed copy of a solution notebook, and whether one was found.

    ``make run-all`` writes build/executed/<profile>/ (with widget state); ``make test``'s
    nbval run writes build/executed/nbval-<profile>/ (notebooks/conftest.py). A copy older
    than the notebook is stale and ignored.
    """
    profile = current_profile().name
    for folder in (f"executed/{profile}", f"executed/nbval-{profile}"):
        ready = repo_root() / "build" / folder / path.name
        if ready.exists() and ready.stat().st_mtime >= path.stat().st_mtime:
            return ready, True
    return path, False


def main(argv: list[str] | None = None) -> int:
    """Build the decks of the given chapters (default: all)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("chapters", nargs="*", help="chapter numbers, e.g. 00 04 (default all)")
    parser.add_argument("--out", type=Path, default=repo_root() / "build" / "slides")
    parser.add_argument("--no-execute", action="store_true",
                        help="use the notebooks as they are (code only, no outputs)")
    parser.add_argument("--cdn", action="store_true", help="do not vendor; load from CDNs")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    offline = False if args.cdn else install_vendor(args.out)
    for path in chapter_notebooks():
        if args.chapters and path.name[:2] not in args.chapters:
            continue
        source, executed = deck_source(path)
        deck = build_deck(source, args.out, offline, execute=not (executed or args.no_execute))
        print(f"{deck}" + ("" if offline else "  (CDN assets)"))
    print(f"Present with: python -m http.server -d {args.out} 8000  ->  http://localhost:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
