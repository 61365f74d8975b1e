"""Checkers for chapter 01's exercises (attention scores, masks, heads, positions, LayerNorm)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_utils.checking import Case, CheckResult, Part, run_check, run_check_parts


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- Exercise 1: additive attention score --------------------------------------------------
def _additive_score(s, H, W_q, W_k, v):
    return torch.tanh((s @ W_q.T)[:, None, :] + H @ W_k.T) @ v


def check_additive_score(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 1: Bahdanau scores vᵀ tanh(W_q s + W_k h_j), shape (B, S)."""
    cases = []
    for seed, (b, s_len, d_s, d_h, d_a) in enumerate([(1, 1, 2, 2, 2), (2, 5, 3, 4, 6),
                                                       (4, 7, 8, 6, 5), (3, 12, 16, 32, 10)]):
        g = _gen(100 + seed)
        args = (torch.randn(b, d_s, generator=g), torch.randn(b, s_len, d_h, generator=g),
                torch.randn(d_a, d_s, generator=g), torch.randn(d_a, d_h, generator=g),
                torch.randn(d_a, generator=g))
        cases.append(Case(args=args, label=f"B={b}, S={s_len}, d_s={d_s}, d_h={d_h}, d_a={d_a}"))
    return run_check("Exercise 1 · additive_score", fn, cases, reference=_additive_score,
                     hint="W_q s has shape (B, d_a): add a key axis ([:, None, :]) so it "
                          "broadcasts against W_k h of shape (B, S, d_a); tanh; then @ v.")


# --- Exercise 2: decoder self-attention mask -------------------------------------------------
def _decoder_mask(tgt, pad_id=0):
    t = tgt.shape[1]
    return torch.ones(t, t, dtype=torch.bool).tril()[None] & (tgt != pad_id)[:, None, :]


