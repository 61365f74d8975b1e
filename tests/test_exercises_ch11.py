"""Chapter 11 checkers: the solutions pass, plausible wrong answers fail, stubs say ⏳."""

import numpy as np
import pytest
import torch

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected
from course_utils._maintain.testing import solution_notebook
from course_utils.checkpoint import load_checkpoint, restore_rng_state
from course_utils.exercises import ch11

pytestmark = pytest.mark.usefixtures("one_thread", "lenient_checkers")

NOTEBOOK = solution_notebook("11_imdb_project.ipynb")
NAMES = ["stratified_split", "resume_training", "precision_recall_f1", "worst_mistakes",
         "keep_words", "predict"]


# --- Exercise 1 ------------------------------------------------------------------------------
def split_not_stratified(strata, fractions, seed):
    order = np.random.default_rng(seed).permutation(len(strata))
    a, b = round(fractions[0] * len(order)), round((fractions[0] + fractions[1]) * len(order))
    return {"train": order[:a], "validation": order[a:b], "test": order[b:]}


def split_in_order(strata, fractions, seed):  # no shuffling: head/tail of the file
    n = len(strata)
    a, b = round(fractions[0] * n), round((fractions[0] + fractions[1]) * n)
    return {"train": np.arange(a), "validation": np.arange(a, b), "test": np.arange(b, n)}


def split_overlapping(strata, fractions, seed):  # validation and test drawn independently
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(strata))
    train, rest = train_test_split(idx, test_size=fractions[1] + fractions[2], random_state=seed,
                                   stratify=strata)
    val = train_test_split(rest, test_size=0.5, random_state=seed, stratify=np.asarray(strata)[rest])[0]
    test = train_test_split(rest, test_size=0.5, random_state=seed + 1, stratify=np.asarray(strata)[rest])[0]
    return {"train": train, "validation": val, "test": test}


def test_split_checker(nb):
    assert_passes(ch11.check_stratified_split, nb.stratified_split)
    assert_rejected(ch11.check_stratified_split, split_not_stratified, "not stratified")
    assert_rejected(ch11.check_stratified_split, split_in_order, "not stratified")
    assert_rejected(ch11.check_stratified_split, split_overlapping, "two splits")
    assert_not_attempted(ch11.check_stratified_split)


# --- Exercise 2 ------------------------------------------------------------------------------
def resume_as_printed(model, optimizer, scheduler, path):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint)
    optimizer.load_state_dict(checkpoint)


def resume_without_scheduler(model, optimizer, scheduler, path):
    state = load_checkpoint(path)
    model.load_state_dict(state["model_state_dict"])
    optimizer.load_state_dict(state["optimizer_state_dict"])
    restore_rng_state(state["rng_state"])
    return state["step"]


def resume_without_rng(model, optimizer, scheduler, path):
    state = load_checkpoint(path)
    model.load_state_dict(state["model_state_dict"])
    optimizer.load_state_dict(state["optimizer_state_dict"])
    scheduler.load_state_dict(state["scheduler_state_dict"])
    return state["step"]


def resume_model_only(model, optimizer, scheduler, path):
    state = load_checkpoint(path)
    model.load_state_dict(state["model_state_dict"])
    scheduler.load_state_dict(state["scheduler_state_dict"])
    restore_rng_state(state["rng_state"])
    return state["step"]


def test_resume_checker(nb):
    assert_passes(ch11.check_resume_training, nb.resume_training)
    assert_rejected(ch11.check_resume_training, resume_as_printed)
    assert_rejected(ch11.check_resume_training, resume_without_scheduler, "scheduler")
    assert_rejected(ch11.check_resume_training, resume_without_rng, "RNG")
    assert_rejected(ch11.check_resume_training, resume_model_only, "exp_avg")
    assert_not_attempted(ch11.check_resume_training)


# --- Exercise 3 ------------------------------------------------------------------------------
def prf_axes_swapped(cm):  # rows read as predictions
    (tn, fn), (fp, tp) = np.asarray(cm, dtype=float)
    p, r = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def prf_arithmetic_mean(cm):
    (tn, fp), (fn, tp) = np.asarray(cm, dtype=float)
    p, r = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": (p + r) / 2}


def prf_nan_on_empty(cm):
    (tn, fp), (fn, tp) = np.asarray(cm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p, r = tp / (tp + fp), tp / (tp + fn)
        return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r)}


def test_prf_checker(nb):
    assert_passes(ch11.check_prf, nb.precision_recall_f1)
    assert_rejected(ch11.check_prf, prf_axes_swapped)
    assert_rejected(ch11.check_prf, prf_arithmetic_mean)
    assert_rejected(ch11.check_prf, prf_nan_on_empty)
    assert_not_attempted(ch11.check_prf)


# --- Exercise 4 ------------------------------------------------------------------------------
def worst_including_right_ones(labels, p, k):
    p = np.asarray(p)
    return np.argsort(-np.maximum(p, 1 - p), kind="stable")[:k]


def worst_least_confident(labels, p, k):
    p, labels = np.asarray(p), np.asarray(labels)
    wrong = np.flatnonzero((p >= 0.5).astype(int) != labels)
    return wrong[np.argsort(np.maximum(p, 1 - p)[wrong], kind="stable")][:k]


def worst_sorted_by_p(labels, p, k):  # false positives first, false negatives last
    p, labels = np.asarray(p), np.asarray(labels)
    wrong = np.flatnonzero((p >= 0.5).astype(int) != labels)
    return wrong[np.argsort(-p[wrong], kind="stable")][:k]


def test_worst_mistakes_checker(nb):
    assert_passes(ch11.check_worst_mistakes, nb.worst_mistakes)
    assert_rejected(ch11.check_worst_mistakes, worst_including_right_ones)
    assert_rejected(ch11.check_worst_mistakes, worst_least_confident)
    assert_rejected(ch11.check_worst_mistakes, worst_sorted_by_p)
    assert_not_attempted(ch11.check_worst_mistakes)


# --- Exercise 5 ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def texts():
    from course_utils.project import data as pdata

    corpus = pdata.prepare_corpus("reviews", n_examples=1500, seed=0)
    tr, va = corpus.split("train"), corpus.split("validation")
    return (tr["text"].tolist(), tr["label"].to_numpy()), (va["text"].tolist(), va["label"].to_numpy())


def keep_ignores_side(text, n, side):
    return " ".join(text.split()[:n])


def keep_off_by_one(text, n, side):
    words = text.split()
    return " ".join(words[:n] if side == "start" else words[-n - 1:])


def test_truncation_experiment_checker(nb, texts):
    train, val = texts

    def check(keep, predict):
        return ch11.check_truncation_experiment(keep, predict, train, val, 12)

    assert_passes(check, (nb.keep_words, nb.predict))
    assert_rejected(check, (nb.keep_words, lambda: "start"))
    assert_rejected(check, (keep_ignores_side, nb.predict))
    assert_rejected(check, (keep_off_by_one, nb.predict))
    assert_not_attempted(check, 2)
