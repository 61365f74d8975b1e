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
NAMES = ["stratified_split", "resume_training", "class_f1", "confident_mistakes",
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


def _cut_each_stratum(strata, fractions, order):  # order(rows) -> the stratum's rows, reordered
    strata, out = np.asarray(strata), {"train": [], "validation": [], "test": []}
    for s in np.unique(strata):
        rows = order(np.flatnonzero(strata == s))
        a = round(fractions[0] * len(rows))
        b = a + round(fractions[1] * len(rows))
        out["train"] += rows[:a].tolist()
        out["validation"] += rows[a:b].tolist()
        out["test"] += rows[b:].tolist()
    return out


def split_unseeded(strata, fractions, seed):  # ignores seed: nobody can reproduce it
    return _cut_each_stratum(strata, fractions, np.random.default_rng().permutation)


def split_no_shuffle(strata, fractions, seed):  # stratified, but each stratum's first rows -> train
    return _cut_each_stratum(strata, fractions, lambda rows: rows)


def test_split_checker(nb):
    assert_rejected(ch11.check_stratified_split, split_unseeded, "ignores `seed`")
    assert_rejected(ch11.check_stratified_split, split_no_shuffle, "not shuffled")
    assert_passes(ch11.check_stratified_split, nb.stratified_split)
    assert_rejected(ch11.check_stratified_split, split_not_stratified, "not stratified")
    assert_rejected(ch11.check_stratified_split, split_in_order, "not stratified")
    assert_rejected(ch11.check_stratified_split, split_overlapping, "two splits")
    assert_rejected(ch11.check_stratified_split, split_sized_by_test_share, "not stratified")
    assert_rejected(ch11.check_stratified_split, split_global_rng, "global RNG")
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


def resume_torch_rng_only(model, optimizer, scheduler, path):
    state = load_checkpoint(path)
    model.load_state_dict(state["model_state_dict"])
    optimizer.load_state_dict(state["optimizer_state_dict"])
    scheduler.load_state_dict(state["scheduler_state_dict"])
    torch.set_rng_state(state["rng_state"]["torch"])
    return state["step"]


def resume_no_exp_avg_sq(model, optimizer, scheduler, path):
    state = load_checkpoint(path)
    model.load_state_dict(state["model_state_dict"])
    opt = state["optimizer_state_dict"]
    for moments in opt["state"].values():
        moments["exp_avg_sq"] = torch.zeros_like(moments["exp_avg_sq"])
    optimizer.load_state_dict(opt)
    scheduler.load_state_dict(state["scheduler_state_dict"])
    restore_rng_state(state["rng_state"])
    return state["step"]


def resume_keeps_fresh_lr(model, optimizer, scheduler, path):
    state = load_checkpoint(path)
    restore_rng_state(state["rng_state"])
    model.load_state_dict(state["model_state_dict"])
    opt = state["optimizer_state_dict"]
    opt["param_groups"][0]["lr"] = optimizer.param_groups[0]["lr"]
    optimizer.load_state_dict(opt)
    scheduler.load_state_dict(state["scheduler_state_dict"])
    return state["step"]


def test_resume_checker(nb):
    assert_rejected(ch11.check_resume_training, resume_torch_rng_only, "NumPy RNG")
    assert_rejected(ch11.check_resume_training, resume_no_exp_avg_sq, "exp_avg_sq")
    assert_rejected(ch11.check_resume_training, resume_keeps_fresh_lr, "learning rate")
    assert_passes(ch11.check_resume_training, nb.resume_training)
    assert_rejected(ch11.check_resume_training, resume_as_printed)
    assert_rejected(ch11.check_resume_training, resume_without_scheduler, "scheduler")
    assert_rejected(ch11.check_resume_training, resume_without_rng, "RNG")
    assert_rejected(ch11.check_resume_training, resume_model_only, "exp_avg")
    assert_not_attempted(ch11.check_resume_training)


# --- Exercise 3 ------------------------------------------------------------------------------
def _f1(p, r):
    return 2 * p * r / (p + r) if p + r else 0.0


def f1_recall_unguarded(cm):  # 0/0 recall when a class is absent
    (tn, fp), (fn, tp) = np.asarray(cm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = _f1(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn))
        neg = _f1(tn / (tn + fn) if tn + fn else 0.0, tn / (tn + fp))
    return {"f1_negative": neg, "f1_positive": pos, "macro_f1": (neg + pos) / 2}


def f1_negative_not_swapped(cm):  # the negative class scored with the positive class's FP/FN roles wrong
    (tn, fp), (fn, tp) = np.asarray(cm, dtype=float)
    pos = _f1(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)
    neg = _f1(tn / (tn + fp) if tn + fp else 0.0, tn / (tn + fn) if tn + fn else 0.0)
    # precision and recall swapped: same harmonic mean -> check this one is *accepted*
    return {"f1_negative": neg, "f1_positive": pos, "macro_f1": (neg + pos) / 2}


def f1_macro_is_accuracy(cm):  # micro-F1 (= accuracy) instead of macro
    (tn, fp), (fn, tp) = np.asarray(cm, dtype=float)
    pos = _f1(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)
    neg = _f1(tn / (tn + fn) if tn + fn else 0.0, tn / (tn + fp) if tn + fp else 0.0)
    return {"f1_negative": neg, "f1_positive": pos, "macro_f1": (tn + tp) / (tn + fp + fn + tp)}


def f1_negative_is_one_minus(cm):  # "the negative class is the complement"
    (tn, fp), (fn, tp) = np.asarray(cm, dtype=float)
    pos = _f1(tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)
    return {"f1_negative": 1 - pos, "f1_positive": pos, "macro_f1": 0.5}


def test_class_f1_checker(nb):
    from sklearn.metrics import f1_score

    assert_passes(ch11.check_prf, nb.class_f1)
    assert_passes(ch11.check_prf, f1_negative_not_swapped)   # F1 is symmetric in P and R
    assert_rejected(ch11.check_prf, f1_recall_unguarded)
    assert_rejected(ch11.check_prf, f1_macro_is_accuracy)
    assert_rejected(ch11.check_prf, f1_negative_is_one_minus)
    assert_not_attempted(ch11.check_prf)
    y, pred = np.array([0, 0, 1, 1, 1, 0, 1]), np.array([0, 1, 1, 0, 1, 0, 1])
    from sklearn.metrics import confusion_matrix
    got = nb.class_f1(confusion_matrix(y, pred))
    assert got["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro"))
    assert got["f1_negative"] == pytest.approx(f1_score(y, pred, pos_label=0))


