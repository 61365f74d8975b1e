"""Checkers for chapter 02's exercises (tokenization, repetition penalty, decoding, perplexity)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_utils import generation, tokenization
from course_utils.checking import Case, CheckResult, run_check
from course_utils.profile import current_profile


def _logits(seed: int, *shape: int, scale: float = 2.0) -> torch.Tensor:
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# -- Exercise 1: one BPE merge -------------------------------------------------------------
def _as_dict(value):
    return dict(value) if isinstance(value, dict) else value


def check_merge_pair(fn: Callable) -> CheckResult:
    """Exercise 1: ``merge_pair(word_freqs, pair) -> new word_freqs`` (one BPE merge step)."""
    toy = tokenization.word_frequencies(["low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3])
    cases = [
        Case(args=(toy, ("e", "s")), label="toy corpus, merge ('e', 's')"),
        Case(args=(toy, ("l", "o")), label="toy corpus, merge ('l', 'o')"),
        Case(args=({("a", "a", "a", "</w>"): 3}, ("a", "a")),
             label="{('a','a','a','</w>'): 3}, merge ('a','a') -- left to right, no overlap"),
        Case(args=({("a", "a", "a", "a"): 2, ("b", "a"): 1}, ("a", "a")),
             label="{('a','a','a','a'): 2, ('b','a'): 1}, merge ('a','a')"),
        Case(args=({("x", "y"): 1, ("y", "x"): 4}, ("y", "x")), label="pair order matters"),
        Case(args=({("h", "u", "g"): 10, ("p", "u", "g"): 5, ("p", "u", "n"): 12},
                   ("u", "g")), label="hug/pug/pun, merge ('u', 'g')"),
        Case(args=({("n", "e", "w"): 2, ("n", "e", "w", "s"): 1}, ("q", "z")),
             label="a pair that never occurs: nothing changes"),
        # symbols of several characters (later merges): string replacement on the joined
        # word would merge across symbol boundaries ("lo w" contains "o w")
        Case(args=({("lo", "w", "er", "</w>"): 2, ("l", "o", "w", "</w>"): 3}, ("o", "w")),
             label="{('lo','w','er','</w>'): 2, ('l','o','w','</w>'): 3}, merge ('o','w') -- "
                   "'lo' is one symbol: it has no 'o' of its own"),
        Case(args=({("ne", "w", "est", "</w>"): 6, ("n", "ew", "est", "</w>"): 1},
                   ("ne", "w")), label="multi-character symbols, merge ('ne', 'w')"),
        Case(args=({("a", "b"): 1, ("ab",): 2}, ("a", "b")),
             label="{('a','b'): 1, ('ab',): 2}, merge ('a','b') -- two words become one: "
                   "add their counts"),
    ]
    return run_check("Exercise 1 · merge_pair", fn, cases, reference=tokenization.merge_pair,
                     inputs_unchanged=True,
                     hint="walk through each word left to right; where symbols i, i+1 equal the "
                          "pair, emit pair[0] + pair[1] and jump 2, else emit symbol i and jump 1. "
                          "Work on tuples of symbols, not on joined strings; add the counts of "
                          "words that become equal; return a new dict of tuples.")


# -- Exercise 2: the repetition penalty ----------------------------------------------------
def check_repetition_penalty(fn: Callable) -> CheckResult:
    """Exercise 2: CTRL's penalty on logits (B, V) for the tokens in input_ids (B, T)."""
    cases = []
    for i, (b, v, t, penalty) in enumerate([(1, 8, 3, 1.5), (2, 20, 6, 1.3), (3, 50, 10, 2.0),
                                            (2, 12, 5, 1.0)]):
        g = torch.Generator().manual_seed(200 + i)
        logits = 2.0 * torch.randn(b, v, generator=g)  # positive and negative logits
        ids = torch.randint(0, v // 2, (b, t), generator=g)  # repeats within a row
        cases.append(Case(args=(logits, ids, penalty),
                          label=f"logits ({b}, {v}), ids ({b}, {t}) with repeats, "
                                f"penalty {penalty}"))
    return run_check("Exercise 2 · repetition_penalty", fn, cases,
                     reference=generation.apply_repetition_penalty, atol=1e-6,
                     inputs_unchanged=True,
                     hint="only the tokens that occur in a row's ids change, once each however "
                          "often they occur; the aim is always 'less likely', so a negative "
                          "logit must move *down* too. torch.gather / scatter (or a boolean "
                          "mask of seen tokens) do it without a Python loop.")


# -- Exercise 3: top-k ---------------------------------------------------------------------
def check_top_k_filter(fn: Callable) -> CheckResult:
    """Exercise 3: keep the k largest logits per row, set the others to -inf."""
    cases = [Case(args=(_logits(1, 10), 3)), Case(args=(_logits(2, 4, 50), 5)),
             Case(args=(_logits(3, 6), 1), label="k=1 is greedy"),
             Case(args=(_logits(4, 2, 8), 8), label="k = vocabulary size keeps everything"),
             Case(args=(torch.tensor([1.0, 3.0, 2.0, 0.5, 2.0]), 2),
                  label="ties with the k-th value are kept: [1, 3, 2, 0.5, 2], k=2"),
             Case(args=(_logits(5, 3, 7), 20), label="k larger than the vocabulary")]
    return run_check("Exercise 3 · top_k_filter", fn, cases, reference=generation.top_k_filter,
                     hint="torch.topk(logits, k).values[..., -1:] is the k-th largest value of "
                          "each row; mask logits < that with float('-inf'). Clip k to the "
                          "vocabulary size.")


# -- Exercise 4: top-p ---------------------------------------------------------------------
_DYADIC = torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.0625])


