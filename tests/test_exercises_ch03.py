"""Chapter 03 checkers: the notebook's answers pass, plausible wrong answers fail, stubs wait."""

import pytest
import torch
import torch.nn.functional as F

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected, solution, \
    stub, wrong_params
from course_utils._maintain.testing import solution_notebook
from course_utils.checking import ExerciseNotSolved
from course_utils.exercises import ch03

pytestmark = pytest.mark.usefixtures("one_thread", "lenient_checkers")

NOTEBOOK = solution_notebook("03_bert_mlm.ipynb")  # the nb fixture imports NAMES
NAMES = ["pair_inputs", "bert_mask", "mlm_loss_from_logits", "mean_pooling", "top_k_candidates",
         "word_ids_from_pieces", "own_sentence"]
SOLUTIONS = {"check_pair_inputs": "pair_inputs", "check_mask_tokens": "bert_mask",
             "check_mlm_loss": "mlm_loss_from_logits", "check_mean_pooling": "mean_pooling",
             "check_top_k": "top_k_candidates", "check_word_ids": "word_ids_from_pieces",
             "check_own_sentence": "own_sentence"}


def _pair(a, b, c, s, b_sep_segment=1, none_types=False, final_sep=True):
    ids, types = [c, *a, s], [0] * (len(a) + 2)
    if b is not None:
        ids += [*b] + ([s] if final_sep else [])
        types += [1] * len(b) + ([b_sep_segment] if final_sep else [])
    elif none_types:
        return ids, None
    return ids, types


def _mask(ids, mask_id, vocab, *, generator=None, special_guard=True, split=(0.8, 0.9),
          random_low=5, labels_everywhere=False, in_place=False, use_generator=True,
          specials=(0, 1, 2, 3, 4)):
    gen = generator if use_generator else None
    special = torch.isin(ids, torch.tensor(specials))
    selected = torch.rand(ids.shape, generator=gen) < 0.15
    if special_guard:
        selected &= ~special
    labels = ids.clone() if labels_everywhere else torch.where(selected, ids,
                                                               torch.full_like(ids, -100))
    u = torch.rand(ids.shape, generator=gen)
    out = ids if in_place else ids.clone()
    out[selected & (u < split[0])] = mask_id
    rnd = selected & (u >= split[0]) & (u < split[1])
    out[rnd] = torch.randint(random_low, vocab, ids.shape, generator=gen)[rnd]
    return out, labels


def _mlm_loss(lo, la, mode="mean-selected"):
    v = lo.shape[-1]
    per = F.cross_entropy(lo.reshape(-1, v), la.clamp(min=0).reshape(-1), reduction="none")
    keep = (la != -100).reshape(-1)
    if mode == "mean-all":
        return (per * keep).sum() / la.numel()
    if mode == "sum":
        return (per * keep).sum()
    return ((per * keep).sum() / keep.sum()).item()


def _pool(h, m, mode):
    w = m[..., None].float()
    if mode == "over-T":
        return (h * w).sum(1) / h.shape[1]
    if mode == "max":
        return (h * w + (w - 1) * 1e9).max(1).values
    return h.mean(1)


def _top_k(lo, k, ex, mode):
    if mode == "specials-kept":
        return lo.softmax(-1).topk(k)
    probs = lo.softmax(-1).clone()
    probs[list(ex)] = 0.0
    if mode == "not-renormalised":
        top = probs.topk(k)
        return top.values, top.indices
    lo = lo.clone()
    lo[list(ex)] = float("-inf")
    top = lo.topk(k)  # logits, not probabilities
    return top.values, top.indices


def _word_ids(tokens, mode):
    out, word = [], -1
    for tok in tokens:
        if tok in ("[CLS]", "[SEP]", "[PAD]") and mode != "specials-counted":
            out.append(None)
            if tok == "[SEP]" and mode == "restart-after-sep":
                word = -1
            continue
        if mode == "pieces-are-words" or not tok.startswith("##"):
            word += 1
        out.append(word)
    return out