# --- Exercise 4 ------------------------------------------------------------------------------
def mistakes_strict_threshold(labels, p, k):  # P = 0.5 read as negative
    labels, p = np.asarray(labels), np.asarray(p)
    wrong = (p > 0.5).astype(int) != labels
    conf = np.maximum(p, 1 - p)
    return {c: (r := np.flatnonzero(wrong & (labels == c)))[np.argsort(-conf[r], kind="stable")][:k].tolist()
            for c in (0, 1)}


def mistakes_not_per_class(labels, p, k):  # the same global top-k for both classes
    labels, p = np.asarray(labels), np.asarray(p)
    wrong = np.flatnonzero((p >= 0.5).astype(int) != labels)
    top = wrong[np.argsort(-np.maximum(p, 1 - p)[wrong], kind="stable")][:k].tolist()
    return {0: [i for i in top if labels[i] == 0], 1: [i for i in top if labels[i] == 1]}


def mistakes_ties_by_last_index(labels, p, k):  # reversed order among equal confidences
    labels, p = np.asarray(labels), np.asarray(p)
    wrong = (p >= 0.5).astype(int) != labels
    conf = np.maximum(p, 1 - p)
    out = {}
    for c in (0, 1):
        r = np.flatnonzero(wrong & (labels == c))
        out[c] = r[np.argsort(conf[r], kind="stable")[::-1]][:k].tolist()
    return out


def mistakes_including_right_ones(labels, p, k):
    labels, p = np.asarray(labels), np.asarray(p)
    conf = np.maximum(p, 1 - p)
    return {c: (r := np.flatnonzero(labels == c))[np.argsort(-conf[r], kind="stable")][:k].tolist()
            for c in (0, 1)}


def test_confident_mistakes_checker(nb):
    assert_passes(ch11.check_worst_mistakes, nb.confident_mistakes)
    assert_rejected(ch11.check_worst_mistakes, mistakes_strict_threshold)
    assert_rejected(ch11.check_worst_mistakes, mistakes_not_per_class)
    assert_rejected(ch11.check_worst_mistakes, mistakes_ties_by_last_index)
    assert_rejected(ch11.check_worst_mistakes, mistakes_including_right_ones)
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


def split_sized_by_test_share(strata, fractions, seed):  # validation cut to the test share
    rng = np.random.default_rng(seed)
    return _cut_each_stratum(strata, (fractions[0], fractions[2], fractions[1]), rng.permutation)


def split_global_rng(strata, fractions, seed):  # reproducible, but moves NumPy's global RNG
    np.random.seed(seed)
    return _cut_each_stratum(strata, fractions, np.random.permutation)


def keep_split_on_spaces(text, n, side):  # "a  b" has an empty word; newlines stay inside words
    words = text.split(" ")
    return " ".join(words[:n] if side == "start" else words[max(len(words) - n, 0):])


def keep_off_by_one(text, n, side):
    words = text.split()
    return " ".join(words[:n] if side == "start" else words[-n - 1:])


def test_truncation_experiment_checker(nb, texts):
    train, val = texts

    def check(keep, predict):
        return ch11.check_truncation_experiment(keep, predict, train, val, 12)

    assert_passes(check, (nb.keep_words, nb.predict))
    assert_passes(check, (nb.keep_words, lambda: "start"))   # an honest wrong guess is not a failure
    assert_rejected(check, (keep_ignores_side, nb.predict))
    assert_rejected(check, (keep_off_by_one, nb.predict))
    assert_rejected(check, (keep_split_on_spaces, nb.predict))
    assert_not_attempted(check, 2)