def check_decoder_mask(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 2: (B, T, T) bool, causal AND key-not-padding."""
    cases = [
        Case(args=(torch.tensor([[1, 5, 6]]),), label="one sequence, no padding"),
        Case(args=(torch.tensor([[1, 5, 6, 0, 0], [1, 7, 8, 9, 2]]),),
             label="two sequences, the first padded with 0"),
        Case(args=(torch.tensor([[1, 4, 3, 3], [1, 3, 3, 3]]),), kwargs={"pad_id": 3},
             label="pad_id=3"),
        Case(args=(torch.randint(0, 4, (3, 9), generator=_gen(7)),), label="random (3, 9)"),
    ]
    return run_check("Exercise 2 · decoder_mask", fn, cases, reference=_decoder_mask,
                     hint="torch.tril(torch.ones(T, T, dtype=torch.bool)) is the causal part; "
                          "(tgt != pad_id)[:, None, :] marks real keys for every query; "
                          "combine with &.")


# --- Exercise 3: split and merge heads -------------------------------------------------------
def _split(x, n_heads):
    b, t, d = x.shape
    return x.view(b, t, n_heads, d // n_heads).transpose(1, 2)


def _merge(x):
    b, h, t, d = x.shape
    return x.transpose(1, 2).reshape(b, t, h * d)


def check_split_merge(split_fn: Callable[..., torch.Tensor],
                      merge_fn: Callable[[torch.Tensor], torch.Tensor]) -> CheckResult:
    """Exercise 3: split_heads (B, T, d) -> (B, h, T, d/h) and merge_heads back.

    Each function gets its own verdict: a finished split_heads is checked while merge_heads
    is still a stub.
    """
    shapes = [(1, 2, 4, 2), (2, 3, 8, 4), (2, 5, 12, 3), (3, 7, 16, 1), (1, 4, 6, 6)]
    xs = [(torch.randn(b, t, d, generator=_gen(20 + i)), h)
          for i, (b, t, d, h) in enumerate(shapes)]
    split_cases = [Case(args=(x, h), label=f"x of shape {tuple(x.shape)}, n_heads={h}")
                   for x, h in xs]
    merge_cases = [Case(args=(_split(x, h),), expected=x,
                        label=f"heads of shape {tuple(_split(x, h).shape)}") for x, h in xs]
    return run_check_parts("Exercise 3 · split_heads / merge_heads", [
        Part("split_heads", split_fn, split_cases, reference=_split, inputs_unchanged=True,
             hint="view as (B, T, h, d_head), then transpose(1, 2). Reshaping straight to "
                  "(B, h, T, d_head) mixes positions and features."),
        Part("merge_heads", merge_fn, merge_cases, inputs_unchanged=True,
             hint="transpose(1, 2) back to (B, T, h, d_head), then reshape to (B, T, h*d_head) "
                  "(reshape, not view: the transposed tensor is not contiguous)."),
    ])


# --- Exercise 4: sinusoidal positional encoding ---------------------------------------------
def _sinusoidal(max_len, d_model):
    position = torch.arange(max_len, dtype=torch.float64)[:, None]
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64)
                         * (-math.log(10000.0) / d_model))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term[: d_model // 2])
    return pe.float()


def check_sinusoidal_pe(fn: Callable[[int, int], torch.Tensor]) -> CheckResult:
    """Exercise 4: the (max_len, d_model) sinusoidal table (odd d_model too)."""
    cases = [Case(args=(m, d), label=f"max_len={m}, d_model={d}")
             for m, d in [(1, 2), (4, 4), (10, 16), (50, 7), (128, 64), (512, 32)]]
    return run_check("Exercise 4 · sinusoidal_pe", fn, cases, reference=_sinusoidal, atol=1e-4,
                     hint="column 2i: sin(pos / 10000^(2i/d)); column 2i+1: cos of the same "
                          "angle. For odd d there is one more sine column than cosine columns.")


# --- Exercise 5: masked attention (the masking bug) ------------------------------------------
def _masked_attention(q, k, v, mask):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return weights @ v, weights


def check_masked_attention(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> CheckResult:
    """Exercise 5: attention that masks *before* the softmax (True = may attend)."""
    cases = []
    g = _gen(50)
    q, k, v = torch.randn(1, 3, 4, generator=g), torch.randn(1, 5, 4, generator=g), \
        torch.randn(1, 5, 4, generator=g)
    cases.append(Case(args=(q, k, v, torch.tensor([[True, True, True, False, False]])[:, None]),
                      label="1 sequence, 2 padded keys"))
    q, k, v = (torch.randn(2, 2, 6, 6, generator=g) for _ in range(3))
    cases.append(Case(args=(q, k, v, torch.ones(6, 6, dtype=torch.bool).tril()),
                      label="causal mask, 2 heads"))
    q, k, v = torch.randn(3, 4, 8, generator=g), torch.randn(3, 6, 8, generator=g), \
        torch.randn(3, 6, 5, generator=g)
    keep = torch.arange(6)[None, None, :] < torch.tensor([6, 4, 1])[:, None, None]
    cases.append(Case(args=(q, k, v, keep), label="3 sequences with 6, 4 and 1 real keys"))
    cases.append(Case(args=(q, k, v, torch.ones(1, 1, 6, dtype=torch.bool)),
                      label="nothing masked"))

    return run_check("Exercise 5 · masked_attention", fn, cases, reference=_masked_attention,
                     hint="set the scores of masked pairs to -inf (masked_fill(~mask, ...)) "
                          "*before* the softmax, so each row renormalises over allowed keys.")


# --- Exercise 6: LayerNorm from scratch ------------------------------------------------------
def _layer_norm(x, gamma, beta, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)


def check_layer_norm(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 6: LayerNorm over the last dimension (biased variance)."""
    cases = []
    for i, shape in enumerate([(2, 4), (3, 5, 8), (1, 1, 16), (4, 3)]):
        g = _gen(60 + i)
        d = shape[-1]
        x = torch.randn(*shape, generator=g) * (3.0 + i) + i
        cases.append(Case(args=(x, torch.rand(d, generator=g) + 0.5, torch.randn(d, generator=g)),
                          label=f"x {shape}, random gamma and beta"))
    g = _gen(70)
    cases.append(Case(args=(torch.randn(2, 6, generator=g), torch.ones(6), torch.zeros(6)),
                      kwargs={"eps": 1e-2}, label="eps=1e-2"))
    return run_check("Exercise 6 · layer_norm", fn, cases, reference=_layer_norm, atol=1e-5,
                     hint="mean and var over dim -1 with keepdim=True and unbiased=False; "
                          "(x - mean) / sqrt(var + eps) * gamma + beta.")
