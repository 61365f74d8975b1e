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
from pathlib import Path

from course_utils._maintain.notebooks import chapter_notebooks
from course_utils.paths import repo_root
from course_utils.profile import current_profile

VENDOR_PACKAGES = ("reveal.js@4.0.2", "jquery@2.2.4", "requirejs@2.1.10", "mathjax@2.7.7",
                   "@jupyter-widgets/html-manager@1.0.15")
VENDOR = "vendor/node_modules"


def install_vendor(out: Path) -> bool:
    """npm-install the reveal.js stack into out/vendor (skipped if present)."""
    prefix = out / "vendor"
    if (prefix / "node_modules" / "@jupyter-widgets" / "html-manager" / "dist").exists():
        return True
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: decks will load reveal.js/MathJax from CDNs (needs network).")
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
            "--SlidesExporter.reveal_scroll=True",
            f"--TemplateExporter.extra_template_basedirs={repo_root() / 'tools' / 'templates'}",
            "--template", "reveal_offline"]
    if offline:
        args += [f"--SlidesExporter.reveal_url_prefix={VENDOR}/reveal.js",
                 f"--SlidesExporter.jquery_url={VENDOR}/jquery/dist/jquery.min.js",
                 f"--SlidesExporter.require_js_url={VENDOR}/requirejs/require.js",
                 f"--SlidesExporter.mathjax_url={VENDOR}/mathjax/MathJax.js"
                 "?config=TeX-AMS_CHTML-full,Safe",
                 f"--SlidesExporter.widget_renderer_url={VENDOR}/@jupyter-widgets/html-manager/"
                 "dist/embed-amd.js"]
    return args


def build_deck(source: Path, out: Path, offline: bool, execute: bool) -> Path:
    """Convert one notebook into out/<stem>.slides.html."""
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", str(source), "--output-dir", str(out),
           *nbconvert_args(offline)]
    if execute:
        cmd += ["--execute", "--ExecutePreprocessor.timeout=1800",
                "--ExecutePreprocessor.kernel_name=transformers-course"]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out / f"{source.stem}.slides.html"


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
    executed = repo_root() / "build" / "executed" / current_profile().name
    for path in chapter_notebooks():
        if args.chapters and path.name[:2] not in args.chapters:
            continue
        ready = executed / path.name
        use_executed = ready.exists() and ready.stat().st_mtime >= path.stat().st_mtime
        source = ready if use_executed else path
        deck = build_deck(source, args.out, offline, execute=not (use_executed or args.no_execute))
        print(f"{deck}" + ("" if offline else "  (CDN assets)"))
    print(f"Present with: python -m http.server -d {args.out} 8000  ->  http://localhost:8000/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
