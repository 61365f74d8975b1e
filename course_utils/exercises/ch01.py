"""Checkers for chapter 01's exercises (a Luong step, masks, an LSTM cell, LayerNorm, the bottleneck)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_utils.checking import Case, CheckResult, compare, explain_mismatch, run_check
from course_utils.profile import current_profile


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- Exercise 1: one Luong decoder step ----------------------------------------------------
def _luong_step(s, H, mask, W_c):
    scores = (H @ s[:, :, None]).squeeze(-1)  # (B, S): dot score s·h_j
    alpha = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    context = (alpha[:, :, None] * H).sum(1)  # (B, d)
    return torch.tanh(torch.cat([context, s], dim=-1) @ W_c.T), alpha


def check_luong_step(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> CheckResult:
    """Exercise 1: Luong's attentional state tanh(W_c [c_t; s_t]) and the weights, dot score."""
    cases = []
    for seed, (b, s_len, d, n_pad) in enumerate([(1, 3, 2, 0), (2, 5, 4, 2), (3, 7, 6, 3),
                                                 (4, 9, 8, 0)]):
        g = _gen(100 + seed)
        mask = torch.ones(b, s_len, dtype=torch.bool)
        mask[0, s_len - n_pad:] = False  # the first sentence ends in padding
        H = torch.randn(b, s_len, d, generator=g)
        s_vec = torch.randn(b, d, generator=g)
        H[~mask] = 100.0 * s_vec.sign()[:, None, :].expand_as(H)[~mask]  # junk aligned with s
        cases.append(Case(args=(s_vec, H, mask,
                                torch.randn(d, 2 * d, generator=g) / d),
                          label=f"B={b}, S={s_len}, d={d}, {n_pad} padded keys in sentence 0"))
    return run_check("Exercise 1 · luong_step", fn, cases, reference=_luong_step, atol=1e-5,
                     hint="scores are one dot product per encoder state (batched matmul), masked "
                          "to -inf before a softmax over the S axis; the context is the "
                          "weighted sum of H; the output is tanh(W_c [context; s]) -- context "
                          "first, as in the table above.")


# --- Exercise 2: a prefix-LM mask ----------------------------------------------------------
def _prefix_lm_mask(tgt, prefix_len, pad_id=0):
    t = tgt.shape[1]
    pos = torch.arange(t)
    causal = pos[None, :] <= pos[:, None]  # (T, T): key j <= query i
    in_prefix = pos[None, None, :] < prefix_len[:, None, None]  # (B, 1, T): key j in the prefix
    return (causal[None] | in_prefix) & (tgt != pad_id)[:, None, :]


def check_prefix_lm_mask(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 2: (B, T, T) bool, prefix keys visible to every query, causal after, no padding."""
    cases = [
        Case(args=(torch.tensor([[5, 6, 7, 8]]), torch.tensor([2])),
             label="one sequence of 4, prefix 2"),
        Case(args=(torch.tensor([[5, 6, 7, 8, 0, 0], [5, 6, 7, 8, 9, 4]]), torch.tensor([3, 1])),
             label="two sequences, prefixes 3 and 1, the first padded with 0"),
        Case(args=(torch.tensor([[1, 4, 3, 3], [1, 3, 3, 3]]), torch.tensor([0, 4])),
             kwargs={"pad_id": 3}, label="prefix 0 (plain causal) and 4 (all prefix), pad_id=3"),
        Case(args=(torch.randint(1, 6, (3, 9), generator=_gen(7)), torch.tensor([4, 0, 9])),
             label="random (3, 9), prefixes 4, 0, 9"),
    ]
    return run_check("Exercise 2 · prefix_lm_mask", fn, cases, reference=_prefix_lm_mask,
                     hint="a key is visible if it is not padding AND (it is not in the future "
                          "OR it is in the prefix). The prefix length differs per sequence, so "
                          "that condition needs a batch axis; a prefix query must not see the "
                          "tokens generated after the prefix.")


# --- Exercise 3: an LSTM cell from its equations ---------------------------------------------
def _lstm_cell(x, h, c, cell):
    gates = x @ cell.weight_ih.T + cell.bias_ih + h @ cell.weight_hh.T + cell.bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)  # PyTorch's order: input, forget, cell, output
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c_new), c_new


def check_lstm_cell(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> CheckResult:
    """Exercise 3: one LSTM step (h_new, c_new) from nn.LSTMCell's weights, equal to the cell."""
    cases = []
    for seed, (b, d_in, d_h) in enumerate([(1, 2, 2), (3, 5, 4), (2, 8, 16), (4, 3, 7)]):
        torch.manual_seed(200 + seed)
        cell = torch.nn.LSTMCell(d_in, d_h)
        with torch.no_grad():  # larger weights: gates away from 0.5, so swapped gates show
            for p in cell.parameters():
                p.mul_(3.0)
        g = _gen(300 + seed)
        x, h, c = (torch.randn(b, d, generator=g) for d in (d_in, d_h, d_h))
        cases.append(Case(args=(x, h, c, cell),
                          label=f"nn.LSTMCell({d_in}, {d_h}), batch {b}"))

    def reference(x, h, c, cell):
        with torch.no_grad():
            return tuple(t.detach() for t in cell(x, (h, c)))

    return run_check("Exercise 3 · lstm_cell", fn, cases, reference=reference, atol=1e-5,
                     hint="all four gates come out of one matmul each for x and h (weight_ih, "
                          "weight_hh, both biases); split them with chunk(4) in PyTorch's "
                          "order i, f, g, o; only g gets tanh, the other three sigmoid; "
                          "h = o * tanh(c_new).")


# --- Exercise 4: a masked softmax that survives empty rows -----------------------------------
def _masked_softmax(scores, mask):
    mask = mask.expand_as(scores)
    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1)
    return torch.where(mask.any(-1, keepdim=True), weights, torch.zeros_like(weights))


