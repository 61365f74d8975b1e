"""The single quick/full switch: every size a notebook uses comes from here.

``COURSE_PROFILE=quick|full|auto`` (default ``auto``: ``full`` when CUDA is available,
else ``quick``). ``quick`` finishes every chapter in <= 120 s on a 2-core CPU; ``full`` is
the real thing on one GPU. ``smoke`` (for CI) takes the full profile's code paths -- Hub
models, real dataset names -- at tiny sizes, on the fixture Hub
(``course_utils._maintain.hub_fixtures``); its numbers mean nothing. Notebooks read sizes only through the returned ``Profile``:
the few course-wide knobs as attributes, a chapter's own sizes via ``ch.sizes`` (defined
in ``course_utils/chapters/chNN.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

from course_utils.chapters import PROFILE_NAMES, SMOKE, get_chapter
from course_utils.validation import check_choice


@dataclass(frozen=True)
class Profile:
    """The course-wide knobs of one profile; chapter sizes come from the chapter modules."""

    name: str  # "quick" | "full"
    reason: str  # why this profile was chosen (shown in the banner)
    data_fraction: float  # share of the reviews corpus chapter 09's language model reads
    use_hub_models: bool  # try pretrained Hub checkpoints (when the Hub is reachable)
    torch_threads: int | None  # CPU threads for torch (None = torch's default); see below

    def sizes(self, chapter: str) -> Any:
        """Return the frozen size dataclass of ``chapter`` (e.g. ``"01"``) for this profile."""
        return get_chapter(chapter).sizes_for(self.name)

    def describe(self, chapter: str | None = None) -> str:
        """One line for the notebook banner (names the chapter's size class if given)."""
        line = f"profile: {self.name} ({self.reason})"
        if chapter is not None:
            line += (f" · sizes: {type(self.sizes(chapter)).__name__} "
                     f"(course_utils/chapters/ch{chapter}.py)")
        return line


_BASE = {
    # quick: one thread. The course's models are tiny; on a 2-core laptop (or CI runner
    # executing two notebooks at once) thread hand-offs cost more than they save, and
    # oversubscription made training 10-15x slower when measured.
    "quick": dict(data_fraction=0.25, use_hub_models=False, torch_threads=1),
    "full": dict(data_fraction=1.0, use_hub_models=True, torch_threads=None),
    SMOKE: dict(data_fraction=0.25, use_hub_models=True, torch_threads=1),
}
_NAMES = (*PROFILE_NAMES, SMOKE)


def get_profile(name: str, reason: str = "requested") -> Profile:
    """Build the named profile (``quick``, ``full`` or ``smoke``)."""
    check_choice("profile name", name, _NAMES)
    return Profile(name=name, reason=reason, **_BASE[name])


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return torch.cuda.is_available()


def current_profile() -> Profile:
    """Read ``COURSE_PROFILE`` (quick|full|smoke|auto, default auto) and return the profile."""
    raw = os.environ.get("COURSE_PROFILE", "auto").strip().lower() or "auto"
    check_choice("COURSE_PROFILE", raw, (*_NAMES, "auto"))
    if raw != "auto":
        return get_profile(raw, reason="COURSE_PROFILE")
    if _cuda_available():
        return get_profile("full", reason="auto: CUDA available")
    return get_profile("quick", reason="auto: no CUDA")


def profile_table() -> list[dict[str, Any]]:
    """Rows comparing quick and full (course-wide knobs), for the README and chapter 00."""
    quick, full = get_profile("quick"), get_profile("full")
    return [{"setting": f.name, "quick": getattr(quick, f.name), "full": getattr(full, f.name)}
            for f in fields(Profile) if f.name not in {"name", "reason"}]
