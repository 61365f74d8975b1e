"""Chapter 03 checkers: references pass, typical mistakes fail with a reason, stubs are 'not attempted'."""

import pytest
import torch
import torch.nn.functional as F

from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED, ExerciseNotSolved
from course_utils.exercises import ch03
from course_utils.models.bert import mean_pool

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "0")


def good_mask(ids, mask_id, vocab, *, generator=None):
    special = ids < 5
    selected = (torch.rand(ids.shape, generator=generator) < 0.15) & ~special
    labels = torch.where(selected, ids, torch.full_like(ids, -100))
    u = torch.rand(ids.shape, generator=generator)
    out = ids.clone()
    out[selected & (u < 0.8)] = mask_id
    rnd = selected & (u >= 0.8) & (u < 0.9)
    out[rnd] = torch.randint(5, vocab, ids.shape, generator=generator)[rnd]
    return out, labels


def all_mask(ids, mask_id, vocab, *, generator=None):  # 100 % [MASK]: no 10/10
    special = ids < 5
    selected = (torch.rand(ids.shape, generator=generator) < 0.15) & ~special
    out = ids.clone()
    out[selected] = mask_id
    return out, torch.where(selected, ids, torch.full_like(ids, -100))


def masks_specials(ids, mask_id, vocab, *, generator=None):  # forgets to exclude [CLS]/[SEP]/[PAD]
    selected = torch.rand(ids.shape, generator=generator) < 0.15
    out = ids.clone()
    out[selected] = mask_id
    return out, torch.where(selected, ids, torch.full_like(ids, -100))


def labels_everywhere(ids, mask_id, vocab, *, generator=None):  # labels not -100 off-selection
    out, labels = good_mask(ids, mask_id, vocab, generator=generator)
    return out, ids.clone()


def random_any(ids, mask_id, vocab, *, generator=None):  # random ids may be special tokens
    special = ids < 5
    selected = (torch.rand(ids.shape, generator=generator) < 0.15) & ~special
    u = torch.rand(ids.shape, generator=generator)
    out = ids.clone()
    out[selected & (u < 0.8)] = mask_id
    rnd = selected & (u >= 0.8) & (u < 0.9)
    out[rnd] = torch.randint(0, vocab, ids.shape, generator=generator)[rnd]
    return out, torch.where(selected, ids, torch.full_like(ids, -100))


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("fn,status", [
    (good_mask, PASSED), (all_mask, FAILED), (masks_specials, FAILED),
    (labels_everywhere, FAILED), (random_any, FAILED), (stub, NOT_ATTEMPTED)])
def test_mask_checker_verdicts(fn, status):
    assert ch03.check_mask_tokens(fn).status == status


def test_other_checkers_accept_references_and_reject_common_mistakes():
    assert ch03.check_pair_inputs(ch03.pair_inputs).ok
    assert not ch03.check_pair_inputs(
        lambda a, b, c, s: ([c, *a, s, *(b or []), s], [0] * (len(a) + len((b or [])) + 3))).ok
    assert ch03.check_mlm_loss(lambda lo, la: F.cross_entropy(
        lo.reshape(-1, lo.shape[-1]), la.reshape(-1), ignore_index=-100)).ok
    # averaging over every position (treating -100 as zero loss) is wrong
    def mean_over_all(lo, la):
        keep = la != -100
        per = F.cross_entropy(lo.reshape(-1, lo.shape[-1]), la.clamp(min=0).reshape(-1),
                              reduction="none") * keep.reshape(-1)
        return per.sum() / la.numel()
    assert not ch03.check_mlm_loss(mean_over_all).ok
    assert ch03.check_mean_pooling(mean_pool).ok
    assert not ch03.check_mean_pooling(lambda h, m: h.mean(1)).ok  # padding leaks in
    assert ch03.check_top_k(ch03.top_k_candidates).ok
    assert not ch03.check_top_k(lambda lo, k, ex: lo.softmax(-1).topk(k)).ok  # specials kept
    assert ch03.check_word_ids(ch03.word_ids_from_pieces).ok
    assert not ch03.check_word_ids(lambda toks: list(range(len(toks)))).ok
    assert ch03.check_pair_inputs(stub).status == NOT_ATTEMPTED


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch03.check_mean_pooling(lambda h, m: h.mean(1))
