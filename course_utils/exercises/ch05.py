"""Checkers for chapter 05 (parameter-efficient fine-tuning and prompt learning)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from course_utils.checking import Case, CheckResult, run_check
from course_utils.peft_methods import (bert_lora_parameters, extend_attention_mask,
                                       lora_embedding_forward, lora_forward, merge_lora_weight,
                                       verbalizer_scores)


def _randn(*shape: int, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _lora_case(d: int, k: int, r: int, alpha: float, seed: int, batch: tuple[int, ...] = (3,),
               bias: bool = True) -> tuple:
    x = _randn(*batch, k, seed=seed)
    w = _randn(d, k, seed=seed + 1)
    b = _randn(d, seed=seed + 2) if bias else None
    a = _randn(r, k, seed=seed + 3)
    bb = _randn(d, r, seed=seed + 4)  # non-zero B: a trained adapter
    return x, w, b, a, bb, alpha


def check_lora_forward(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 1: y = x Wᵀ + b + (α/r) x Aᵀ Bᵀ with W (d, k), A (r, k), B (d, r)."""
    specs = [(4, 4, 2, 4.0, 0, (3,), True, "square W (4x4), r=2, alpha=4"),
             (6, 5, 2, 2.0, 10, (3,), True, "W 6x5 (d != k), r=2, alpha=2 (scale 1)"),
             (3, 8, 1, 16.0, 20, (2, 4), True, "x with two batch dims, r=1, alpha=16"),
             (5, 7, 4, 8.0, 30, (2,), False, "no bias (None), r=4, alpha=8"),
             (8, 3, 3, 1.0, 40, (1,), True, "r=3, alpha=1 (scale 1/3)")]
    cases = [Case(args=_lora_case(d, k, r, alpha, seed, batch, bias), label=label)
             for d, k, r, alpha, seed, batch, bias, label in specs]
    return run_check("Exercise 1 · lora_forward", fn, cases, reference=lora_forward,
                     hint="the update is scaled by alpha / r, where r = lora_A.shape[0]; "
                          "x goes through A first (k -> r), then B (r -> d).")


