"""Checkers for chapter 11 (the end-to-end sentiment project)."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from course_utils.checking import Case, CheckResult, run_check
from course_utils.checkpoint import capture_rng_state, save_checkpoint
from course_utils.project import evaluation

# --- Exercise 1: a stratified three-way split --------------------------------------------


def _split_check(strata: list[str], fractions: tuple[float, float, float]
                 ) -> Callable[[Any], tuple[bool, str]]:
    n = len(strata)
    arr = np.asarray(strata)
    groups = {s: int((arr == s).sum()) for s in sorted(set(strata))}
    expected = ("three disjoint index arrays covering all rows, each stratum split "
                f"{fractions[0]:.0%}/{fractions[1]:.0%}/{fractions[2]:.0%} (±1 row per stratum "
                f"and split); strata sizes {groups}")

    def check(got: Any) -> tuple[bool, str]:
        if not isinstance(got, dict) or set(got) != {"train", "validation", "test"}:
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return False, f"{expected}\n   what differs: expected a dict with keys train, " \
                          f"validation, test; got {keys}"
        parts = {k: np.asarray(v).astype(np.int64).ravel() for k, v in got.items()}
        everything = np.concatenate(list(parts.values()))
        if len(everything) != len(set(everything.tolist())):
            both = [(a, b) for a in parts for b in parts if a < b
                    and np.intersect1d(parts[a], parts[b]).size]
            return False, f"{expected}\n   what differs: some rows are in two splits " \
                          f"({both[0][0]} and {both[0][1]}): that leaks test data into training"
        if sorted(everything.tolist()) != list(range(n)):
            return False, f"{expected}\n   what differs: the splits hold {len(everything)} " \
                          f"distinct rows of the {n}, or indices outside 0..{n - 1}"
        for name, frac in zip(("train", "validation", "test"), fractions):
            for stratum, size in groups.items():
                have = int((arr[parts[name]] == stratum).sum())
                if abs(have - frac * size) > 1.0 + 1e-9:
                    return False, (f"{expected}\n   what differs: {name} holds {have} rows of "
                                   f"stratum {stratum!r}; {frac:.0%} of its {size} rows is "
                                   f"{frac * size:.1f} -- the split is not stratified")
        return True, expected

    return check


def check_stratified_split(fn: Callable[..., dict]) -> CheckResult:
    """Exercise 1: ``fn(strata, fractions, seed)`` -> {train, validation, test} index arrays."""
    rng = np.random.default_rng(0)
    cases = []
    specs = [({"neg": 50, "pos": 50}, (0.7, 0.15, 0.15), "balanced, 100 rows, 70/15/15"),
             ({"neg": 180, "pos": 20}, (0.6, 0.2, 0.2), "imbalanced 180/20, 60/20/20"),
             ({"neg/easy": 80, "neg/hard": 20, "pos/easy": 80, "pos/hard": 20}, (0.7, 0.15, 0.15),
              "label x hard strata, 200 rows"),
             ({"a": 40, "b": 40, "c": 40}, (0.5, 0.25, 0.25), "three classes, sorted by class"),
             ({"neg": 100, "pos": 100}, (0.6, 0.1, 0.3), "uneven shares 60/10/30: validation != test")]
    for i, (sizes, fractions, label) in enumerate(specs):
        strata = [s for s, k in sizes.items() for _ in range(k)]
        if i != 3:  # shuffled rows; case 4 keeps them sorted (a head/tail split fails)
            strata = [strata[j] for j in rng.permutation(len(strata))]
        cases.append(Case(args=(strata, fractions, 0), check=_split_check(strata, fractions),
                          label=label))
    result = run_check("Exercise 1 · stratified_split", fn, cases,
                       hint="split each stratum on its own (or use train_test_split with "
                            "stratify= twice: first hold out validation + test, then cut that "
                            "part in two); every row goes to exactly one split.")
    if not result.ok:
        return result
    strata = ["neg"] * 30 + ["pos"] * 30   # sorted: without shuffling, train = the first rows
    fractions = (0.6, 0.2, 0.2)

    def three_calls() -> tuple[dict, dict, dict, bool]:
        before = np.random.get_state()[1].copy()
        calls = fn(strata, fractions, 3), fn(strata, fractions, 3), fn(strata, fractions, 4)
        return (*calls, bool(np.array_equal(before, np.random.get_state()[1])))

    def seeded(got: tuple[dict, dict, dict, bool]) -> tuple[bool, str]:
        want = "the same split for the same seed, a different one for another seed"
        a, b, c = ({k: sorted(np.asarray(v).astype(np.int64).ravel().tolist()) for k, v in d.items()}
                   for d in got[:3])
        if not got[3]:
            return False, f"{want}, without touching NumPy's global RNG\n   what differs: the " \
                          "global RNG moved (np.random.seed / np.random.permutation): that " \
                          "silently changes every later random draw in the notebook -- use " \
                          "rng = np.random.default_rng(seed) and rng.permutation"
        if a != b:
            return False, f"{want}\n   what differs: two calls with seed=3 gave different splits: " \
                          "the split ignores `seed` (use np.random.default_rng(seed)), so nobody " \
                          "can reproduce it"
        if a == c:
            return False, f"{want}\n   what differs: seed=3 and seed=4 gave the same split: the " \
                          "rows of each stratum are not shuffled (a file sorted by date or source " \
                          "would put its first rows in train)"
        return True, want

    return run_check("Exercise 1 · stratified_split, seeded shuffling", three_calls,
                     [Case(label="60 rows sorted by stratum; seeds 3, 3 and 4", check=seeded)],
                     hint="draw a permutation of each stratum's rows from "
                          "np.random.default_rng(seed) before cutting it.")


# --- Exercise 2: resume, corrected -------------------------------------------------------
def _tiny_run(steps: int, seed: int) -> tuple[nn.Module, torch.optim.Optimizer, Any]:
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 8), nn.Dropout(0.3), nn.ReLU(), nn.Linear(8, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.05)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / 4))
    for _ in range(steps):
        loss = model(torch.randn(5, 6)).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler


def _resume_case(steps: int, seed: int) -> Case:
    model, optimizer, scheduler = _tiny_run(steps, seed)
    folder = Path(tempfile.mkdtemp(prefix="ch11-resume-"))
    path = folder / f"step_{steps}.pt"
    rng = capture_rng_state()
    save_checkpoint(path, {"model_state_dict": model.state_dict(),
                           "optimizer_state_dict": optimizer.state_dict(),
                           "scheduler_state_dict": scheduler.state_dict(), "step": steps,
                           "rng_state": rng})
    next_draw = (torch.rand(3), np.random.rand(3), random.random())  # right after the checkpoint
    lrs = [g["lr"] for g in optimizer.param_groups]
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    moments = optimizer.state_dict()["state"]
    last_epoch = scheduler.state_dict()["last_epoch"]
    expected = (f"step {steps}; weights, AdamW moments, scheduler position (last_epoch "
                f"{last_epoch}) and the RNG restored")

    def run(fn: Callable[..., Any]) -> dict[str, Any]:
        fresh_model, fresh_opt, fresh_sched = _tiny_run(0, seed + 100)
        torch.manual_seed(12345)  # a different RNG position than at the checkpoint
        np.random.seed(12345)
        random.seed(12345)
        step = fn(fresh_model, fresh_opt, fresh_sched, str(path))
        return {"step": step, "model": fresh_model, "optimizer": fresh_opt,
                "scheduler": fresh_sched, "draw": (torch.rand(3), np.random.rand(3), random.random())}

    def check(got: dict[str, Any]) -> tuple[bool, str]:
        if got["step"] != steps:
            return False, f"{expected}\n   what differs: returned step {got['step']!r}, the " \
                          f"checkpoint was saved after step {steps}"
        for name, value in got["model"].state_dict().items():
            if not torch.equal(value, weights[name]):
                return False, f"{expected}\n   what differs: model weight {name} differs " \
                              f"(max |diff| {(value - weights[name]).abs().max():.3g})"
        state = got["optimizer"].state_dict()["state"]
        if len(state) != len(moments) or any(
                not torch.equal(state[k]["exp_avg"], moments[k]["exp_avg"]) for k in moments):
            return False, f"{expected}\n   what differs: the optimizer's moment estimates " \
                          "(exp_avg) were not restored: AdamW would restart its averages"
        if any(not torch.equal(state[k]["exp_avg_sq"], moments[k]["exp_avg_sq"]) for k in moments):
            return False, f"{expected}\n   what differs: the second moments (exp_avg_sq) differ " \
                          "from the checkpoint's: the first steps after resuming would be too large"
        got_lrs = [g["lr"] for g in got["optimizer"].param_groups]
        if got_lrs != lrs:
            return False, f"{expected}\n   what differs: the optimizer's learning rate is " \
                          f"{got_lrs}, the checkpoint's {lrs}: keep the saved param_groups"
        if got["scheduler"].state_dict()["last_epoch"] != last_epoch:
            return False, f"{expected}\n   what differs: the scheduler is at last_epoch " \
                          f"{got['scheduler'].state_dict()['last_epoch']}, not {last_epoch}: " \
                          "the warmup would start again"
        for which, g, w in zip(("torch", "NumPy", "Python"), got["draw"], next_draw):
            if not np.array_equal(np.asarray(g), np.asarray(w)):
                return False, f"{expected}\n   what differs: the {which} RNG was not restored " \
                              "(dropout masks and shuffling would differ from the uninterrupted " \
                              "run); course_utils.checkpoint.restore_rng_state restores all three"
        return True, expected

    case = Case(args=(), label=f"a checkpoint after {steps} steps (model with dropout, "
                                f"AdamW, warmup scheduler)", check=check)
    case.run = run  # type: ignore[attr-defined]
    return case


def check_resume_training(fn: Callable[..., int]) -> CheckResult:
    """Exercise 2: ``fn(model, optimizer, scheduler, path)`` restores everything, returns the step."""
    cases = [_resume_case(steps, seed) for steps, seed in ((3, 0), (7, 1))]
    runners = [c.run for c in cases]  # type: ignore[attr-defined]

    def wrapped(index: int) -> dict[str, Any]:
        return runners[index](fn)

    for i, case in enumerate(cases):
        case.args = (i,)
    return run_check("Exercise 2 · resume_training", wrapped, cases,
                     hint="load the file with course_utils.checkpoint.load_checkpoint; give each "
                          "load_state_dict its own entry of the dict (the source passed the whole "
                          "dict); the scheduler and the RNG are part of the training state too.")


# --- Exercise 3: per-class and macro F1 from one confusion matrix ------------------------
def _f1(tp: float, fp: float, fn: float) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _class_f1_reference(matrix: Any) -> dict[str, float]:
    (tn, fp), (fn, tp) = np.asarray(matrix, dtype=float)
    pos, neg = _f1(tp, fp, fn), _f1(tn, fn, fp)   # the negative class: TN are its hits
    return {"f1_negative": neg, "f1_positive": pos, "macro_f1": (neg + pos) / 2}


def check_prf(fn: Callable[[np.ndarray], dict]) -> CheckResult:
    """Exercise 3: ``fn(cm)`` with cm = [[TN, FP], [FN, TP]] -> F1 of each class and macro-F1."""
    matrices = [([[50, 10], [5, 35]], "TN 50, FP 10, FN 5, TP 35"),
                ([[90, 2], [30, 8]], "few positives found"),
                ([[10, 40], [1, 49]], "many false positives"),
                ([[20, 0], [7, 0]], "no positive predictions"),
                ([[10, 2], [0, 0]], "no positive reviews at all: positive recall is 0/0"),
                ([[0, 0], [3, 9]], "no negative reviews at all"),
                ([[400, 37], [61, 502]], "a test set of 1,000")]
    cases = [Case(args=(np.array(m),), label=label) for m, label in matrices]
    return run_check("Exercise 3 · class_f1", fn, cases, reference=_class_f1_reference,
                     atol=1e-9, rtol=1e-9,
                     hint="rows are the true class, columns the prediction. For the negative "
                          "class the roles swap: TN are its true positives, FN its false "
                          "positives, FP its misses. Macro-F1 is the plain mean of the two F1s; "
                          "define every 0/0 as 0.")


# --- Exercise 4: the most confident mistakes, per true class -----------------------------
def _confident_mistakes_reference(labels: Any, prob_positive: Any, k: int) -> dict[int, list[int]]:
    y, p = np.asarray(labels), np.asarray(prob_positive, dtype=float)
    wrong = (p >= 0.5).astype(np.int64) != y
    confidence = np.maximum(p, 1 - p)
    out = {}
    for cls in (0, 1):
        rows = np.flatnonzero(wrong & (y == cls))
        out[cls] = rows[np.lexsort((rows, -confidence[rows]))][:k].tolist()
    return out


def check_worst_mistakes(fn: Callable[..., Any]) -> CheckResult:
    """Exercise 4: {0: ..., 1: ...} the k most confident mistakes of each true class."""
    rng = np.random.default_rng(3)
    cases = []
    for i, (n, k) in enumerate(((20, 3), (50, 5), (12, 12), (30, 0))):
        labels = rng.integers(0, 2, n)
        probs = np.round(rng.uniform(0.01, 0.99, n), 2)   # 2 decimals: ties happen
        if i == 0:  # a very confident *right* answer that a wrong sort would pick
            probs[0], labels[0] = 0.999, 1
        cases.append(Case(args=(labels, probs, k), label=f"{n} predictions, k={k}"))
    cases.append(Case(args=(np.array([0, 1, 0, 1, 0]), np.array([0.5, 0.5, 0.9, 0.1, 0.9]), 3),
                      label="labels [0, 1, 0, 1, 0], P(pos) [0.5, 0.5, 0.9, 0.1, 0.9], k=3 "
                            "(P = 0.5 counts as positive; equal confidence: smaller index first)"))
    cases.append(Case(args=(np.array([1, 1, 1, 0]), np.full(4, 0.006), 2),
                      label="four reviews with P(pos) 0.006 each, k=2 (a pile-up of equal scores)"))

    def same(got: Any, expected: Any) -> tuple[bool, str]:
        want = {c: list(v) for c, v in expected.items()}
        try:
            have = {int(c): np.asarray(got[c]).astype(np.int64).ravel().tolist() for c in (0, 1)}
        except Exception:  # noqa: BLE001 -- any malformed answer is simply wrong
            return False, f"a dict {want}"
        return have == want, f"a dict {want}"

    return run_check("Exercise 4 · confident_mistakes", fn, cases, comparator=same,
                     reference=_confident_mistakes_reference,
                     hint="a mistake is a prediction (P(pos) >= 0.5 means positive) that differs "
                          "from the label; its confidence is max(p, 1 - p). For each true class, "
                          "sort its mistakes by confidence, highest first, equal confidence by "
                          "index (np.lexsort or a stable sort), and keep k.")


# --- Exercise 5 (experiment): which end of a review carries the label? -------------------
def _keep_reference(text: str, n: int, side: str) -> str:
    words = text.split()
    return " ".join(words[:n] if side == "start" else words[max(len(words) - n, 0):])


def _tfidf_accuracy(keep: Callable[[str, int, str], str], side: str, n: int,
                    train: tuple[Sequence[str], Sequence[int]],
                    val: tuple[Sequence[str], Sequence[int]]) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    x_train = vec.fit_transform([keep(t, n, side) for t in train[0]])
    clf = LogisticRegression(C=10.0, max_iter=2000).fit(x_train, np.asarray(train[1]))
    pred = clf.predict(vec.transform([keep(t, n, side) for t in val[0]]))
    return float((pred == np.asarray(val[1])).mean())


def _same_answer(got: Any, expected: Any) -> tuple[bool, str]:
    return got == expected, repr(expected)


def check_truncation_experiment(keep_words: Callable[[str, int, str], str],
                                predict: Callable[[], str],
                                train: tuple[Sequence[str], Sequence[int]],
                                val: tuple[Sequence[str], Sequence[int]],
                                n_words: int) -> CheckResult:
    """Exercise 5 (experiment): keep ``n_words`` from the start or the end of each review,
    fit TF-IDF + logistic regression on train, score on *validation*; ``predict()`` said
    before measuring which side wins ("start" or "end")."""
    texts = ["one two three four five", "a b", "Great acting. But the plot is thin.", "",
             "  Loved it.  Then\nthe  ending\tfell flat. "]  # runs of spaces, a newline, a tab
    cases = [Case(args=(t, n, side), label=f"{t!r}, n={n}, side={side!r}")
             for t in texts for n, side in ((2, "start"), (3, "end"), (10, "end"))]
    result = run_check("Exercise 5 · keep_words", keep_words, cases, reference=_keep_reference,
                       hint="split on whitespace; 'start' keeps the first n words, 'end' the "
                            "last n (all of them if the text is shorter); join with one space.")
    if not result.ok:
        return result
    acc = {side: _tfidf_accuracy(keep_words, side, n_words, train, val) for side in ("start", "end")}
    winner = "end" if acc["end"] > acc["start"] else "start"
    print(f"   validation accuracy keeping {n_words} words: start {acc['start']:.3f}, "
          f"end {acc['end']:.3f} -> the {winner} carries more of the label here")
    try:
        guess = predict()
    except NotImplementedError:
        guess = None
    if guess in ("start", "end"):
        print(f"   your prediction {guess!r} " + ("matched the measurement." if guess == winner else
              "did not match: a wrong guess is not an error -- ask why the measurement came out "
              "the other way."))
    else:
        print("   (predict() returned no guess: write it down before you measure next time)")
    return result
