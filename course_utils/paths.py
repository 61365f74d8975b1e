"""Where the course lives on disk: the repository root (the parent of ``course_utils``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["repo_root"]


def repo_root() -> Path:
    """The course repository: the folder holding ``course_utils/``, ``notebooks/``, ``data/``."""
    return Path(__file__).resolve().parents[1]
