"""The setup cell of every chapter: ``ch = start_chapter("04")``.

Prints one banner line (profile, device, Hub status, seed) and the versions, seeds all
RNGs, and returns a ``Chapter`` handle: ``ch.sizes`` (this chapter's sizes in the current
profile), ``ch.use_hub`` (whether to load the Hub's pretrained models here),
``ch.record(name, value)`` (a headline number into ``results/<profile>/NN.json``) and
``ch.finish()`` (records the notebook's runtime).
Import it first: importing ``course_utils`` decides online/offline before ``transformers``
or ``datasets`` are imported.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import torch

from course_utils.assets import HubStatus, hub_status
from course_utils.profile import Profile, current_profile
from course_utils.chapters import ChapterSpec, get_chapter
from course_utils.results import record, record_runtime
from course_utils.runtime import CORE_PACKAGES, get_device, package_version, set_seed

_VERSIONS_SHOWN = ("torch", "transformers", "datasets", "tokenizers", "peft")


@dataclass
class Chapter:
    """Profile, device, Hub status and seed of the running chapter."""

    number: str
    profile: Profile
    device: torch.device
    hub: HubStatus
    seed: int
    started: float = field(default_factory=time.perf_counter)
    runtime_s: float | None = None

    @property
    def sizes(self) -> Any:
        """This chapter's sizes in the current profile."""
        return self.profile.sizes(self.number)

    @property
    def spec(self) -> ChapterSpec:
        """Catalog row, sizes and targets of this chapter (``course_utils/chapters``)."""
        return get_chapter(self.number)

    @property
    def use_hub(self) -> bool:
        """True when this profile uses pretrained Hub models and the Hub is reachable."""
        return self.hub.online and self.profile.use_hub_models

    @property
    def quick(self) -> bool:
        """True in the quick (CPU, CI) profile."""
        return self.profile.name == "quick"

    def elapsed(self) -> float:
        """Seconds since ``start_chapter``."""
        return time.perf_counter() - self.started

    def record(self, name: str, value: float | int | bool | str, unit: str = "",
               note: str = "") -> float | int | bool | str:
        """Store a headline number of this chapter in the current profile; returns ``value``."""
        return record(self.number, name, value, unit=unit, note=note,
                      profile=self.profile.name)

    @property
    def smoke(self) -> bool:
        """True in the smoke profile: full-profile code paths, tiny random models."""
        return self.profile.name == "smoke"

    def claim(self, holds: bool, message: str) -> None:
        """Assert a claim the prose makes about this run's results (e.g. "beats the baseline").

        In the smoke profile (tiny sizes, random fixture models) results mean nothing, so the
        claim is reported instead of enforced; exact properties (parity, shapes) stay plain
        ``assert`` statements.
        """
        if holds:
            return
        if self.smoke:
            print(f"(smoke run: not checked -- {message})")
            return
        raise AssertionError(message)

    def finish(self) -> None:
        """Record and print the notebook's runtime (also kept in ``runtime_s``)."""
        seconds = self.runtime_s = self.elapsed()
        record_runtime(self.number, seconds, profile=self.profile.name)
        print(f"Chapter {self.number} finished in {seconds:.1f} s "
              f"(profile {self.profile.name}, device {self.device}).")


def start_chapter(number: str, seed: int = 0, show_versions: bool = True) -> Chapter:
    """Seed everything, pick profile, device and CPU threads, print the banner, return the handle."""
    if not isinstance(number, str) or not re.fullmatch(r"\d\d", number):
        raise ValueError(f"number must be a two-digit chapter string like '04', got {number!r}")
    get_chapter(number)  # unknown chapters fail here, with the list of known ones
    profile = current_profile()
    device = get_device()
    if device.type == "cpu" and profile.torch_threads is not None:
        torch.set_num_threads(profile.torch_threads)
        if profile.torch_threads == 1:  # the tokenizers' Rust thread pool too (read at first use)
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    hub = hub_status()
    set_seed(seed)
    chapter = Chapter(number, profile, device, hub, seed)
    print(f"Chapter {number} · {profile.describe(number)}")
    print(f"device: {device} · {hub} · seed {seed} · torch threads {torch.get_num_threads()}")
    if show_versions:
        shown = [p for p in _VERSIONS_SHOWN if p in CORE_PACKAGES or p == "peft"]
        print("versions: " + " · ".join(f"{p} {package_version(p) or 'missing'}" for p in shown))
    return chapter
