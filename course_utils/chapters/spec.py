"""What the course knows about one chapter: catalog row, sizes per profile, targets."""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}
PROFILE_NAMES = ("quick", "full")  # the two profiles whose sizes a chapter defines
SMOKE = "smoke"  # the full profile's code paths at tiny sizes, on the fixture Hub (CI)


@dataclass(frozen=True)
class Target:
    """One headline target: ``recorded[name] <op> threshold`` in the given profiles."""

    name: str  # result name the notebook records with ``ch.record(name, ...)``
    op: str  # "<=", ">=" or "=="
    threshold: float | int | bool
    why: str  # one line: what the target shows
    profiles: tuple[str, ...] = ("quick",)

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {self.op!r} ({self.name})")
        unknown = set(self.profiles) - {*PROFILE_NAMES, SMOKE}
        if unknown:
            raise ValueError(f"profiles must be among {(*PROFILE_NAMES, SMOKE)}, "
                             f"got {sorted(unknown)}")

    def holds(self, value: Any) -> bool:
        """True if ``value`` meets the target."""
        return bool(_OPS[self.op](value, self.threshold))


@dataclass(frozen=True)
class ChapterSpec:
    """Everything the framework knows about a chapter; defined once in ``chapters/chNN.py``."""

    number: str  # two digits, fixed by the spec
    stem: str  # notebook file name without .ipynb (student and solutions alike)
    title: str
    sizes: Mapping[str, Any] = field(default_factory=dict)  # {"quick": ..., "full": ...}
    targets: tuple[Target, ...] = ()
    runtime_budget_s: float = 120.0  # quick-profile wall time of the notebook
    checkers: str | None = None  # module of the exercise checkers (None: none)
    # smoke profile = the full sizes with these fields replaced (tiny, seconds on a CPU);
    # its targets (profiles=("smoke",)) check that the full-profile branches ran
    smoke: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (len(self.number) == 2 and self.number.isdigit()):
            raise ValueError(f"number must be two digits like '05', got {self.number!r}")
        if not self.stem.startswith(f"{self.number}_"):
            raise ValueError(f"stem must start with '{self.number}_', got {self.stem!r}")
        if self.sizes and set(self.sizes) != set(PROFILE_NAMES):
            raise ValueError(f"chapter {self.number}: sizes needs exactly {PROFILE_NAMES}, "
                             f"got {sorted(self.sizes)}")
        object.__setattr__(self, "sizes", MappingProxyType(dict(self.sizes)))
        object.__setattr__(self, "smoke", MappingProxyType(dict(self.smoke)))
        if self.smoke and not self.sizes:
            raise ValueError(f"chapter {self.number}: smoke overrides need full sizes")
        unknown = set(self.smoke) - set(vars(self.sizes["full"])) if self.smoke else set()
        if unknown:
            raise ValueError(f"chapter {self.number}: smoke overrides {sorted(unknown)} are not "
                             f"fields of {type(self.sizes['full']).__name__}")

    def sizes_for(self, profile: str) -> Any:
        """The size dataclass of ``profile`` (``smoke``: full with the smoke overrides)."""
        if profile == SMOKE and "full" in self.sizes:
            return replace(self.sizes["full"], **self.smoke)
        if profile not in self.sizes:
            raise KeyError(f"chapter {self.number!r} defines no sizes for profile {profile!r} "
                           f"(course_utils/chapters/ch{self.number}.py)")
        return self.sizes[profile]

    def notebook(self, root: Path, solution: bool = True) -> Path:
        """Path of the chapter's solution (or student) notebook under ``root``."""
        folder = root / "notebooks" / ("solutions" if solution else "")
        return folder / f"{self.stem}.ipynb"

    def all_targets(self, profile: str) -> list[Target]:
        """This chapter's targets in ``profile``, plus the runtime budget in quick."""
        found = [t for t in self.targets if profile in t.profiles]
        if profile == "quick" and not any(t.name == "runtime_s" for t in found):
            found.append(Target("runtime_s", "<=", self.runtime_budget_s,
                                f"the notebook runs in <= {self.runtime_budget_s:.0f} s"))
        return found