def check_merge_lora(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 2: the merged weight W + (α/r) B A, shaped like W."""
    specs = [(4, 4, 2, 4.0, 0, "square W (4x4), r=2, alpha=4"),
             (6, 5, 2, 2.0, 10, "W 6x5 (d != k)"),
             (3, 8, 1, 16.0, 20, "W 3x8, r=1, alpha=16"),
             (5, 7, 5, 5.0, 30, "r=5, alpha=5 (scale 1)")]
    cases = [Case(args=(_randn(d, k, seed=s), _randn(r, k, seed=s + 1), _randn(d, r, seed=s + 2),
                        alpha), label=label) for d, k, r, alpha, s, label in specs]
    return run_check("Exercise 2 · merge_lora", fn, cases, reference=merge_lora_weight,
                     hint="B (d, r) @ A (r, k) has the shape of W (d, k); multiply it by "
                          "alpha / r before adding.")


def check_lora_param_count(fn: Callable[..., int]) -> CheckResult:
    """Exercise 3: trainable LoRA parameters of a BERT config (no head)."""
    specs = [(768, 3072, 12, 8, ("q_proj", "v_proj")),
             (128, 512, 4, 4, ("q_proj", "v_proj")),
             (128, 512, 4, 4, ("q_proj", "k_proj", "v_proj", "out_proj", "c_fc", "c_proj")),
             (1024, 4096, 24, 16, ("q_proj", "v_proj")),
             (256, 1024, 4, 2, ("c_fc",)),
             (256, 1024, 6, 1, ("c_proj", "q_proj"))]
    cases = [Case(args=(h, f, n, r, t), label=f"H={h}, F={f}, L={n}, r={r}, targets={list(t)}")
             for h, f, n, r, t in specs]
    return run_check("Exercise 3 · lora_param_count", fn, cases, reference=bert_lora_parameters,
                     hint="one adapted weight (d_out, d_in) adds A (r, d_in) and B (d_out, r): "
                          "r·(d_in + d_out) parameters; the feed-forward layers are (F, H) and "
                          "(H, F); count every target in every layer.")


def check_prompt_mask(fn: Callable[[torch.Tensor, int], torch.Tensor]) -> CheckResult:
    """Exercise 4: the attention mask of prompt tuning, ones in front, dtype kept."""
    m1 = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    m2 = torch.tensor([[True, False, False]])
    m3 = torch.ones(3, 4, dtype=torch.long)
    m3[2, 1:] = 0
    cases = [Case(args=(m1, 2), label="2 reviews with padding, 2 virtual tokens"),
             Case(args=(m2, 4), label="a bool mask, 4 virtual tokens"),
             Case(args=(m3, 1), label="one virtual token"),
             Case(args=(m1, 20), label="more virtual tokens than text")]

    def same(got: object, expected: torch.Tensor) -> bool:
        return (isinstance(got, torch.Tensor) and got.dtype == expected.dtype
                and got.shape == expected.shape and bool(torch.equal(got, expected)))

    return run_check("Exercise 4 · prompt_attention_mask", fn, cases,
                     reference=extend_attention_mask, comparator=same,
                     hint="the virtual tokens are prepended, so their mask entries go in "
                          "front (dim 1), and they are always attended (1/True); keep the "
                          "input's dtype.")


def check_verbalizer(fn: Callable[[torch.Tensor, Sequence[Sequence[int]]], torch.Tensor]
                     ) -> CheckResult:
    """Exercise 5: class scores log Σ_{w ∈ class} p(w) under the full-vocabulary softmax."""
    cases = [Case(args=(_randn(2, 10, seed=0), [[1], [2]]), label="one word per class, V=10"),
             Case(args=(_randn(3, 50, seed=1), [[3, 7], [10, 11, 12]]),
                  label="several words per class"),
             Case(args=(4 * _randn(1, 30, seed=2), [[0, 1], [2], [5, 6]]), label="3 classes"),
             Case(args=(_randn(2, 20, seed=3) + 5.0, [[4, 8], [9, 15]]),
                  label="logits shifted by +5 (the answer must not change)")]
    return run_check("Exercise 5 · verbalizer_scores", fn, cases, reference=verbalizer_scores,
                     hint="log-softmax over the whole vocabulary first, then for each class "
                          "logsumexp over its words' log-probabilities.")


def check_rank_experiment(fn: Callable[[], dict[int, int]], *, r_small: int,
                          r_large: int) -> CheckResult:
    """Exercise 6 (experiment): measured numerical ranks of trained ΔW for two LoRA ranks.

    ``fn()`` runs the experiment and returns {LoRA rank r: numerical rank of the trained
    ΔW}. The effect to see: rank(ΔW) <= r always, and the larger r gives a larger rank.
    """
    def check(out: object) -> tuple[bool, str]:
        expected = (f"rank(ΔW) <= r for both, and rank at r={r_large} > rank at r={r_small} "
                    f"(got {out})")
        if not isinstance(out, dict) or not {r_small, r_large} <= set(out):
            return False, f"a dict with keys {r_small} and {r_large}"
        small, large = out[r_small], out[r_large]
        ok = (isinstance(small, int) and isinstance(large, int) and 1 <= small <= r_small
              and large <= r_large and large > small)
        return ok, expected

    return run_check("Exercise 6 · rank experiment", fn, [Case(check=check,
                     label=f"your measurements for r={r_small} and r={r_large}")],
                     hint="train the same LoRA layer with each rank, then count the singular "
                          "values of delta_weight() above 1e-4 x the largest (numerical_rank).")


def check_lora_embedding(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 7: a LoRA-adapted embedding lookup, E[x] + (α/r) Aᵀ[x] Bᵀ; A (r, V), B (H, r)."""
    specs = [(10, 4, 2, 4.0, (3, 5), 0, "V=10, H=4, r=2, alpha=4, ids (3, 5)"),
             (7, 6, 1, 16.0, (4,), 10, "r=1, alpha=16, one sequence of 4 ids"),
             (12, 3, 3, 3.0, (2, 2, 3), 20, "ids with two batch dims, r=3 (scale 1)"),
             (9, 5, 5, 2.0, (2, 6), 30, "r = H = 5, alpha=2: shapes do not catch a transpose")]
    cases = []
    for v, h, r, alpha, shape, seed, label in specs:
        ids = torch.randint(0, v, shape, generator=torch.Generator().manual_seed(seed))
        cases.append(Case(args=(ids, _randn(v, h, seed=seed + 1), _randn(r, v, seed=seed + 2),
                                _randn(h, r, seed=seed + 3), alpha), label=label))
    return run_check("Exercise 7 · lora_embedding_forward", fn, cases,
                     reference=lora_embedding_forward,
                     hint="a token id selects a row of E and a *column* of A (a row of A "
                          "transposed, length r); B (H, r) maps that code to H numbers; scale "
                          "by alpha / r.")