WRONG = {
    "check_pair_inputs": {
        "b-sep-in-segment-0": lambda a, b, c, s: _pair(a, b, c, s, b_sep_segment=0),
        "types-none-without-b": lambda a, b, c, s: _pair(a, b, c, s, none_types=True),
        "no-final-sep": lambda a, b, c, s: _pair(a, b, c, s, final_sep=False),
    },
    "check_mask_tokens": {
        "always-mask-no-80-10-10": lambda *a, **k: _mask(*a, **k, split=(1.0, 1.0)),
        "specials-selected": lambda *a, **k: _mask(*a, **k, special_guard=False),
        "labels-everywhere": lambda *a, **k: _mask(*a, **k, labels_everywhere=True),
        "random-ids-may-be-special": lambda *a, **k: _mask(*a, **k, random_low=0),
        "random-ids-may-be-mask": lambda *a, **k: _mask(*a, **k, random_low=4),
        "unk-and-mask-not-special": lambda *a, **k: _mask(*a, **k, specials=(0, 2, 3)),
        "generator-ignored": lambda *a, **k: _mask(*a, **k, use_generator=False),
        "edits-its-input": lambda *a, **k: _mask(*a, **k, in_place=True),
        "all-labels-minus-100": lambda ids, m, v, *, generator=None: (
            ids.clone(), torch.full_like(ids, -100)),
    },
    "check_mlm_loss": {
        "mean-over-all-positions": lambda lo, la: _mlm_loss(lo, la, "mean-all"),
        "sum-not-mean": lambda lo, la: _mlm_loss(lo, la, "sum"),
        "float-not-tensor": lambda lo, la: _mlm_loss(lo, la),
    },
    "check_mean_pooling": {
        "padding-leaks-in": lambda h, m: _pool(h, m, "mean"),
        "divided-by-T": lambda h, m: _pool(h, m, "over-T"),
        "max-pooling": lambda h, m: _pool(h, m, "max"),
    },
    "check_top_k": {
        "specials-kept": lambda lo, k, ex: _top_k(lo, k, ex, "specials-kept"),
        "not-renormalised": lambda lo, k, ex: _top_k(lo, k, ex, "not-renormalised"),
        "logits-not-probabilities": lambda lo, k, ex: _top_k(lo, k, ex, "logits"),
    },
    "check_word_ids": {
        "pieces-are-words": lambda toks: _word_ids(toks, "pieces-are-words"),
        "specials-counted": lambda toks: _word_ids(toks, "specials-counted"),
        "restart-after-sep": lambda toks: _word_ids(toks, "restart-after-sep"),
        "positions-not-words": lambda toks: list(range(len(toks))),
    },
    "check_own_sentence": {
        "previous-mark-kept": lambda ids, p, b, c, s: _own(ids, p, b, c, s, "previous-mark"),
        "end-mark-dropped": lambda ids, p, b, c, s: _own(ids, p, b, c, s, "drop-end-mark"),
        "no-cls-sep": lambda ids, p, b, c, s: _own(ids, p, b, c, s, "no-specials"),
        "position-not-shifted-for-cls": lambda ids, p, b, c, s: _own(ids, p, b, c, s,
                                                                      "no-cls-shift"),
        "old-position": lambda ids, p, b, c, s: (_own(ids, p, b, c, s, "")[0], p),
        "only-full-stops": lambda ids, p, b, c, s: _own(ids, p, b[:1], c, s, ""),
        "sep-kept-twice": lambda ids, p, b, c, s: _own(ids, p, b, c, s, "sep-twice"),
        "assumes-cls-and-sep": lambda ids, p, b, c, s: _own(ids, p, b, c, s, "assume-specials"),
    },
}


