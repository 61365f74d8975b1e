"""Headline numbers of every chapter: ``record(...)`` them, ``load_results`` them.

Files: ``results/<profile>/<chapter>.json`` (directory overridable with
``COURSE_RESULTS_DIR``), one object per chapter ``{name: {value, unit, note}}``. Writes are
atomic and merged under a file lock (``filelock``: Linux, macOS and Windows alike), so the
student and solution notebooks may run at the same time. Files get the user's umask
permissions. A results file that is not valid JSON is named in the error; ``record`` moves
it aside (``NN.json.corrupt``) and starts afresh, and the README table shows it as a row.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from filelock import FileLock

from course_utils.paths import repo_root
from course_utils.validation import check_type

_CHAPTER_RE = re.compile(r"^\d\d$")
_PROFILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")


def results_dir(profile: str | None = None) -> Path:
    """Where results of ``profile`` (default: the current profile) are stored."""
    if profile is None:
        from course_utils.profile import current_profile

        profile = current_profile().name
    check_type("profile", profile, str)
    if not _PROFILE_RE.fullmatch(profile):
        raise ValueError(f"profile must be a plain name such as 'quick' or 'full' (letters, "
                         f"digits, '-', '_'), got {profile!r}")
    base = Path(os.environ.get("COURSE_RESULTS_DIR", repo_root() / "results"))
    return base / profile


def _check_chapter(chapter: str) -> None:
    check_type("chapter", chapter, str)
    if not _CHAPTER_RE.match(chapter):
        raise ValueError(f"chapter must be a two-digit string such as '04', got {chapter!r}")


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_suffix(".lock")), timeout=120):
        yield


def _umask_mode(mode: int = 0o666) -> int:
    current = os.umask(0)
    os.umask(current)
    return mode & ~current


def _atomic_write_json(path: Path, data: dict[str, Any]) -> None:
    # serialise first: a value JSON cannot hold (or NaN) fails before any file exists
    text = json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, _umask_mode())  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ResultsFileError(ValueError):
    """A results file that cannot be read (not JSON, or not ``{name: {value, ...}}``)."""


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
    check_type("unit", unit, str)
    check_type("note", note, str)
    path = results_dir(profile) / f"{chapter}.json"
    with _locked(path):
        try:
            data = load_results(chapter, profile)
        except ResultsFileError as err:
            aside = path.with_name(path.name + ".corrupt")
            os.replace(path, aside)
            warnings.warn(f"{err}; moved it to {aside.name} and started a new file",
                          stacklevel=2)
            data = {}
        data[name] = {"value": value, "unit": unit, "note": note}
        _atomic_write_json(path, data)
    return value


def load_results(chapter: str, profile: str | None = None) -> dict[str, Any]:
    """All recorded entries of ``chapter`` (empty dict if nothing was recorded)."""
    _check_chapter(chapter)
    path = results_dir(profile) / f"{chapter}.json"
    if not path.exists():
        return {}
    return _read(path)


def _read(path: Path) -> dict[str, Any]:
    """A results file's entries; ResultsFileError names the file and the fix."""
    try:
        from course_utils.chapters import get_chapter

        notebook = f"notebooks/solutions/{get_chapter(path.stem).stem}.ipynb"
    except Exception:  # an unknown chapter number: name the folder instead
        notebook = f"notebooks/solutions/{path.stem}_*.ipynb"
    fix = f"delete it and re-run the chapter (make run-all NOTEBOOKS={notebook})"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ResultsFileError(f"{path} is not valid JSON ({err}); {fix}") from None
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and "value" in v for v in data.values()):
        raise ResultsFileError(f"{path} is not a results file ({{name: {{value, unit, note}}}} "
                               f"expected); {fix}")
    return data


def record_runtime(chapter: str, seconds: float, profile: str | None = None) -> float:
    """Record how long the chapter's notebook took (seconds, wall clock)."""
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    record(chapter, "runtime_s", round(float(seconds), 1), unit="s",
           note=f"notebook wall time, measured {stamp}", profile=profile)
    return seconds


def runtime_summary(profile: str | None = None) -> str:
    """One line with each chapter's recorded runtime, e.g. ``02 93.2 s · 11 140.4 s`` (for CI logs)."""
    folder = results_dir(profile)
    parts = []
    for path in sorted(folder.glob("[0-9][0-9].json")):
        entry = load_results(path.stem, profile).get("runtime_s")
        parts.append(f"{path.stem} {entry['value']} s" if entry else f"{path.stem} -")
    return f"runtimes ({folder}): " + (" · ".join(parts) if parts else "none recorded")


if __name__ == "__main__":  # python -m course_utils.results: the runtime line
    print(runtime_summary())
