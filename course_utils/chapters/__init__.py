"""Every chapter's knowledge in one module: ``course_utils/chapters/chNN.py`` defines ``CHAPTER``.

A ``ChapterSpec`` holds the catalog row (number, notebook stem, title), the quick and full
sizes, the targets (name, comparison, threshold, why) and the checker module. Modules are
found automatically; chapters that are not written yet appear in ``PLANNED`` (a module
with the same number replaces its row). Adding a chapter means adding ``chNN.py`` here,
its solutions notebook, its lesson code and tests -- nothing else is edited.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from course_utils.chapters.spec import PROFILE_NAMES, SMOKE, ChapterSpec, Target

__all__ = ["ChapterSpec", "Target", "PROFILE_NAMES", "SMOKE", "all_chapters", "get_chapter", "PLANNED"]

#: Rows of chapters that have no module yet (number -> (stem, title)).
PLANNED: dict[str, tuple[str, str]] = {
    "05": ("05_peft", "Parameter-efficient fine-tuning"),
    "06": ("06_data_augmentation", "Data augmentation"),
    "07": ("07_mixed_precision_multi_gpu", "Mixed precision & multi-GPU"),
    "08": ("08_contrastive_adversarial", "Contrastive & adversarial training"),
    "10": ("10_distillation_pruning", "Distillation, pruning & quantization"),
    "11": ("11_imdb_project", "End-to-end IMDB project"),
}


@lru_cache(maxsize=1)
def all_chapters() -> tuple[ChapterSpec, ...]:
    """Every chapter in number order: the ``chNN`` modules, then planned rows for the rest."""
    found: dict[str, ChapterSpec] = {}
    for info in pkgutil.iter_modules(__path__):
        if not (info.name.startswith("ch") and info.name[2:].isdigit()):
            continue
        spec = importlib.import_module(f"{__name__}.{info.name}").CHAPTER
        if spec.number != info.name[2:]:
            raise ValueError(f"{info.name}.py defines chapter {spec.number!r}")
        found[spec.number] = spec
    for number, (stem, title) in PLANNED.items():
        found.setdefault(number, ChapterSpec(number, stem, title))
    return tuple(found[n] for n in sorted(found))


def get_chapter(number: str) -> ChapterSpec:
    """The chapter with two-digit ``number`` (e.g. ``"04"``)."""
    for spec in all_chapters():
        if spec.number == number:
            return spec
    raise KeyError(f"unknown chapter {number!r}; chapters are "
                   f"{[c.number for c in all_chapters()]}")