def _own(ids, position, boundaries, cls_id, sep_id, mode):
    body_start = 1 if ids[0] == cls_id else 0
    body_end = len(ids) - 1 if ids[-1] == sep_id else len(ids)
    if mode == "assume-specials":  # as if every input were wrapped in [CLS] ... [SEP]
        body_start, body_end = 1, len(ids) - 1
    if mode == "sep-twice":
        body_end = len(ids)
    start = position
    while start > body_start and ids[start - 1] not in boundaries:
        start -= 1
    if mode == "previous-mark" and start > body_start:
        start -= 1
    end = position
    while end < body_end - 1 and ids[end] not in boundaries:
        end += 1
    if mode == "drop-end-mark" and ids[end] in boundaries:
        end -= 1
    body = list(ids[start:end + 1])
    if mode == "no-specials":
        return body, position - start
    shift = 0 if mode == "no-cls-shift" else 1
    return [cls_id, *body, sep_id], position - start + shift


@pytest.mark.parametrize("checker", sorted(SOLUTIONS))
def test_solution_passes_and_stub_waits(nb, checker):
    check = getattr(ch03, checker)
    assert_passes(check, solution(nb, SOLUTIONS[checker]))
    assert_not_attempted(check)


@pytest.mark.parametrize("checker, answer", wrong_params(WRONG))
def test_wrong_answer_rejected(checker, answer):
    assert_rejected(getattr(ch03, checker), answer)


def test_library_references_pass():
    assert_passes(ch03.check_pair_inputs, ch03.pair_inputs)
    assert_passes(ch03.check_top_k, ch03.top_k_candidates)
    assert_passes(ch03.check_word_ids, ch03.word_ids_from_pieces)
    assert_passes(ch03.check_mask_tokens, _mask)


@pytest.mark.parametrize("mistake, marker", [
    ("generator-ignored", "generator=generator"), ("edits-its-input", "changed its input"),
    ("all-labels-minus-100", "no token is selected")])
def test_masking_rejections_name_the_rule(mistake, marker):
    assert_rejected(ch03.check_mask_tokens, WRONG["check_mask_tokens"][mistake], marker=marker)


def test_masking_checker_leaves_the_global_rng_alone():
    before = torch.get_rng_state()
    ch03.check_mask_tokens(WRONG["check_mask_tokens"]["generator-ignored"])
    assert torch.equal(torch.get_rng_state(), before)


def test_pair_inputs_with_none_is_a_verdict_not_a_crash():
    result = assert_rejected(ch03.check_pair_inputs,
                             WRONG["check_pair_inputs"]["types-none-without-b"])
    assert "item [1] of the tuple differs: expected list, got None" in result.message


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch03.check_mean_pooling(stub)


def _reading(view):
    """A stand-in for the notebook's stance_reading: accuracy = a function of what is shown."""
    ids = [2, 11, 5, 21, 4, 23, 5, 31, 3]
    shown, at = (ids, 4) if view is None else view(ids, 4)
    return len(shown) / 100 + at / 1000


def test_sentence_only_reading_checks_both_numbers():
    kw = dict(reading=_reading, boundary_ids=[5, 6, 7], cls_id=2, sep_id=3)
    whole = _reading(None)
    cut = _reading(lambda ids, j: ch03.own_sentence(ids, j, [5, 6, 7], 2, 3))
    assert whole != cut
    good = ch03.check_sentence_only_reading(lambda: {"whole review": whole, "own sentence": cut},
                                            **kw)
    assert good.passed, str(good)
    for wrong in ({"whole review": whole, "own sentence": whole},  # the view was not used
                  {"whole review": cut, "own sentence": cut},
                  {"whole review": whole},  # a key missing
                  {"whole": whole, "own sentence": cut}):
        assert_rejected(lambda fn: ch03.check_sentence_only_reading(fn, **kw), lambda w=wrong: w)
    assert_not_attempted(lambda fn: ch03.check_sentence_only_reading(fn, **kw))
