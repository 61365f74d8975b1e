"""Headline numbers of every chapter: ``record(...)`` them, ``load_results`` them.

Files: ``results/<profile>/<chapter>.json`` (directory overridable with
``COURSE_RESULTS_DIR``), one object per chapter ``{name: {value, unit, note}}``. Writes are
atomic and merged under a file lock, so the student and solution notebooks may run at the
same time.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import re
import tempfile
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from course_utils.paths import repo_root
from course_utils.validation import check_type

_CHAPTER_RE = re.compile(r"^\d\d$")


def results_dir(profile: str | None = None) -> Path:
    """Where results of ``profile`` (default: the current profile) are stored."""
    if profile is None:
        from course_utils.profile import current_profile

        profile = current_profile().name
    base = Path(os.environ.get("COURSE_RESULTS_DIR", repo_root() / "results"))
    return base / profile


def _check_chapter(chapter: str) -> None:
    check_type("chapter", chapter, str)
    if not _CHAPTER_RE.match(chapter):
        raise ValueError(f"chapter must be a two-digit string such as '04', got {chapter!r}")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.replace(tmp, path)


def record(chapter: str, name: str, value: float | int | bool | str, unit: str = "",
           note: str = "", profile: str | None = None) -> float | int | bool | str:
    """Store one headline number of ``chapter`` (e.g. ``record("04", "test_acc", 0.97)``)."""
    _check_chapter(chapter)
    check_type("name", name, str)
    if not name or not re.match(r"^[A-Za-z0-9_.\-]+$", name):
        raise ValueError(f"name must be a non-empty identifier like 'test_acc', got {name!r}")
    if hasattr(value, "item"):  # numpy / torch scalars
        value = value.item()
    check_type("value", value, (int, float, bool, str))
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"value must be finite, got {value} for {chapter}/{name}")
    path = results_dir(profile) / f"{chapter}.json"
    with _locked(path):
        data = load_results(chapter, profile)
        data[name] = {"value": value, "unit": unit, "note": note}
        _atomic_write_json(path, data)
    return value


def load_results(chapter: str, profile: str | None = None) -> dict[str, Any]:
    """All recorded entries of ``chapter`` (empty dict if nothing was recorded)."""
    _check_chapter(chapter)
    path = results_dir(profile) / f"{chapter}.json"
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def record_runtime(chapter: str, seconds: float, profile: str | None = None) -> float:
    """Record how long the chapter's notebook took (seconds, wall clock)."""
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    record(chapter, "runtime_s", round(float(seconds), 1), unit="s",
           note=f"notebook wall time, measured {stamp}", profile=profile)
    return seconds
