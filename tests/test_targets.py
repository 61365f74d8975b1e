"""Chapter targets, asserted on the numbers the notebooks recorded.

Runs after the notebooks (``make test`` -> test-after) and reads
``$COURSE_RESULTS_DIR/<profile>/NN.json``. The targets live with each chapter in
``course_utils/chapters/chNN.py``. A written chapter that recorded nothing fails: its
notebook run did not reach its ``ch.record(...)`` calls.
"""

from __future__ import annotations

import os

import pytest

from course_utils.chapters import all_chapters
from course_utils.paths import repo_root
from course_utils.results import load_results

pytestmark = pytest.mark.targets
PROFILE = os.environ.get("COURSE_PROFILE", "quick")
WRITTEN = [c for c in all_chapters() if c.notebook(repo_root()).exists()]
CASES = [(c, t) for c in WRITTEN for t in c.all_targets(PROFILE)]


@pytest.mark.skipif("COURSE_RESULTS_DIR" not in os.environ,
                    reason="needs COURSE_RESULTS_DIR from a notebook run (make test)")
@pytest.mark.parametrize("chapter,target", CASES,
                         ids=[f"{c.number}-{t.name}" for c, t in CASES])
def test_chapter_target(chapter, target):
    recorded = load_results(chapter.number, PROFILE)
    assert recorded, f"chapter {chapter.number} recorded nothing in {PROFILE} (did its notebook run?)"
    assert target.name in recorded, \
        f"chapter {chapter.number} did not record {target.name!r}: {sorted(recorded)}"
    value = recorded[target.name]["value"]
    assert target.holds(value), \
        f"{target.why}: {target.name} = {value}, target {target.op} {target.threshold}"
