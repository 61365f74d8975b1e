"""Execute every chapter notebook headless into build/executed/ and refresh the README.

Runs the solution notebooks (complete, with every exercise solved) one after another with
the course kernel, records each notebook's wall time, then regenerates the README's
chapter table and results table from results/<profile>/. Usage: ``make run-all``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils._maintain.notebooks import KERNEL_NAME, chapter_notebooks
from course_utils._maintain.readme import update_readme
from course_utils.paths import repo_root
from course_utils.profile import current_profile
from course_utils.results import record


def run_notebook(path: Path, out_dir: Path, timeout: int) -> float:
    """Execute one notebook; write the executed copy; return wall seconds."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out_dir / path.name)
    return seconds


def main(argv: list[str] | None = None) -> int:
    """Run the notebooks given (default: all) and refresh the README tables."""
    parser = argparse.ArgumentParser()
    parser.add_argument("notebooks", nargs="*", help="solution notebooks (default: all)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    parser.add_argument("--readme-only", action="store_true", help="only refresh the README")
    args = parser.parse_args(argv)
    root, profile = repo_root(), current_profile().name
    paths = [Path(p) for p in args.notebooks] or chapter_notebooks()
    failed = []
    for path in [] if args.readme_only else paths:
        print(f"running {path.name} (profile {profile}) ...", flush=True)
        try:
            seconds = run_notebook(path, root / "build" / "executed" / profile, args.timeout)
        except Exception as err:  # keep going; report at the end
            failed.append(path.name)
            print(f"  FAILED: {type(err).__name__}: {str(err)[:400]}")
            continue
        record(path.name[:2], "notebook_wall_s", round(seconds, 1), unit="s",
               note="make run-all, incl. kernel start", profile=profile)
        print(f"  done in {seconds:.1f} s")
    update_readme(root / "README.md", profile="quick")
    print("README tables refreshed." + (f" Failed: {failed}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