def check_top_p_filter(fn: Callable) -> CheckResult:
    """Exercise 4: keep the smallest set of most likely tokens with probability >= p."""
    probs = torch.tensor([0.5, 0.04, 0.25, 0.15, 0.06])  # no ties: any correct sort order agrees
    cases = [Case(args=(probs.log(), 0.6), label="probs [0.5, 0.04, 0.25, 0.15, 0.06], p=0.6"),
             Case(args=(probs.log(), 0.45), label="same probs, p=0.45 (top token alone)"),
             Case(args=(probs.log(), 0.93), label="same probs, p=0.93"),
             Case(args=(_logits(6, 12), 0.9)), Case(args=(_logits(7, 3, 40), 0.5)),
             Case(args=(_logits(8, 2, 30, scale=6.0), 0.3), label="peaked rows, p=0.3"),
             Case(args=(_logits(9, 20), 1.0), label="p=1 keeps everything"),
             # probabilities that are exact in float32, so the tokens above a candidate sum
             # to exactly p: it is removed (>= p), not kept (> p)
             Case(args=(_DYADIC.log(), 0.5),
                  label="probs [0.5, 0.25, 0.125, 0.0625, 0.0625], p=0.5: exactly p above "
                        "the second token"),
             Case(args=(_DYADIC.log()[[3, 1, 0, 4, 2]], 0.75),
                  label="probs [0.0625, 0.25, 0.5, 0.0625, 0.125], p=0.75")]
    return run_check("Exercise 4 · top_p_filter", fn, cases, reference=generation.top_p_filter,
                     hint="sort descending, softmax, cumulative sum; a token is removed if the "
                          "probability ranked *above* it (cumsum - its own prob) is already >= p. "
                          "The top token always survives. Scatter the mask back to vocabulary "
                          "order.")


# -- Exercise 5: one beam-search step -------------------------------------------------------
def _beam_cases() -> list[Case]:
    cases = []
    for i, (beams, vocab, keep) in enumerate([(1, 6, 2), (2, 5, 4), (3, 10, 6), (4, 7, 3)]):
        lp = F.log_softmax(_logits(20 + i, beams, vocab), dim=-1)
        scores = -torch.rand(beams, generator=torch.Generator().manual_seed(30 + i)) * 3
        cases.append(Case(args=(lp, scores, keep), label=f"{beams} beams, vocab {vocab}, keep {keep}"))
    lp = torch.log(torch.tensor([[0.6, 0.3, 0.1], [0.9, 0.05, 0.05]]))
    cases.append(Case(args=(lp, torch.tensor([-0.1, -1.0]), 3),
                      label="beam scores [-0.1, -1.0]: beam 1's best token (0.9) loses to beam 0's"))
    return cases


