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


TEMPS = dict(low=1.0, high=1.5)


@pytest.mark.parametrize("measured, ok", [
    ({1.0: (0.41, 3.2), 1.5: (0.83, 14.0)}, True),
    ({1.0: (0.83, 14.0), 1.5: (0.41, 3.2)}, False),  # the settings mixed up
    ({1.0: (0.41, 3.2), 1.5: (0.83, 2.9)}, False),  # perplexity must rise too
    ({1.0: (41, 3.2), 1.5: (83, 14.0)}, False),  # distinct-2 as a percentage
    ({1.0: (0.41, 3.2)}, False),
])
def test_penalty_experiment_checks_the_direction(measured, ok):
    from course_utils.checking import PASSED
    result = ch02.check_penalty_experiment(lambda: measured, **TEMPS)
    assert (result.status == PASSED) == ok, result.message
    assert_not_attempted(lambda fn: ch02.check_penalty_experiment(fn, **TEMPS))


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch02.check_top_k_filter(stub)


# --- More plausible wrong answers (cold review of chapters 01/02): each must be rejected. ------
def _merge(word_freqs, pair, step=2, first_only=False, key=tuple):
    out = {}
    for word, freq in word_freqs.items():
        symbols, i, merged = [], 0, False
        while i < len(word):
            if i + 1 < len(word) and (word[i], word[i + 1]) == pair and not (first_only and merged):
                symbols.append(word[i] + word[i + 1])
                i += step
                merged = True
            else:
                symbols.append(word[i])
                i += 1
        k = key(symbols)
        out[k] = out.get(k, 0) + freq
    return out


def _seen_penalty(logits, seen, p):
    return torch.where(seen, torch.where(logits < 0, logits * p, logits / p), logits)


def _penalty_union(logits, ids, p):  # a token seen in *any* row is penalised in every row
    seen = torch.zeros(logits.shape[-1], dtype=torch.bool)
    seen[ids.reshape(-1)] = True
    return _seen_penalty(logits, seen, p)


def _penalty_backwards(logits, ids, p):  # positives multiplied, negatives divided
    s = torch.gather(logits, 1, ids)
    return logits.scatter(1, ids, torch.where(s < 0, s / p, s * p))


def _penalty_last_only(logits, ids, p):  # only the last token of each row
    return _penalty(logits, ids[:, -1:], p)


def _kth(logits, k):
    return torch.topk(logits, min(k, logits.shape[-1]), dim=-1).values[..., -1:]


def _top_p_sorted(logits, p, mass_fn, scatter=True):
    sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
    remove = mass_fn(sorted_logits) >= p
    remove[..., 0] = False
    back = remove.scatter(-1, order, remove) if scatter else remove.gather(-1, order)
    return logits.masked_fill(back, float("-inf"))


def _beam_flat(log_probs, beam_scores, k, combine=lambda s, lp: s[:, None] + lp,
               transpose=False):
    total = combine(beam_scores, log_probs)
    total = total.T if transpose else total
    scores, flat = torch.topk(total.reshape(-1), k)
    return scores, flat // log_probs.shape[1], flat % log_probs.shape[1]


def _beam_per_beam(log_probs, beam_scores, k):  # best k of each beam, first k in beam order
    top, tok = torch.topk(beam_scores[:, None] + log_probs, min(k, log_probs.shape[1]), -1)
    beams = torch.arange(log_probs.shape[0])[:, None].expand_as(tok)
    return top.reshape(-1)[:k], beams.reshape(-1)[:k], tok.reshape(-1)[:k]


def _beam_divmod_beams(log_probs, beam_scores, k):  # index decoded with the beam count
    scores, flat = torch.topk((beam_scores[:, None] + log_probs).reshape(-1), k)
    return scores, flat // log_probs.shape[0], flat % log_probs.shape[0]


def _token_nll(logits, targets):
    v = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, v), targets.reshape(-1),
                           reduction="none").view(targets.shape), (targets != -100).float()


def _ppl_mean_of_rows(logits, targets):  # the mean of per-sequence perplexities
    nll, keep = _token_nll(logits, targets)
    return float(torch.exp((nll * keep).sum(1) / keep.sum(1)).mean())


def _ppl_all_positions(logits, targets):  # ignored positions still in the denominator
    nll, keep = _token_nll(logits, targets)
    return math.exp(float((nll * keep).sum()) / targets.numel())


def _ppl_mean_inverse_prob(logits, targets):  # mean of 1/p instead of exp(mean -ln p)
    nll, keep = _token_nll(logits, targets)
    return float(nll.exp()[keep.bool()].mean())