def check_masked_softmax(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 4: softmax over allowed keys only; a row with no allowed key is all zeros."""
    g = _gen(50)
    causal = torch.ones(5, 5, dtype=torch.bool).tril()
    no_first = torch.tensor([[False, True, True], [False, False, False], [True, False, True]])
    cases = [
        Case(args=(torch.randn(2, 5, generator=g), torch.tensor([[True] * 3 + [False] * 2,
                                                                 [True] * 5])),
             label="2 rows, 2 padded keys in the first"),
        Case(args=(torch.randn(2, 3, 5, 5, generator=g), causal),
             label="causal mask broadcast over (2, 3) batch x heads"),
        Case(args=(torch.randn(3, 3, generator=g) * 4, no_first),
             label="row 1 has no allowed key at all"),
        Case(args=(torch.tensor([[0.0, 1.0, 120.0], [95.0, 96.0, 0.0]]),
                   torch.tensor([[True, True, False], [True, True, True]])),
             label="a huge score on a masked key; large allowed scores"),
        Case(args=(torch.randn(2, 4, 6, generator=g) * 30,
                   torch.arange(6)[None, None, :] < torch.tensor([6, 0])[:, None, None]),
             label="large scores; sequence 2 is all padding"),
    ]

    def no_nan(out, expected):
        if isinstance(out, torch.Tensor) and out.is_floating_point() and torch.isnan(out).any():
            return False, "NaN in the output (a row where every key is masked?)"
        ok = compare(out, expected, atol=1e-5)
        return ok, "" if ok else explain_mismatch(out, expected, atol=1e-5)

    return run_check("Exercise 4 · masked_softmax", fn, cases, reference=_masked_softmax,
                     comparator=no_nan,
                     hint="mask before the softmax (masked probabilities must be exactly 0 and "
                          "each allowed row must sum to 1); with -inf a row with nothing "
                          "allowed becomes NaN, with a large negative number it becomes "
                          "uniform: detect those rows (mask.any(-1)) and write zeros there.")


# --- Exercise 5: LayerNorm from scratch ------------------------------------------------------
def _layer_norm(x, gamma, beta, eps=1e-5):
    return F.layer_norm(x, (x.shape[-1],), gamma, beta, eps)


def check_layer_norm(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 5: LayerNorm over the last dimension (biased variance)."""
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
    return run_check("Exercise 5 · layer_norm", fn, cases, reference=_layer_norm, atol=1e-5,
                     hint="mean and var over dim -1 with keepdim=True and unbiased=False; "
                          "(x - mean) / sqrt(var + eps) * gamma + beta.")


# --- Exercise 6 (experiment): does a wider summary vector remove the bottleneck? -------------
def check_bottleneck_experiment(fn: Callable[[], dict[str, float]], *, narrow: str, wide: str,
                                attention: str, measured: dict[str, float] | None = None,
                                min_gap: float = 0.3) -> CheckResult:
    """Exercise 6: long-string reversal accuracy of a narrow and a wide no-attention GRU
    and of the narrow GRU with attention (``fn()`` runs the experiment, returns them).

    ``measured`` holds the notebook's own numbers for the two narrow models (the answer must
    report those, not other ones). The effect to see: the attention model beats even the wide
    no-attention model on long strings by at least ``min_gap``.
    """
    def check(out: object) -> tuple[bool, str]:
        want = f"a dict with keys {narrow!r}, {wide!r}, {attention!r} and accuracies in [0, 1]"
        if not isinstance(out, dict) or not {narrow, wide, attention} <= set(out):
            return False, want
        try:
            values = {k: float(out[k]) for k in (narrow, wide, attention)}
        except (TypeError, ValueError):
            return False, want + " (convert tensors / numpy numbers with float())"
        if not all(0.0 <= v <= 1.0 for v in values.values()):
            return False, want
        for key, value in (measured or {}).items():
            if abs(values[key] - float(value)) > 1e-6:
                return False, (f"{key!r} = {float(value):.3f}, the notebook's own measurement on "
                               f"long strings (got {values[key]:.3f})")
        if out[wide] is out[narrow] or (values[wide] == values[narrow]
                                        and measured is None):
            return False, "a wide model trained separately (the two no-attention numbers are " \
                          "the same object)"
        gap = values[attention] - values[wide]
        if current_profile().name == "smoke":  # 20-step toy models: no effect to see
            return True, ""
        return gap >= min_gap, (f"{attention} ahead of {wide} by >= {min_gap} on long strings "
                                f"(measured gap {gap:+.3f})")

    return run_check("Exercise 6 · bottleneck experiment", fn,
                     [Case(check=check, label="your three measurements on long strings")],
                     hint="train each model with train_toy's recipe (same steps and seed), "
                          "decode the toy test set and score only strings of at least the "
                          "'long' length; keep every factor but the one you change.")
