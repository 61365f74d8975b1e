"""Chapter 02 checkers: the notebook's answers pass, plausible wrong answers fail, stubs wait."""

import math

import pytest
import torch
import torch.nn.functional as F

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected, solution, \
    stub, wrong_params
from course_utils import generation, tokenization
from course_utils._maintain.testing import solution_notebook
from course_utils.checking import ExerciseNotSolved
from course_utils.exercises import ch02

pytestmark = pytest.mark.usefixtures("lenient_checkers")

NOTEBOOK = solution_notebook("02_gpt_generation.ipynb")  # the nb fixture imports NAMES
NAMES = ["merge_pair", "causal_attention", "top_k_filter", "top_p_filter", "beam_search_step",
         "perplexity"]
SOLUTIONS = {"check_merge_pair": "merge_pair", "check_causal_attention": "causal_attention",
             "check_top_k_filter": "top_k_filter", "check_top_p_filter": "top_p_filter",
             "check_beam_search_step": "beam_search_step", "check_perplexity": "perplexity"}


def merge_right_to_left(word_freqs, pair):
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


def merge_by_string_replace(word_freqs, pair):  # the classic shortcut: wrong for long symbols
    out = {}
    for word, freq in word_freqs.items():
        joined = " ".join(word).replace(" ".join(pair), "".join(pair))
        out[tuple(joined.split(" "))] = out.get(tuple(joined.split(" ")), 0) + freq
    return out


def merge_overwrites_counts(word_freqs, pair):
    return {tokenization.merge_pair({w: f}, pair).popitem()[0]: f for w, f in word_freqs.items()}


def merge_in_place(word_freqs, pair):  # edits the input dict (the exercise asks for a new one)
    new = tokenization.merge_pair(word_freqs, pair)
    word_freqs.clear()
    word_freqs.update(new)
    return word_freqs


def _attention(q, k, v, scale=True, diagonal=1, mask=True):
    scores = q @ k.transpose(-2, -1) / (math.sqrt(q.shape[-1]) if scale else 1.0)
    t = scores.shape[-1]
    if mask:
        scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool).triu(diagonal),
                                    float("-inf"))
    return scores.softmax(-1) @ v


def top_k_exactly_k(logits, k):  # breaks ties by index: keeps exactly k
    idx = torch.topk(logits, min(k, logits.shape[-1]), dim=-1).indices
    keep = torch.zeros_like(logits, dtype=torch.bool).scatter(-1, idx, True)
    return logits.masked_fill(~keep, float("-inf"))


def top_k_drops_kth(logits, k):  # <= instead of <
    kth = torch.topk(logits, min(k, logits.shape[-1]), dim=-1).values[..., -1:]
    return logits.masked_fill(logits <= kth, float("-inf"))


def top_k_no_clip(logits, k):  # k larger than the vocabulary crashes
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth, float("-inf"))


def _top_p(logits, p, strict=False, shift=True, scatter=True):
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    probs = sorted_logits.softmax(-1)
    mass = probs.cumsum(-1) - probs if shift else probs.cumsum(-1)
    remove = mass > p if strict else mass >= p
    remove[..., 0] = False
    if not scatter:
        return sorted_logits.masked_fill(remove, float("-inf"))
    return logits.masked_fill(remove.scatter(-1, order, remove), float("-inf"))


def beam_ignores_scores(log_probs, beam_scores, k):
    vocab = log_probs.shape[1]
    scores, flat = torch.topk(log_probs.reshape(-1), k)
    return scores, flat // vocab, flat % vocab


def beam_float_indices(log_probs, beam_scores, k):  # true division: float indices
    vocab = log_probs.shape[1]
    scores, flat = torch.topk((beam_scores[:, None] + log_probs).reshape(-1), k)
    return scores, flat / vocab, flat % vocab


def beam_swapped(log_probs, beam_scores, k):  # beam = index % V, token = index // V
    vocab = log_probs.shape[1]
    scores, flat = torch.topk((beam_scores[:, None] + log_probs).reshape(-1), k)
    return scores, flat % vocab, flat // vocab


def _nll(logits, targets, ignore=True):
    v = logits.shape[-1]
    t = targets if ignore else targets.clamp(min=0)
    return F.cross_entropy(logits.reshape(-1, v), t.reshape(-1), ignore_index=-100)


WRONG = {
    "check_merge_pair": {
        "right-to-left": merge_right_to_left,
        "string-replacement": merge_by_string_replace,
        "counts-overwritten": merge_overwrites_counts,
        "edits-its-input": merge_in_place,
    },
    "check_causal_attention": {
        "no-mask": lambda q, k, v: _attention(q, k, v, mask=False),
        "no-scaling": lambda q, k, v: _attention(q, k, v, scale=False),
        "diagonal-masked": lambda q, k, v: _attention(q, k, v, diagonal=0),
    },
    "check_top_k_filter": {
        "exactly-k-ties-dropped": top_k_exactly_k,
        "kth-dropped": top_k_drops_kth,
        "k-not-clipped": top_k_no_clip,
    },
    "check_top_p_filter": {
        "greater-instead-of-greater-equal": lambda lg, p: _top_p(lg, p, strict=True),
        "crossing-token-removed": lambda lg, p: _top_p(lg, p, shift=False),
        "not-scattered-back": lambda lg, p: _top_p(lg, p, scatter=False),
    },
    "check_beam_search_step": {
        "beam-scores-ignored": beam_ignores_scores,
        "float-indices": beam_float_indices,
        "beam-token-swapped": beam_swapped,
    },
    "check_perplexity": {
        "minus-100-not-ignored": lambda lg, t: math.exp(_nll(lg, t, ignore=False).item()),
        "tensor-not-float": lambda lg, t: _nll(lg, t).exp(),
        "base-2": lambda lg, t: 2 ** _nll(lg, t).item(),
    },
}


@pytest.mark.parametrize("checker", sorted(SOLUTIONS))
def test_solution_passes_and_stub_waits(nb, checker):
    check = getattr(ch02, checker)
    assert_passes(check, solution(nb, SOLUTIONS[checker]))
    assert_not_attempted(check)


@pytest.mark.parametrize("checker, answer", wrong_params(WRONG))
def test_wrong_answer_rejected(checker, answer):
    assert_rejected(getattr(ch02, checker), answer)


def test_library_references_pass():
    assert_passes(ch02.check_merge_pair, tokenization.merge_pair)
    assert_passes(ch02.check_top_p_filter, generation.top_p_filter)
    assert_passes(ch02.check_beam_search_step, generation.beam_search_step)


@pytest.mark.parametrize("answer, marker", [
    (beam_float_indices, "item [1] of the tuple differs: expected an integer dtype"),
    (merge_in_place, "changed its input in place"),
    (WRONG["check_perplexity"]["tensor-not-float"], "use .item()"),
])
def test_rejections_say_what_is_wrong(answer, marker):
    checker = {beam_float_indices: ch02.check_beam_search_step,
               merge_in_place: ch02.check_merge_pair}.get(answer, ch02.check_perplexity)
    assert_rejected(checker, answer, marker=marker)


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch02.check_top_k_filter(stub)