def _ppl_shifted(logits, targets):  # shifts again, as in LM training (already aligned here)
    v = logits.shape[-1]
    return math.exp(F.cross_entropy(logits[:, :-1].reshape(-1, v),
                                    targets[:, 1:].reshape(-1)).item())


MORE_WRONG = {
    "check_merge_pair": {
        "keys-as-strings": lambda wf, pair: _merge(wf, pair, key=" ".join),
        "first-occurrence-only": lambda wf, pair: _merge(wf, pair, first_only=True),
        "overlapping-merges": lambda wf, pair: _merge(wf, pair, step=1),
    },
    "check_repetition_penalty": {
        "union-over-the-batch": _penalty_union,
        "subtracts-log-penalty": lambda lg, ids, p: lg.scatter(
            1, ids, torch.gather(lg, 1, ids) - math.log(p)),
        "backwards-sign-rule": _penalty_backwards,
        "last-token-only": _penalty_last_only,
    },
    "check_top_k_filter": {
        "zero-not-minus-inf": lambda lg, k: lg.masked_fill(lg < _kth(lg, k), 0.0),
        "one-threshold-for-all-rows": lambda lg, k: lg.masked_fill(
            lg < torch.topk(lg.reshape(-1), min(k, lg.shape[-1])).values[-1], float("-inf")),
        "returns-probabilities": lambda lg, k: lg.masked_fill(
            lg < _kth(lg, k), float("-inf")).softmax(-1),
    },
    "check_top_p_filter": {
        "cumsum-of-logits": lambda lg, p: _top_p_sorted(lg, p, lambda s: s.cumsum(-1) - s),
        "gather-instead-of-scatter": lambda lg, p: _top_p_sorted(
            lg, p, lambda s: s.softmax(-1).cumsum(-1) - s.softmax(-1), scatter=False),
        "crossing-token-removed-top-kept": lambda lg, p: _top_p_sorted(
            lg, p, lambda s: s.softmax(-1).cumsum(-1)),
    },
    "check_beam_search_step": {
        "per-beam-topk-not-merged": _beam_per_beam,
        "averaged-scores": lambda lp, s, k: _beam_flat(lp, s, k, lambda a, b: (a[:, None] + b) / 2),
        "index-decoded-with-beam-count": _beam_divmod_beams,
        "transposed-before-flatten": lambda lp, s, k: _beam_flat(lp, s, k, transpose=True),
        "worst-first": lambda lp, s, k: tuple(t.flip(0) for t in _beam_flat(lp, s, k)),
    },
    "check_perplexity": {
        "mean-of-row-perplexities": _ppl_mean_of_rows,
        "exp-of-summed-nll": lambda lg, t: math.exp(F.cross_entropy(
            lg.reshape(-1, lg.shape[-1]), t.reshape(-1), reduction="sum").item()),
        "ignored-positions-in-denominator": _ppl_all_positions,
        "cross-entropy-not-exponentiated": lambda lg, t: _nll(lg, t).item(),
        "mean-inverse-probability": _ppl_mean_inverse_prob,
        "targets-shifted-again": _ppl_shifted,
    },
}


@pytest.mark.parametrize("checker, answer", wrong_params(MORE_WRONG))
def test_more_wrong_answers_rejected(checker, answer):
    assert_rejected(getattr(ch02, checker), answer)


@pytest.mark.parametrize("measured", [
    {1.0: (3.2, 0.41), 1.5: (14.0, 0.83)},  # (perplexity, distinct-2): tuple order swapped
    {"0.5": (0.41, 3.2), "1.5": (0.83, 14.0)},  # temperatures as strings
    {1.0: {"distinct-2": 0.41, "self-perplexity": 3.2},
     1.5: {"distinct-2": 0.83, "self-perplexity": 14.0}},  # continuation_stats dicts as they come
    {1.0: (0.41, 3.2), 1.5: (0.41, 3.2)},  # the same penalty decoded twice
])
def test_penalty_experiment_rejects_more_wrong_measurements(measured):
    assert_rejected(lambda fn: ch02.check_penalty_experiment(fn, **TEMPS), lambda: measured)


def test_transformers_top_p_rule_passes_the_checker():
    """HF's TopPLogitsWarper (ascending cumulative sum) is a correct answer too."""
    from transformers import TopPLogitsWarper

    def hf_top_p(logits, p):
        flat = logits.reshape(-1, logits.shape[-1])
        out = TopPLogitsWarper(top_p=p, min_tokens_to_keep=1)(None, flat.clone()) \
            if p < 1.0 else flat.clone()
        return out.reshape(logits.shape)

    assert_passes(ch02.check_top_p_filter, hf_top_p)