def check_beam_search_step(fn: Callable) -> CheckResult:
    """Exercise 5: ``(log_probs (beams, V), beam_scores (beams,), k) -> (scores, beam, token)``."""
    return run_check("Exercise 5 · beam_search_step", fn, _beam_cases(),
                     reference=generation.beam_search_step,
                     hint="add each beam's score to its row of log-probs, flatten to "
                          "(beams * V,), torch.topk(k); beam = index // V, token = index % V. "
                          "Return int64 tensors for beam and token, best candidate first.")


# -- Exercise 6: perplexity from logits -----------------------------------------------------
def _perplexity(logits: torch.Tensor, targets: torch.Tensor) -> float:
    return generation.perplexity_from_logits(logits, targets)


def check_perplexity(fn: Callable) -> CheckResult:
    """Exercise 6: exp(mean cross-entropy) of logits (B, T, V) vs targets (B, T), -100 ignored."""
    g = torch.Generator().manual_seed(42)
    targets = torch.randint(0, 9, (2, 6), generator=g)
    masked = targets.clone()
    masked[0, :2] = -100
    cases = [Case(args=(torch.zeros(1, 5, 10), torch.randint(0, 10, (1, 5), generator=g)),
                  label="uniform logits over 10 tokens (perplexity must be 10)"),
             Case(args=(_logits(50, 2, 6, 9), targets)),
             Case(args=(_logits(51, 3, 4, 100), torch.randint(0, 100, (3, 4), generator=g))),
             Case(args=(_logits(52, 2, 6, 9), masked), label="targets with -100 (ignored)")]

    def same(got, expected) -> bool:
        return isinstance(got, (int, float)) and math.isclose(float(got), expected, rel_tol=1e-4)

    return run_check("Exercise 6 · perplexity", fn, cases, reference=_perplexity, comparator=same,
                     hint="F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), "
                          "ignore_index=-100) is the mean negative log-likelihood; exp() of it, "
                          "returned as a Python float.")


# -- Exercise 7 (experiment): the repetition penalty under greedy decoding --------------------
def check_penalty_experiment(fn: Callable, *, low: float, high: float) -> CheckResult:
    """Exercise 7: ``fn()`` -> {penalty: (distinct-2, self-perplexity)} for a low and a high
    repetition penalty, greedy decoding.

    The effect to see: both rise with the penalty (fewer repeated word pairs, but text that the
    model itself finds less likely -- the penalty overrides its preferences).
    """
    def check(out: object) -> tuple[bool, str]:
        want = (f"a dict {{{low}: (distinct-2, perplexity), {high}: (...)}} with distinct-2 in "
                f"[0, 1], perplexity >= 1, and both larger at penalty {high}")
        if not isinstance(out, dict) or not {low, high} <= set(out):
            return False, want
        try:
            (d_lo, p_lo), (d_hi, p_hi) = (tuple(map(float, out[t])) for t in (low, high))
        except (TypeError, ValueError):
            return False, want
        if not (0 <= d_lo <= 1 and 0 <= d_hi <= 1 and p_lo >= 1 and p_hi >= 1):
            return False, want
        if current_profile().name == "smoke":  # a 20-step GPT: no effect to see
            return True, ""
        return d_hi > d_lo and p_hi > p_lo, want + f" (got {out})"

    return run_check("Exercise 7 · repetition-penalty experiment", fn,
                     [Case(check=check, label=f"your measurements at penalty {low} and {high}")],
                     hint="decode every prompt greedily with each penalty (continue_all with "
                          "gen.greedy_search(..., repetition_penalty=...)), then "
                          "continuation_stats gives both numbers.")
