"""Chapter 02 checkers: reference solutions pass, wrong ones fail with expected vs got, stubs are 'not attempted'."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import generation, tokenization
from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED
from course_utils.exercises import ch02


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "0")


def merge_overlapping(word_freqs, pair):  # wrong: merges "aaa" into "aa","aa" style right-to-left
    out = {}
    for word, freq in word_freqs.items():
        symbols = list(word)
        i = len(symbols) - 2
        while i >= 0:
            if (symbols[i], symbols[i + 1]) == pair:
                symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
            i -= 1
        out[tuple(symbols)] = out.get(tuple(symbols), 0) + freq
    return out


def causal_attention(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def full_attention(q, k, v):  # wrong: no mask
    return F.scaled_dot_product_attention(q, k, v)


def top_k_strict(logits, k):  # wrong: breaks ties by index, keeps exactly k
    idx = torch.topk(logits, min(k, logits.shape[-1]), dim=-1).indices
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, idx, True)
    return logits.masked_fill(~keep, float("-inf"))


def top_p_inclusive_wrong(logits, p):  # wrong: removes the token that crosses p
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    cum = sorted_logits.softmax(-1).cumsum(-1)
    remove = cum > p
    remove[..., 0] = False
    return logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))


def beam_step_no_scores(log_probs, beam_scores, k):  # wrong: ignores the beams' scores
    vocab = log_probs.shape[1]
    scores, flat = torch.topk(log_probs.reshape(-1), k)
    return scores, flat // vocab, flat % vocab


def perplexity_no_ignore(logits, targets):  # wrong: does not ignore -100 (clamps them to 0)
    return math.exp(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                    targets.clamp(min=0).reshape(-1)).item())


def stub(*args, **kwargs):
    raise NotImplementedError


CHECKERS = [
    (ch02.check_merge_pair, tokenization.merge_pair, merge_overlapping, "expected"),
    (ch02.check_causal_attention, causal_attention, full_attention, "expected"),
    (ch02.check_top_k_filter, generation.top_k_filter, top_k_strict, "ties"),
    (ch02.check_top_p_filter, generation.top_p_filter, top_p_inclusive_wrong, "expected"),
    (ch02.check_beam_search_step, generation.beam_search_step, beam_step_no_scores, "expected"),
    (ch02.check_perplexity, lambda lg, t: generation.perplexity_from_logits(lg, t),
     perplexity_no_ignore, "-100"),
]


@pytest.mark.parametrize("checker, good, bad, marker", CHECKERS,
                         ids=[c[0].__name__ for c in CHECKERS])
def test_checker_verdicts(checker, good, bad, marker, capsys):
    assert checker(good).status == PASSED
    result = checker(bad)
    assert result.status == FAILED
    assert "expected:" in result.message and "got:" in result.message
    assert marker in result.message
    assert checker(stub).status == NOT_ATTEMPTED
    assert "not attempted yet" in capsys.readouterr().out


def test_strict_mode_raises(monkeypatch):
    from course_utils.checking import ExerciseNotSolved

    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch02.check_top_k_filter(stub)
