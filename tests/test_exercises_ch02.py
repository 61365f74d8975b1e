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
NAMES = ["merge_pair", "repetition_penalty", "top_k_filter", "top_p_filter", "beam_search_step",
         "perplexity"]
SOLUTIONS = {"check_merge_pair": "merge_pair", "check_repetition_penalty": "repetition_penalty",
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


def _penalty(logits, ids, p, sign_aware=True, per_occurrence=False, in_place=False):
    out = logits if in_place else logits.clone()
    for b in range(ids.shape[0]):
        tokens = ids[b].tolist() if per_occurrence else sorted(set(ids[b].tolist()))
        for t in tokens:
            x = out[b, t]
            out[b, t] = (x * p if x < 0 else x / p) if sign_aware else x / p
    return out


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
    "check_repetition_penalty": {
        "divides-negative-logits-too": lambda lg, ids, p: _penalty(lg, ids, p, sign_aware=False),
        "compounds-per-occurrence": lambda lg, ids, p: _penalty(lg, ids, p, per_occurrence=True),
        "penalises-every-token": lambda lg, ids, p: torch.where(lg < 0, lg * p, lg / p),
        "edits-its-input": lambda lg, ids, p: _penalty(lg, ids, p, in_place=True),
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


def test_repetition_penalty_reference_matches_transformers():
    from transformers import RepetitionPenaltyLogitsProcessor

    g = torch.Generator().manual_seed(0)
    logits, ids = torch.randn(3, 40, generator=g), torch.randint(0, 40, (3, 12), generator=g)
    ours = generation.apply_repetition_penalty(logits, ids, 1.4)
    theirs = RepetitionPenaltyLogitsProcessor(1.4)(ids, logits.clone())
    assert torch.allclose(ours, theirs)


TEMPS = dict(low=0.5, high=1.5)


@pytest.mark.parametrize("measured, ok", [
    ({0.5: (0.41, 3.2), 1.5: (0.83, 14.0)}, True),
    ({0.5: (0.83, 14.0), 1.5: (0.41, 3.2)}, False),  # the temperatures mixed up
    ({0.5: (0.41, 3.2), 1.5: (0.83, 2.9)}, False),  # perplexity must rise too
    ({0.5: (41, 3.2), 1.5: (83, 14.0)}, False),  # distinct-2 as a percentage
    ({0.5: (0.41, 3.2)}, False),
])
def test_temperature_experiment_checks_the_direction(measured, ok):
    from course_utils.checking import PASSED
    result = ch02.check_temperature_experiment(lambda: measured, **TEMPS)
    assert (result.status == PASSED) == ok, result.message
    assert_not_attempted(lambda fn: ch02.check_temperature_experiment(fn, **TEMPS))


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch02.check_top_k_filter(stub)
