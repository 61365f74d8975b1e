"""Chapter 11, teach-then-import: the notebook's answers == course_utils.project's functions."""

import numpy as np
import pytest

from course_utils._maintain.testing import solution_notebook
from course_utils.chapters import get_chapter
from course_utils.project import evaluation as ev

pytestmark = pytest.mark.usefixtures("one_thread")

NOTEBOOK = solution_notebook("11_imdb_project.ipynb")
NAMES = ["stratified_split", "class_f1", "confident_mistakes", "keep_words"]


def test_notebook_metrics_equal_sklearn_and_course_utils(nb):
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(1)
    for _ in range(5):
        y, pred = rng.integers(0, 2, 60), rng.integers(0, 2, 60)
        theirs = nb.class_f1(ev.confusion(y, pred))
        assert theirs["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
        assert theirs["f1_positive"] == pytest.approx(ev.prf_from_confusion(ev.confusion(y, pred))["f1"])
        labels, probs = rng.integers(0, 2, 40), rng.uniform(0, 1, 40)
        per_class = nb.confident_mistakes(labels, probs, 40)
        worst = ev.worst_mistakes(labels, probs, 40).tolist()
        assert sorted(per_class[0] + per_class[1]) == sorted(worst)
        assert per_class[1] == [i for i in worst if labels[i] == 1]


def test_notebook_split_matches_the_library_split_proportions(nb):
    from course_utils.project.data import stratified_split

    strata = ["a"] * 70 + ["b"] * 30
    for split in (nb.stratified_split(strata, (0.7, 0.15, 0.15), 0),
                  stratified_split(strata, (0.7, 0.15, 0.15), 0)):
        arr = np.asarray(strata)
        assert sorted(np.concatenate(list(split.values())).tolist()) == list(range(100))
        assert abs((arr[split["test"]] == "b").sum() - 4.5) <= 1


def test_keep_words(nb):
    assert nb.keep_words("a b c d", 2, "end") == "c d"
    assert nb.keep_words("a b", 5, "start") == "a b"


def test_chapter_sizes_and_smoke_profile():
    chapter = get_chapter("11")
    quick, smoke = chapter.sizes_for("quick"), chapter.sizes_for("smoke")
    assert quick.source == "reviews" and smoke.source == "stanfordnlp/imdb"
    assert quick.resume_kill_at % quick.resume_every == 0 < quick.resume_kill_at < quick.resume_steps
    assert smoke.resume_kill_at % smoke.resume_every == 0 < smoke.resume_kill_at < smoke.resume_steps
    for sizes in (quick, smoke, chapter.sizes_for("full")):
        assert sizes.batch_size % 4 == 0  # halved for accumulation, then split over 2 ranks
    assert {t.name for t in chapter.all_targets("smoke")} == {"hub_finetune_val_acc", "test_acc"}
