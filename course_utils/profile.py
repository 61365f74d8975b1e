"""The single quick/full switch: every size a notebook uses comes from here.

``COURSE_PROFILE=quick|full|auto`` (default ``auto``: ``full`` when CUDA is available,
else ``quick``). ``quick`` finishes every chapter in <= 120 s on a 2-core CPU; ``full`` is
the real thing on one GPU. Notebooks read sizes only through the returned ``Profile`` --
general knobs as attributes, chapter-specific ones via ``P.sizes("NN")``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from course_utils.validation import check_choice

PROFILE_NAMES = ("quick", "full")


# ---------------------------------------------------------------------------------------
# Chapter sizes: one frozen dataclass per chapter, with a quick and a full instance.
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ch00Sizes:
    """Chapter 00: tiny MLPs trained on a fixed task to fit a scaling law."""

    widths: tuple[int, ...]  # hidden widths of the models in the scaling sweep
    depth: int  # hidden layers per model
    train_steps: int  # optimizer steps per model
    n_train: int  # training examples of the synthetic task
    n_test: int


_CHAPTER_SIZES: dict[str, dict[str, Any]] = {
    "00": {
        "quick": Ch00Sizes(widths=(2, 4, 8, 16, 32, 64), depth=2, train_steps=400,
                           n_train=8192, n_test=4096),
        "full": Ch00Sizes(widths=(2, 4, 8, 16, 32, 64, 128, 256, 512), depth=3,
                          train_steps=3000, n_train=65536, n_test=16384),
    },
    # <chapter-sizes>: chapters add their entries below this line (keep numeric order).
}


@dataclass(frozen=True)
class Profile:
    """Sizes shared by every chapter plus per-chapter sizes; frozen so nothing drifts."""

    name: str  # "quick" | "full"
    reason: str  # why this profile was chosen (shown in the banner)
    data_fraction: float  # share of each dataset split used for training/eval
    batch_size: int  # default mini-batch size
    eval_batches: int  # batches per periodic evaluation
    max_train_seconds: float  # soft wall-clock budget for one training run
    use_hub_models: bool  # try pretrained Hub checkpoints (when the Hub is reachable)
    chapters: MappingProxyType = field(repr=False, default_factory=lambda: MappingProxyType({}))

    def sizes(self, chapter: str) -> Any:
        """Return the frozen size dataclass of ``chapter`` (e.g. ``"01"``) for this profile."""
        if chapter not in self.chapters:
            raise KeyError(
                f"no sizes for chapter {chapter!r} in profile {self.name!r}; "
                f"known chapters: {sorted(self.chapters)}"
            )
        return self.chapters[chapter]

    def describe(self) -> str:
        """One line for the notebook banner."""
        return (f"profile: {self.name} ({self.reason}) · batch {self.batch_size} · "
                f"data {self.data_fraction:.0%} · budget {self.max_train_seconds:.0f} s/run")


_BASE = {
    "quick": dict(data_fraction=0.25, batch_size=64, eval_batches=4, max_train_seconds=45.0,
                  use_hub_models=False),
    "full": dict(data_fraction=1.0, batch_size=128, eval_batches=50, max_train_seconds=1800.0,
                 use_hub_models=True),
}


def _chapters_for(name: str) -> MappingProxyType:
    return MappingProxyType({ch: by_name[name] for ch, by_name in _CHAPTER_SIZES.items()})


def get_profile(name: str, reason: str = "requested") -> Profile:
    """Build the named profile (``quick`` or ``full``)."""
    check_choice("profile name", name, PROFILE_NAMES)
    return Profile(name=name, reason=reason, chapters=_chapters_for(name), **_BASE[name])


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a hard dependency
        return False
    return torch.cuda.is_available()


def current_profile() -> Profile:
    """Read ``COURSE_PROFILE`` (quick|full|auto, default auto) and return the profile."""
    raw = os.environ.get("COURSE_PROFILE", "auto").strip().lower() or "auto"
    check_choice("COURSE_PROFILE", raw, (*PROFILE_NAMES, "auto"))
    if raw != "auto":
        return get_profile(raw, reason="COURSE_PROFILE")
    if _cuda_available():
        return get_profile("full", reason="auto: CUDA available")
    return get_profile("quick", reason="auto: no CUDA")


def profile_table() -> list[dict[str, Any]]:
    """Rows comparing quick and full (general knobs), for the README and chapter 00."""
    quick, full = get_profile("quick"), get_profile("full")
    skip = {"name", "reason", "chapters"}
    return [{"setting": f.name, "quick": getattr(quick, f.name), "full": getattr(full, f.name)}
            for f in fields(Profile) if f.name not in skip]
